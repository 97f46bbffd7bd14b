"""Issue 28 (proxies): the internal endpoint is only reachable through the company's
authenticating proxy. Its name resolves only at the proxy (a real squid with Basic
authentication and a hosts file of its own), its certificate comes from the company CA,
which is only in the machine's trust store. The bridge routes LiteLLM's calls through the
proxy the way IT set it: an HTTPS_PROXY entry, the system environment, or a PAC file."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import httpx
import pytest

from bridge_app.devtools import FakeInternalUpstream, LoopbackServer
from tests.conftest import UNDER_WINE
from tests.integration._litellm_cli import make_private_ca
from tests.integration._serve import (
    ADMIN,
    ADMIN_PW,
    Serve,
    as_admin,
    cli,
    create_admin,
    wait_until,
)
from tests.integration._squid import Squid
from tests.integration._upstream import free_port, internal_config
from tests.integration._wire import answer_text, build

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(UNDER_WINE, reason="squid runs on the Linux side; see test_os_trust"),
]

HOST = "internal-llm.corp.test"
REPLY = "Answered through the company proxy."
USER, PASSWORD = "emp-001", "Proxy p@ss:word/1"


class Corp(NamedTuple):
    home: Path
    upstream: FakeInternalUpstream
    squid: Squid
    trust: dict[str, str]  # the environment that makes the CA part of the machine's store


@pytest.fixture
def corp(tmp_path: Path) -> Iterator[Corp]:
    ca, cert, key = make_private_ca(tmp_path, host=HOST)
    upstream = FakeInternalUpstream(reply=REPLY, tls=(cert, key)).start()
    squid = Squid(users={USER: PASSWORD}, hosts={HOST: "127.0.0.1"})
    store = tmp_path / "os-trust"
    store.mkdir()
    shutil.copy(ca, store / "company-ca.pem")
    subprocess.run(["openssl", "rehash", str(store)], check=True, capture_output=True)
    home = tmp_path / "home"
    create_admin(home)
    config = tmp_path / "internal.yaml"
    config.write_text(internal_config(upstream, f"https://{HOST}:{upstream.port}"), "utf-8")
    applied = as_admin(home, "config", "apply", str(config))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    yield Corp(home, upstream, squid, {"SSL_CERT_DIR": str(store)})
    squid.stop()
    upstream.stop()


def _entry(home: Path, name: str, value: str) -> None:
    done = cli(
        home, "env", "set", name, "--shared", "--value-stdin", "--as", ADMIN,
        "--password-stdin", stdin=f"{ADMIN_PW}\n{value}\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _ask(serve: Serve, home: Path, *, stream: bool = False) -> httpx.Response:
    key = cli(home, "proxy-key").stdout.strip()
    with httpx.Client(base_url=serve.url, timeout=60, trust_env=False) as client:
        return client.send(build(client, "chat", key, model="internal-chat", stream=stream))


def _with_credentials(url: str) -> str:
    return url.replace("://", f"://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@")


def _connects(squid: Squid) -> list[str]:
    return [line for line in squid.log() if f" CONNECT {HOST}:" in line]


class PacServer(LoopbackServer):
    """A PAC file over HTTP, as IT publishes it: the corporate names through the proxy,
    everything else direct."""

    def __init__(self, proxy_port: int) -> None:
        super().__init__()
        self.script = (
            "function FindProxyForURL(url, host) {\n"
            '  if (dnsDomainIs(host, ".corp.test"))\n'
            f'    return "PROXY 127.0.0.1:{proxy_port}; DIRECT";\n'
            '  return "DIRECT";\n'
            "}\n"
        ).encode()

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.send(handler, 200, self.script, "application/x-ns-proxy-autoconfig")


def _answers(serve: Serve, home: Path) -> None:
    for stream in (False, True):
        r = _ask(serve, home, stream=stream)
        assert r.status_code == 200, r.text[:500]
        assert REPLY in answer_text("chat", r, stream=stream)


def _doctor(corp: Corp, **extra: str) -> str:
    done = cli(corp.home, "doctor", **corp.trust, **extra)
    assert PASSWORD not in done.stdout + done.stderr
    assert quote(PASSWORD, safe="") not in done.stdout + done.stderr
    return done.stdout


def _masked(squid: Squid) -> str:
    return f"http://{USER}:****@127.0.0.1:{squid.port}"


def test_an_https_proxy_entry_with_credentials_carries_every_call(corp: Corp) -> None:
    _entry(corp.home, "HTTPS_PROXY", _with_credentials(corp.squid.url))
    serve = Serve(corp.home, free_port(), **corp.trust)
    try:
        _answers(serve, corp.home)
    finally:
        serve.stop()
    tunnels = _connects(corp.squid)
    assert tunnels and all(f" {USER} " in line for line in tunnels), corp.squid.log()
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
        _entry(corp.home, "PROXY_PAC_URL", pac_url)
        _entry(corp.home, "PROXY_USERNAME", USER)
        _entry(corp.home, "PROXY_PASSWORD", PASSWORD)
        serve = Serve(corp.home, free_port(), **corp.trust)
        try:
            _answers(serve, corp.home)
        finally:
            serve.stop()
        assert _connects(corp.squid), corp.squid.log()
        doctor = _doctor(corp)
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    said = f"the app's PAC file {pac_url} says 'PROXY 127.0.0.1:{corp.squid.port}; DIRECT'"
    assert f"ok   Route to {where}: via {_masked(corp.squid)} ({said})" in doctor, doctor
    assert f"ok   TLS to {where}: verified" in doctor, doctor


def test_the_systems_proxy_setting_is_used_when_the_app_sets_none(corp: Corp) -> None:
    """HTTPS_PROXY in the environment the app starts with (what a login script or the
    desktop's proxy settings export); the credentials come from the app's entries."""
    _entry(corp.home, "PROXY_USERNAME", USER)
    _entry(corp.home, "PROXY_PASSWORD", PASSWORD)
    system = {"HTTPS_PROXY": corp.squid.url, "NO_PROXY": "example.org"}
    serve = Serve(corp.home, free_port(), **corp.trust, **system)
    try:
        _answers(serve, corp.home)
    finally:
        serve.stop()
    assert _connects(corp.squid), corp.squid.log()
    doctor = _doctor(corp, **system)
    assert f"via {_masked(corp.squid)} (the system's HTTPS_PROXY)" in doctor, doctor


def test_refused_proxy_credentials_are_named_in_doctor_and_status(corp: Corp) -> None:
    _entry(corp.home, "HTTPS_PROXY", corp.squid.url)
    _entry(corp.home, "PROXY_USERNAME", USER)
    _entry(corp.home, "PROXY_PASSWORD", "not-the-password")
    serve = Serve(corp.home, free_port(), **corp.trust)
    try:
        r = _ask(serve, corp.home)
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
    doctor = _doctor(corp)
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    assert (
        f"FAIL TLS to {where}: no tunnel: the proxy answered the tunnel request with "
        "'HTTP/1.1 407 Proxy Authentication Required'"
    ) in doctor, doctor
    assert "wants credentials it did not get or refused" in doctor, doctor
