"""The dashboard's deployments panel with a real proxy routing a logical model over two
local upstreams: when the first answers 429 the panel says it cools down until when (the
second answers), then that the cooldown is over, then healthy once it answers again. A
request the company's policy refuses is counted as what it is, on the Dashboard and on the
Usage screen: a client request the bridge refused, not an upstream failure."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from bridge_app.runtime import AppPaths
from tests.gui.conftest import Driver, free_port
from tests.integration._upstream import FakeUpstream

pytestmark = pytest.mark.gui

ADMIN, ADMIN_PW = "alice", "Correct-Horse-Battery-9"
COOLDOWN_S = 10  # long enough to take the screenshots while it lasts


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[FakeUpstream, FakeUpstream]]:
    first, second = FakeUpstream().start(), FakeUpstream().start()
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture(scope="module")
def gui_home(
    tmp_path_factory: pytest.TempPathFactory, upstreams: tuple[FakeUpstream, FakeUpstream]
) -> Iterator[AppPaths]:
    """An installed app (admin account, a logical model `smart` of two deployments with a
    short cooldown) instead of the first-run wizard."""
    from bridge_app.services import build_services

    home = tmp_path_factory.mktemp("gui-deployments") / "bridge-home"
    old = os.environ.get("BRIDGE_HOME")
    os.environ["BRIDGE_HOME"] = str(home)
    # The company allows the logical model `smart` and nothing else.
    policy = home.parent / "policy.yaml"
    policy.write_text('models: {allow: ["smart"]}\n', encoding="utf-8")
    old_policy = os.environ.get("BRIDGE_POLICY_FILE")
    os.environ["BRIDGE_POLICY_FILE"] = str(policy)
    paths = AppPaths.from_environment()
    paths.ensure()
    first, second = upstreams
    services = build_services(paths)
    try:
        services.settings.set("proxy.port", free_port())
        services.auth.create_first_admin(ADMIN, ADMIN_PW)
        session = services.auth.login(ADMIN, ADMIN_PW)
        for name in ("KEY_A", "KEY_B"):
            services.env.set(session, name, f"sk-upstream-{name.lower()}-0123", scope="shared")
        remote = services.remote
        for upstream, key, order, ident in ((first, "KEY_A", 1, "primary"),
                                            (second, "KEY_B", 2, "secondary")):  # fmt: skip
            remote.add_deployment(
                "smart", "openai/up-model", author=ADMIN, api_base=upstream.base_url,
                key_envs=[key], order=order, deployment_id=ident,
            )  # fmt: skip
        remote.set_router(author=ADMIN, retries=2, cooldown_s=COOLDOWN_S, allowed_fails=0)
    finally:
        services.close()
    yield paths
    for name, value in (("BRIDGE_HOME", old), ("BRIDGE_POLICY_FILE", old_policy)):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _ask(gui: Driver, model: str = "smart", status: int = 200) -> None:
    supervisor = gui.app.ctx.supervisor
    answer = httpx.post(
        f"{supervisor.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {gui.app.ctx.services.proxy.master_key()}"},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=60,
    )
    assert answer.status_code == status, answer.text


def _line(text: str, deployment: str) -> str:
    found = [ln for ln in text.splitlines() if ln.startswith(f"smart · {deployment}:")]
    return found[0] if found else ""


def test_the_dashboard_says_a_deployment_cools_down_until_when_then_is_healthy_again(
    gui: Driver, upstreams: tuple[FakeUpstream, FakeUpstream]
) -> None:
    first, second = upstreams
    gui.wait(lambda: gui.app.root.current == "login", what="the login screen")
    login = gui.app.root.get_screen("login")
    login.ids.username.text, login.ids.password.text = ADMIN, ADMIN_PW
    gui.press(login.ids.submit)
    gui.wait(lambda: gui.app.root.current == "main", what="the main screen")
    dashboard = gui.page("dashboard")
    assert gui.main.show("dashboard")
    shown = dashboard.ids.deployments
    gui.wait(lambda: "start it to see each deployment" in shown.text, what="stopped text")
    if not dashboard.running:
        gui.press(dashboard.ids.toggle)
    gui.wait(lambda: dashboard.state == "running", timeout=120, what="the proxy running")
    gui.wait(
        lambda: _line(shown.text, "primary") == "smart · primary: healthy (no requests yet)",
        timeout=30,
        what="both deployments listed",
    )
    _ask(gui)  # priority 1 answers
    gui.wait(
        lambda: "(1 upstream calls, 0 failed)" in _line(shown.text, "primary"), what="1 answer"
    )

    # The first deployment answers 429: the second answers, the first cools down.
    first.fail_with = 429
    _ask(gui)
    assert [r["path"] for r in second.requests if "chat" in str(r["path"])]  # it answered
    gui.wait(lambda: "cooling down" in _line(shown.text, "primary"), what="the cooldown")
    said = _line(shown.text, "primary")
    match = re.match(r"smart · primary: cooling down until (\d\d:\d\d:\d\d) after 429: ", said)
    assert match, said
    (state,) = [s for s in gui.app.ctx.services.remote.routing().states if s.id == "primary"]
    assert state.cooldown_until is not None
    assert match.group(1) == time.strftime("%H:%M:%S", time.localtime(state.cooldown_until))
    assert "sk-upstream" not in shown.text  # the upstream echoes the key: masked
    assert (
        _line(shown.text, "secondary") == "smart · secondary: healthy (1 upstream calls, 0 failed)"
    )
    # Two requests from the client, whatever the router did behind them (the primary's 429
    # is its own count above, not a third request nor an error of the client's).
    gui.wait(lambda: dashboard.requests == "2 in total", what="two client requests")
    assert dashboard.error_rate == "0.0 %"
    # A model the policy does not allow: the bridge answers 403 itself, no upstream is
    # asked, and no deployment is marked failing for it.
    calls = len(first.requests) + len(second.requests)
    _ask(gui, model="other", status=403)
    assert len(first.requests) + len(second.requests) == calls
    gui.wait(
        lambda: dashboard.requests == "3 in total, 1 refused by the bridge",
        what="the refusal counted as one",
    )
    drawn = [w.text for w in dashboard.ids.requests_card.children if hasattr(w, "text")]
    assert "Requests per second (3 in total, 1 refused by the bridge)" in drawn, drawn
    assert dashboard.error_rate == "0.0 %"  # a refusal is not an error of the upstreams
    assert (
        _line(shown.text, "secondary") == "smart · secondary: healthy (1 upstream calls, 0 failed)"
    )
    for size, dims in {"800x480": (800, 480), "1280x800": (1280, 800)}.items():
        gui.at_size(dims)
        gui.shot(f"dashboard-deployments-{size}")

    # After the cooldown: no longer cooling down (its last call failed), and healthy again
    # as soon as it answers.
    first.fail_with = None
    gui.wait(
        lambda: _line(shown.text, "primary").startswith("smart · primary: failing, last error"),
        timeout=COOLDOWN_S + 30,
        what="the cooldown over",
    )
    _ask(gui)
    gui.wait(
        lambda: _line(shown.text, "primary").startswith("smart · primary: healthy"),
        timeout=30,
        what="healthy again",
    )
    assert "cooling down" not in shown.text

    # The Usage screen names the deployment that answered: the request that fell back
    # counts once, for the second one (the first's failed call, its 429, is the panel's
    # "failed" above, not a request of the client's).
    gui.app.ctx.services.proxy.usage.flush()
    assert gui.main.show("usage")
    usage = gui.page("usage")
    usage.refresh()
    gui.idle()
    # What the list draws (its row widgets), not only the data behind it.
    drawn = [(w.headline, w.supporting) for w in usage.ids.table.children[0].children]
    assert all(headline and numbers for headline, numbers in drawn), drawn
    rows = dict(drawn)
    one = f"answered by primary @ 127.0.0.1:{first.port}"
    two = f"answered by secondary @ 127.0.0.1:{second.port}"
    assert rows[two].startswith("1 request · 0 errors"), rows
    assert rows[one].startswith("2 requests · 0 errors"), rows
    assert rows["smart"].startswith("3 requests · 0 errors"), rows
    # The refused request: a row of its own, not "answered by" anyone, and not an error.
    refused = "1 request · 0 errors · 1 refused by the bridge · tokens 0 in / 0 out · 0 ms avg"
    assert rows["other"].startswith(refused), rows
    assert rows["refused by the bridge (no deployment asked)"].startswith(refused), rows
    assert not any(key.startswith("answered by (") for key in rows), rows
    summary = usage.summary
    assert summary.startswith("4 requests · 0 errors · 1 refused by the bridge"), summary
    # The average latency is of the answered requests: a refusal does not lower it.
    answered_avg = re.search(r"· (\d+) ms avg", rows["smart"])
    shown_avg = re.search(r"· (\d+) ms average", summary)
    assert answered_avg and shown_avg, (rows["smart"], summary)
    assert answered_avg.group(1) == shown_avg.group(1), (rows["smart"], summary)
    for size, dims in {"800x480": (800, 480), "1280x800": (1280, 800)}.items():
        gui.at_size(dims)
        gui.shot(f"usage-deployments-{size}")
    assert gui.main.show("dashboard")
    gui.press(dashboard.ids.toggle)  # stopped: the panel says so instead of a stale state
    gui.wait(lambda: "start it to see each deployment" in shown.text, timeout=60, what="stop")
