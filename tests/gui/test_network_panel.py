"""Issue 28 in the window: the Diagnostics screen's Network panel, for an internal endpoint
whose name resolves only at the company's authenticating proxy (a real squid) and whose
certificate comes from a CA only in the machine's trust store, reached through a PAC file.
It says the route (the proxy, its password masked, and why) and that TLS through it is
verified; with a wrong proxy password the same row turns into a problem that says what to
set, as `doctor network` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from bridge_app.runtime import AppPaths
from tests.gui.conftest import Driver, free_port
from tests.integration._corp import (
    HOST,
    PASSWORD,
    USER,
    Corp,
    PacServer,
    corporate_network,
    set_entry,
)
from tests.integration._serve import ADMIN, ADMIN_PW

pytestmark = pytest.mark.gui


class Network(NamedTuple):
    corp: Corp
    pac_url: str


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with (
        corporate_network(tmp_path_factory.mktemp("gui-network")) as corp,
        PacServer(corp.squid.port) as pac,
    ):
        pac_url = f"{pac.url}/proxy.pac"
        set_entry(corp.home, "PROXY_PAC_URL", pac_url)
        set_entry(corp.home, "PROXY_USERNAME", USER)
        set_entry(corp.home, "PROXY_PASSWORD", PASSWORD)
        yield Network(corp, pac_url)


@pytest.fixture(scope="module")
def gui_home(network: Network) -> Iterator[AppPaths]:
    """The window on the data folder the CLI set up (its key file: no OS keyring), on a
    machine whose trust store holds the company CA."""
    from bridge_app.services import build_services

    overrides = {
        "BRIDGE_HOME": str(network.corp.home),
        "BRIDGE_KEYRING": "off",
        "BRIDGE_POLICY_FILE": str(network.corp.home / "no-machine-policy.yaml"),
        **network.corp.trust,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in overrides.items():
            patch.setenv(name, value)
        paths = AppPaths.from_environment()
        services = build_services(paths)
        try:
            services.settings.set("proxy.port", free_port())
        finally:
            services.close()
        yield paths


def _rows(gui: Driver, screen: object) -> dict[str, str]:
    gui.wait(lambda: not screen.busy and screen.ids.checks.data, what="the checks")  # type: ignore[attr-defined]
    return {r["headline"]: str(r["supporting"]) for r in screen.ids.checks.data}  # type: ignore[attr-defined]


def _show_row(gui: Driver, screen: object, headline: str, shot: str) -> None:
    """Scroll the list to ``headline`` and take the screenshot a person would see."""
    checks = screen.ids.checks  # type: ignore[attr-defined]
    headlines = [r["headline"] for r in checks.data]
    index = headlines.index(headline)
    checks.scroll_y = max(0.0, 1 - index / max(1, len(headlines) - 1))
    gui.idle()
    drawn = [w.headline for w in checks.children[0].children]
    assert headline in drawn, drawn
    gui.shot(shot)


def test_the_network_panel_names_the_route_and_tls_through_the_company_proxy(
    gui: Driver, network: Network, tmp_path: Path
) -> None:
    corp, squid_port = network.corp, network.corp.squid.port
    gui.log_in(ADMIN, ADMIN_PW)
    assert gui.main.show("diagnostics")
    screen = gui.page("diagnostics")
    rows = _rows(gui, screen)
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    headlines = list(rows)
    assert headlines.index("Network") < headlines.index(f"OK · Route to {where}"), headlines
    assert rows[f"OK · Route to {where}"] == (
        f"via http://{USER}:****@127.0.0.1:{squid_port} (the app's PAC file {network.pac_url} "
        f"says 'PROXY 127.0.0.1:{squid_port}; DIRECT')"
    )
    assert rows[f"OK · TLS to {where}"].startswith(
        f"verified: its certificate for {HOST}, issued by 'Test Corp Private CA'"
    ), rows
    assert all(PASSWORD not in text for text in rows.values())
    gui.at_size((1280, 800))
    _show_row(gui, screen, f"OK · Route to {where}", "diagnostics-network-1280x800")
    gui.at_size((800, 480))
    _show_row(gui, screen, f"OK · Route to {where}", "diagnostics-network-800x480")

    # The proxy's password changes (another process: the CLI); the panel, checked again,
    # names the refusal and what to set.
    set_entry(corp.home, "PROXY_PASSWORD", "not-the-password")
    screen.refresh()
    rows = _rows(gui, screen)
    problem = rows.get(f"Problem · TLS to {where}", "")
    assert problem.startswith(
        "no tunnel: the proxy answered the tunnel request with 'HTTP/1.1 407 Proxy "
        "Authentication Required' (it asks for Basic)\n"
    ), rows
    assert "an admin sets the shared entries PROXY_USERNAME and PROXY_PASSWORD" in problem
    assert "not-the-password" not in "".join(rows.values())
    assert screen.summary.endswith("1 problem(s) found"), screen.summary
    _show_row(gui, screen, f"Problem · TLS to {where}", "diagnostics-network-407-800x480")
