"""Issue 28 (proxies): the internal endpoint is only reachable through the company's
authenticating proxy. Its name resolves only at the proxy (a real squid with Basic
authentication and a hosts file of its own), its certificate comes from the company CA,
which is only in the machine's trust store. The bridge routes LiteLLM's calls through the
proxy the way IT set it: an HTTPS_PROXY entry, the system environment, or a PAC file."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import UNDER_WINE
from tests.integration._corp import (
    HOST,
    PASSWORD,
    USER,
    Corp,
    PacServer,
    answers,
    ask,
    corporate_network,
    set_entry,
    tunnels,
    with_credentials,
)
from tests.integration._serve import (
    Serve,
    cli,
    wait_until,
)
from tests.integration._squid import Squid
from tests.integration._upstream import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(UNDER_WINE, reason="squid runs on the Linux side; see test_os_trust"),
]


@pytest.fixture
def corp(tmp_path: Path) -> Iterator[Corp]:
    with corporate_network(tmp_path) as built:
        yield built


def _doctor(corp: Corp, *part: str, **extra: str) -> str:
    done = cli(corp.home, "doctor", *part, **corp.trust, **extra)
    assert PASSWORD not in done.stdout + done.stderr
    assert quote(PASSWORD, safe="") not in done.stdout + done.stderr
    return done.stdout


def _masked(squid: Squid) -> str:
    return f"http://{USER}:****@127.0.0.1:{squid.port}"


def test_an_https_proxy_entry_with_credentials_carries_every_call(corp: Corp) -> None:
    set_entry(corp.home, "HTTPS_PROXY", with_credentials(corp.squid.url))
    serve = Serve(corp.home, free_port(), **corp.trust)
    try:
        answers(serve, corp.home)
    finally:
        serve.stop()
    seen = tunnels(corp.squid)
    assert seen and all(f" {USER} " in line for line in seen), corp.squid.log()
    # `doctor` names the route and checks the certificate through the same tunnel (the
    # name does not resolve on this machine at all).
    doctor = _doctor(corp)
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    assert (
        f"ok   Route to {where}: via {_masked(corp.squid)} (the app's HTTPS_PROXY entry)"
    ) in doctor, doctor
    assert (
        f"ok   TLS to {where}: verified: its certificate for {HOST}, issued by 'Test Corp "
        "Private CA'"
    ) in doctor, doctor


def test_a_pac_file_routes_the_corporate_names_through_the_proxy_with_its_credentials(
    corp: Corp,
) -> None:
    """PROXY_PAC_URL names the company's PAC file; the proxy it picks gets the
    PROXY_USERNAME / PROXY_PASSWORD entries (a PAC file carries no credentials)."""
    with PacServer(corp.squid.port) as pac:
        pac_url = f"{pac.url}/proxy.pac"
        set_entry(corp.home, "PROXY_PAC_URL", pac_url)
        set_entry(corp.home, "PROXY_USERNAME", USER)
        set_entry(corp.home, "PROXY_PASSWORD", PASSWORD)
        serve = Serve(corp.home, free_port(), **corp.trust)
        try:
            answers(serve, corp.home)
        finally:
            serve.stop()
        assert tunnels(corp.squid), corp.squid.log()
        doctor = _doctor(corp)
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    said = f"the app's PAC file {pac_url} says 'PROXY 127.0.0.1:{corp.squid.port}; DIRECT'"
    assert f"ok   Route to {where}: via {_masked(corp.squid)} ({said})" in doctor, doctor
    assert f"ok   TLS to {where}: verified" in doctor, doctor


def test_the_systems_proxy_setting_is_used_when_the_app_sets_none(corp: Corp) -> None:
    """HTTPS_PROXY in the environment the app starts with (what a login script or the
    desktop's proxy settings export); the credentials come from the app's entries."""
    set_entry(corp.home, "PROXY_USERNAME", USER)
    set_entry(corp.home, "PROXY_PASSWORD", PASSWORD)
    system = {"HTTPS_PROXY": corp.squid.url, "NO_PROXY": "example.org"}
    serve = Serve(corp.home, free_port(), **corp.trust, **system)
    try:
        answers(serve, corp.home)
    finally:
        serve.stop()
    assert tunnels(corp.squid), corp.squid.log()
    doctor = _doctor(corp, **system)
    assert f"via {_masked(corp.squid)} (the system's HTTPS_PROXY)" in doctor, doctor


def test_refused_proxy_credentials_are_named_in_doctor_and_status(corp: Corp) -> None:
    set_entry(corp.home, "HTTPS_PROXY", corp.squid.url)
    set_entry(corp.home, "PROXY_USERNAME", USER)
    set_entry(corp.home, "PROXY_PASSWORD", "not-the-password")
    serve = Serve(corp.home, free_port(), **corp.trust)
    try:
        r = ask(serve, corp.home)
        assert r.status_code >= 500, r.text[:500]
        assert "407, message='Proxy Authentication Required'" in r.text, r.text[:500]

        # The status another process reads is published about once a second.
        def failing() -> subprocess.CompletedProcess[str] | None:
            done = cli(corp.home, "status")
            return done if "failing" in done.stdout else None

        status = wait_until(failing, timeout=10)
        assert status is not None, cli(corp.home, "status").stdout
        assert "internal-chat#1: failing" in status.stdout, status.stdout
        assert "Proxy Authentication Required" in status.stdout, status.stdout
        assert "an admin sets the shared entries PROXY_USERNAME and PROXY_PASSWORD" in (
            status.stdout
        )
        assert "not-the-password" not in status.stdout + r.text
    finally:
        serve.stop()
    assert any("TCP_DENIED/407" in line for line in corp.squid.log()), corp.squid.log()
    doctor = _doctor(corp, "network")
    assert doctor.startswith("Network (each endpoint of the active config):"), doctor
    assert "database" not in doctor, doctor  # only the network part
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    assert (
        f"FAIL TLS to {where}: no tunnel: the proxy answered the tunnel request with "
        "'HTTP/1.1 407 Proxy Authentication Required'"
    ) in doctor, doctor
    assert "wants credentials it did not get or refused" in doctor, doctor


def test_the_iam_login_goes_the_same_route_through_the_proxy(tmp_path: Path) -> None:
    """The IAM too is known only to the proxy; the token login takes the route of the same
    rules (here a PAC file and the credential entries), and squid logs the call as the
    employee's proxy user."""
    from bridge_app.devtools import FakeIam
    from bridge_app.tokens import IamClient, IamError, IamSettings

    iam = FakeIam({"E42": "employee-pw-42"}).start()
    squid = Squid(users={USER: PASSWORD}, hosts={"iam.corp.test": "127.0.0.1"})
    try:
        with PacServer(squid.port) as pac:
            entries = {
                "PROXY_PAC_URL": f"{pac.url}/proxy.pac",
                "PROXY_USERNAME": USER,
                "PROXY_PASSWORD": PASSWORD,
            }
            url = f"http://iam.corp.test:{iam.port}/token"
            client = IamClient(
                IamSettings(url=url, token_path="data.access_token"), network=entries
            )
            grant = client.fetch_token("E42", "employee-pw-42")
            assert iam.valid(grant.token)
            refused = IamClient(
                IamSettings(url=url, token_path="data.access_token"),
                network={**entries, "PROXY_PASSWORD": "wrong"},
            )
            with pytest.raises(IamError) as refusal:
                refused.fetch_token("E42", "employee-pw-42")
            assert refusal.value.message.startswith(
                f"The company proxy http://{USER}:****@127.0.0.1:{squid.port} refused to carry "
                "the IAM call (HTTP 407 Proxy Authentication Required)"
            ), refusal.value.message
            assert "PROXY_USERNAME and PROXY_PASSWORD" in (refusal.value.hint or "")
            log = squid.log()  # before stop(), which removes squid's folder
    finally:
        squid.stop()
        iam.stop()
    posts = [line for line in log if f" POST {url} " in line]
    assert any("/200 " in line and f" {USER} " in line for line in posts), log
    assert any("TCP_DENIED/407" in line for line in posts), log
