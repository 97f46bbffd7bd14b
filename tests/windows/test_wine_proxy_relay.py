"""The proxy sign-in relay in the Windows build (issue 28): Windows CPython with the real
Windows wheels (pyspnego, sspilib) under Wine, signing in with NTLM to a real squid on
the Linux side, for an https tunnel and a plain http:// call, as LiteLLM and the IAM make
them (httpx through the relay's URL).

Wine has no NTLM security package (SSPI answers SEC_E_SECPKG_NOT_FOUND), so here the relay
takes pyspnego's own NTLM with the account it was given; on Windows SSPI signs in, with
the logon session's account when none is given. That part is not proven here."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.devtools import FakeInternalUpstream
from tests.integration._litellm_cli import make_private_ca
from tests.integration._squid import Squid
from tests.windows._wine import WINDOWS_SH, env_for

pytestmark = [
    pytest.mark.windows,
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="drives Wine from Linux"),
]

HOST = "internal-llm.corp.test"
SCRIPT = r"""
import sys, httpx
from bridge_app.runtime._relay import NegotiateRelay
proxy, port, tls_port = sys.argv[1], sys.argv[2], sys.argv[3]
relay = NegotiateRelay(proxy, "ntlm", username="CORP\\emp-007", password="ntlm-pass-7")
with httpx.Client(proxy=relay.url, verify=False, trust_env=False, timeout=30) as client:
    plain = client.get(f"http://internal-llm.corp.test:{port}/v1/models")
    print("http", plain.status_code, plain.text[:80].replace("\n", " "))
    tunnel = client.get(f"https://internal-llm.corp.test:{tls_port}/v1/models")
    print("https", tunnel.status_code, tunnel.text[:80].replace("\n", " "))
"""


@pytest.fixture
def upstreams(tmp_path: Path) -> Iterator[tuple[FakeInternalUpstream, FakeInternalUpstream]]:
    _ca, cert, key = make_private_ca(tmp_path, host=HOST)
    plain = FakeInternalUpstream(reply="plain").start()
    tls = FakeInternalUpstream(reply="tls", tls=(cert, key)).start()
    try:
        yield plain, tls
    finally:
        plain.stop()
        tls.stop()


def test_the_windows_build_signs_in_to_an_ntlm_proxy_through_its_relay(
    tmp_path: Path, upstreams: tuple[FakeInternalUpstream, FakeInternalUpstream]
) -> None:
    plain, tls = upstreams
    squid = Squid(users={}, hosts={HOST: "127.0.0.1"}, ntlm=True)
    try:
        done = subprocess.run(
            ["bash", str(WINDOWS_SH), "--python", "-c", SCRIPT, squid.url, str(plain.port),
             str(tls.port)],
            env=env_for(tmp_path / "home"),
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert any(line.startswith("http 200 ") for line in lines), done.stdout
        assert any(line.startswith("https 200 ") for line in lines), done.stdout
        # squid saw both as tunnels, each after an NTLM challenge round, under a user.
        seen = [line.split() for line in squid.log() if f" CONNECT {HOST}:" in line]
        for port in (plain.port, tls.port):
            mine = [f for f in seen if f[6] == f"{HOST}:{port}"]
            assert any(f[3] == "TCP_DENIED/407" for f in mine), squid.log()
            assert any(f[3] == "TCP_TUNNEL/200" and f[7] != "-" for f in mine), squid.log()
    finally:
        squid.stop()
