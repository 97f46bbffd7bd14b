"""Issue 28 (proxy sign-in): the company proxy wants Windows sign-in, not a password.

A real Kerberos realm (Debian's MIT KDC on a loopback port) issues the employee's ticket
with kinit, as a Windows logon or a Linux domain login does; a real squid accepts only
Negotiate (its `negotiate_kerberos_auth` helper with the proxy's keytab). Neither of
LiteLLM's transports can answer a Negotiate challenge, so with the shared entry
PROXY_AUTH=negotiate the bridge's local relay signs in for them (runtime/_relay.py) and
every call (LiteLLM's, doctor's) goes through it. NTLM is proven against squid's
`ntlm_fake_auth` (any user), with the credentials from the entries."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import UNDER_WINE
from tests.integration._corp import (
    HOST,
    Corp,
    answers,
    ask,
    corporate_network,
    set_entry,
    tunnels,
)
from tests.integration._kerberos import REALM, Realm
from tests.integration._serve import ADMIN, ADMIN_PW, Serve, cli
from tests.integration._upstream import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(UNDER_WINE, reason="squid and the KDC run on the Linux side"),
]

EMPLOYEE, EMPLOYEE_PW = "emp-042", "Kerberos-pw-42"


@pytest.fixture
def realm() -> Iterator[Realm]:
    built = Realm()
    try:
        built.user(EMPLOYEE, EMPLOYEE_PW)
        if os.geteuid() == 0:  # squid's helper runs as `proxy` and reads the realm's config
            shutil.chown(built.folder / "krb5.conf", user="proxy")
        yield built
    finally:
        built.stop()


@pytest.fixture
def corp(tmp_path: Path, realm: Realm) -> Iterator[Corp]:
    keytab = realm.service("HTTP/localhost")
    with corporate_network(
        tmp_path,
        users={},
        negotiate=(keytab, f"HTTP/localhost@{REALM}"),
        environment=realm.environment,
    ) as built:
        yield built


def _doctor(corp: Corp, realm: Realm, *part: str) -> str:
    return cli(corp.home, "doctor", *part, **corp.trust, **realm.environment).stdout


def test_calls_go_through_a_negotiate_proxy_as_the_signed_in_employee(
    corp: Corp, realm: Realm
) -> None:
    realm.kinit(EMPLOYEE, EMPLOYEE_PW)
    # The proxy by the name its Kerberos service principal carries (HTTP/localhost).
    set_entry(corp.home, "HTTPS_PROXY", corp.squid.named_url)
    set_entry(corp.home, "PROXY_AUTH", "negotiate")
    serve = Serve(corp.home, free_port(), **corp.trust, **realm.environment)
    try:
        answers(serve, corp.home)
    finally:
        serve.stop()
    seen = tunnels(corp.squid)
    # squid names the user its Kerberos helper accepted: the employee's principal.
    assert seen and all(f" {EMPLOYEE}@{REALM} " in line for line in seen), corp.squid.log()
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    doctor = _doctor(corp, realm)
    assert (
        f"ok   Route to {where}: via {corp.squid.named_url} (signing in with Negotiate) "
        "(the app's HTTPS_PROXY entry)"
    ) in doctor, doctor
    assert f"ok   TLS to {where}: verified: its certificate for {HOST}" in doctor, doctor

    # The IAM's token login takes the same relay, here for a plain http:// URL (sent down
    # a signed-in tunnel as an ordinary request).
    from bridge_app.devtools import FakeIam
    from bridge_app.tokens import IamClient, IamSettings

    iam = FakeIam({"E42": "employee-pw-42"}).start()
    try:
        os.environ.update(realm.environment)  # this process signs in too
        client = IamClient(
            IamSettings(url=f"http://{HOST}:{iam.port}/token", token_path="data.access_token"),
            network={"HTTPS_PROXY": corp.squid.named_url, "PROXY_AUTH": "negotiate"},
        )
        assert iam.valid(client.fetch_token("E42", "employee-pw-42").token)
    finally:
        iam.stop()
        for name in realm.environment:
            os.environ.pop(name, None)
    assert any(
        f" CONNECT {HOST}:{iam.port} {EMPLOYEE}@{REALM} " in line for line in corp.squid.log()
    )

    # Signed out (no ticket): the tunnel is refused, and doctor says what to do.
    realm.kdestroy()
    doctor = _doctor(corp, realm, "network")
    assert f"FAIL TLS to {where}: no tunnel: the proxy answered the tunnel request with " in (
        doctor
    ), doctor
    assert "407 Proxy sign-in failed: Negotiate sign-in failed" in doctor, doctor
    assert "did not accept this user's sign-in" in doctor, doctor
    assert "kinit" in doctor, doctor


def test_doctor_says_the_proxy_asks_for_windows_sign_in_when_proxy_auth_is_not_set(
    corp: Corp, realm: Realm
) -> None:
    realm.kinit(EMPLOYEE, EMPLOYEE_PW)
    set_entry(corp.home, "HTTPS_PROXY", corp.squid.named_url)
    doctor = _doctor(corp, realm, "network")
    where = f"internal-chat ({HOST}:{corp.upstream.port})"
    assert (
        f"FAIL TLS to {where}: no tunnel: the proxy answered the tunnel request with "
        "'HTTP/1.1 407 Proxy Authentication Required' (it asks for Negotiate)"
    ) in doctor, doctor
    assert "asks for Windows sign-in: an admin sets the shared entry PROXY_AUTH to negotiate" in (
        doctor
    ), doctor


def test_a_proxy_auth_value_that_is_not_a_scheme_is_refused_when_set(corp: Corp) -> None:
    done = cli(
        corp.home, "env", "set", "PROXY_AUTH", "--shared", "--value-stdin", "--as", ADMIN,
        "--password-stdin", stdin=f"{ADMIN_PW}\nkerberoz\n",
    )  # fmt: skip
    assert done.returncode != 0
    assert "'kerberoz' is not one of basic, negotiate, ntlm, kerberos" in done.stderr, done.stderr


def test_ntlm_with_the_credentials_of_the_entries(tmp_path: Path) -> None:
    """NTLM (the scheme Negotiate falls back to without a domain controller in reach) with
    PROXY_USERNAME/PROXY_PASSWORD; squid's fake helper accepts any user and logs it."""
    with corporate_network(tmp_path, users={}, ntlm=True) as corp:
        set_entry(corp.home, "HTTPS_PROXY", corp.squid.url)
        set_entry(corp.home, "PROXY_AUTH", "ntlm")
        set_entry(corp.home, "PROXY_USERNAME", "CORP\\emp-007")
        set_entry(corp.home, "PROXY_PASSWORD", "ntlm-pass-7")
        serve = Serve(corp.home, free_port(), **corp.trust)
        try:
            r = ask(serve, corp.home, stream=True)
            assert r.status_code == 200, r.text[:500]
        finally:
            serve.stop()
        # A challenge round (407), then the tunnel under a signed-in user. (The fake helper
        # reads the user name as 8-bit text; NTLM sends it in UTF-16, so it logs "C\\e".)
        seen = [line.split() for line in tunnels(corp.squid)]
        assert any(f[3] == "TCP_DENIED/407" and f[7] == "-" for f in seen), corp.squid.log()
        opened = [f for f in seen if f[3] == "TCP_TUNNEL/200"]
        assert opened and all(f[7] != "-" for f in opened), corp.squid.log()
        logged = (corp.home / "logs").glob("*.log")
        assert not any("ntlm-pass-7" in p.read_text("utf-8", "replace") for p in logged)
