"""Issue 28 (trust): an internal endpoint behind a company CA answers through the bridge
when the CA is only in the machine's trust store, as IT rolls it out; nothing is set in
the app. Before, LiteLLM verified with certifi's list alone and the client got "Cannot
connect to host …" until an admin found the SSL_CERT_FILE entry.

The machine's store, the OS's way: on Linux a certificate folder with hashed names (what
`update-ca-certificates` makes of /etc/ssl/certs), here a private one named by SSL_CERT_DIR
for the `serve` process alone, so the test machine's own store is not touched (LiteLLM
itself never reads SSL_CERT_DIR, only SSL_CERT_FILE); on Windows the machine's Root
certificate store. A real `serve`, a real https endpoint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bridge_app.devtools import FakeInternalUpstream
from tests.conftest import UNDER_WINE
from tests.integration._litellm_cli import make_private_ca
from tests.integration._serve import Serve, as_admin, cli, create_admin, wait_until
from tests.integration._upstream import free_port, internal_config
from tests.integration._wire import KINDS, answer_text, build

pytestmark = [
    pytest.mark.integration,
    pytest.mark.windows,  # on real Windows; Wine cannot show it (below)
    pytest.mark.skipif(
        UNDER_WINE,
        reason="Wine's crypt32 cannot judge trust: CertVerifyCertificateChainPolicy passes a "
        "chain to a CA in no store (so a missing CA is never refused), an IP address never "
        "matches the certificate, and a chain engine with extra roots fails with 'Invalid "
        "parameter' (measured under Wine 8.0; truststore uses these on real Windows)",
    ),
]

REPLY = "Answered behind the company CA."


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[tuple[Path, FakeInternalUpstream, Path]]:
    """(the company CA, an https internal endpoint it signed, a data folder with an admin
    whose active config routes internal-chat to that endpoint)."""
    ca, cert, key = make_private_ca(tmp_path)
    upstream = FakeInternalUpstream(reply=REPLY, tls=(cert, key)).start()
    home = tmp_path / "home"
    create_admin(home)
    config = tmp_path / "internal.yaml"
    config.write_text(internal_config(upstream), encoding="utf-8")
    applied = as_admin(home, "config", "apply", str(config))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    yield ca, upstream, home
    upstream.stop()


def _linux_store(folder: Path, ca: Path) -> dict[str, str]:
    """A trust folder as OpenSSL keeps it: the CA under its subject-hash name."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to hash the trust folder: run `bash scripts/setup.sh --e2e`")
    folder.mkdir()
    shutil.copy(ca, folder / "company-ca.pem")
    done = subprocess.run(
        [openssl, "rehash", str(folder)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert any(p.name.endswith(".0") for p in folder.iterdir()), list(folder.iterdir())
    return {"SSL_CERT_DIR": str(folder)}


def _windows_root_store(ca: Path) -> Callable[[], None]:
    """The CA in the machine's Root certificate store (what IT's group policy does), taken
    out again by the returned function. Needs an administrator on real Windows (the
    current user's Root store would ask the person in a dialog); the Windows leg runs in
    a Wine prefix of its own."""
    import ctypes
    from ctypes import wintypes

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(ca.read_bytes()).public_bytes(Encoding.DER)
    crypt32 = ctypes.WinDLL("crypt32", use_last_error=True)  # type: ignore[attr-defined]
    crypt32.CertOpenStore.restype = ctypes.c_void_p
    crypt32.CertOpenStore.argtypes = [
        ctypes.c_void_p, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD, ctypes.c_wchar_p,
    ]  # fmt: skip
    crypt32.CertAddEncodedCertificateToStore.argtypes = [
        ctypes.c_void_p, wintypes.DWORD, ctypes.c_char_p, wintypes.DWORD, wintypes.DWORD,
        ctypes.POINTER(ctypes.c_void_p),
    ]  # fmt: skip
    crypt32.CertDeleteCertificateFromStore.argtypes = [ctypes.c_void_p]
    crypt32.CertCloseStore.argtypes = [ctypes.c_void_p, wintypes.DWORD]
    cert_store_prov_system_w, local_machine = 10, 0x20000
    store = crypt32.CertOpenStore(cert_store_prov_system_w, 0, None, local_machine, "ROOT")
    assert store, f"the Root store cannot be opened: {ctypes.get_last_error()}"  # type: ignore[attr-defined]
    added = ctypes.c_void_p()
    encoding, replace_existing = 0x00010001, 3
    ok = crypt32.CertAddEncodedCertificateToStore(
        store, encoding, der, len(der), replace_existing, ctypes.byref(added)
    )
    assert ok, f"the CA was not added: {ctypes.get_last_error()}"  # type: ignore[attr-defined]

    def remove() -> None:
        crypt32.CertDeleteCertificateFromStore(added)
        crypt32.CertCloseStore(store, 0)

    return remove


@pytest.fixture
def in_machine_store(tmp_path: Path) -> Iterator[Callable[[Path], dict[str, str]]]:
    """Puts a CA in this machine's trust store, the OS's way; returns the environment the
    app must run with to see it (none on Windows)."""
    undo: list[Callable[[], None]] = []

    def put(ca: Path) -> dict[str, str]:
        if sys.platform == "win32":
            undo.append(_windows_root_store(ca))
            return {}
        return _linux_store(tmp_path / "os-trust", ca)

    yield put
    for step in undo:
        step()


def test_an_endpoint_behind_a_ca_in_the_machines_trust_store_answers_on_every_wire(
    endpoint: tuple[Path, FakeInternalUpstream, Path],
    in_machine_store: Callable[[Path], dict[str, str]],
) -> None:
    ca, upstream, home = endpoint
    store = in_machine_store(ca)
    port = free_port()
    # Nothing of the CA in the app: no SSL_CERT_FILE entry, no variable LiteLLM reads.
    serve = Serve(home, port, **store)
    try:
        key_ = cli(home, "proxy-key").stdout.strip()
        with httpx.Client(base_url=serve.url, timeout=60, trust_env=False) as c:
            for kind in KINDS:
                for stream in (False, True):
                    r = c.send(build(c, kind, key_, model="internal-chat", stream=stream))
                    assert r.status_code == 200, (kind, stream, r.text[:500])
                    assert REPLY in answer_text(kind, r, stream=stream), (kind, stream)
        assert upstream.seen and all(s.body.get("project_id") == "P-1" for s in upstream.seen)
        # `doctor` says where the trust comes from: the machine's store.
        doctor = cli(home, "doctor", **store)
        where = "the Windows certificate store" if sys.platform == "win32" else "the system's CAs ("
        assert f"ok   TLS trust: {where}" in doctor.stdout, doctor.stdout
        assert all(folder in doctor.stdout for folder in store.values()), doctor.stdout
        assert (
            f"ok   TLS to internal-chat (127.0.0.1:{upstream.port}): verified: its certificate "
            "for 127.0.0.1, issued by 'Test Corp Private CA', valid until "
        ) in doctor.stdout, doctor.stdout
    finally:
        serve.stop()


def test_without_the_ca_in_the_store_the_client_is_told_what_to_do(
    endpoint: tuple[Path, FakeInternalUpstream, Path],
) -> None:
    """The same endpoint on a machine whose store lacks the CA: refused; `status` names
    the deployment, the certificate problem and the fix, and `doctor` which certificate and
    which CA."""
    _ca, upstream, home = endpoint
    port = free_port()
    serve = Serve(home, port)
    try:
        key_ = cli(home, "proxy-key").stdout.strip()
        with httpx.Client(base_url=serve.url, timeout=60, trust_env=False) as c:
            r = c.send(build(c, "chat", key_, model="internal-chat"))
        assert r.status_code >= 500, r.text[:500]
        assert "certificate verify failed" in r.text.replace("_", " ").lower(), r.text[:500]

        # The status another process reads is published about once a second.
        def settled() -> subprocess.CompletedProcess[str] | None:
            done = cli(home, "status")
            return done if "requests   1 (1 errors" in done.stdout else None

        status = wait_until(settled, timeout=10)
        assert status is not None, cli(home, "status").stdout
        assert "internal-chat#1: failing" in status.stdout, status.stdout
        assert "certificate verify failed" in status.stdout, status.stdout
        assert "the company CA belongs in this machine's trust store" in status.stdout
        # `doctor` names the certificate, the CA the machine lacks, and what to do.
        doctor = cli(home, "doctor")
        assert doctor.returncode != 0, doctor.stdout
        assert (
            f"FAIL TLS to internal-chat (127.0.0.1:{upstream.port}): not trusted (unable to "
            "get local issuer certificate): its certificate for 127.0.0.1, issued by 'Test "
            "Corp Private CA', valid until "
        ) in doctor.stdout, doctor.stdout
        assert "Ask IT to add the CA 'Test Corp Private CA' to this machine's trust store" in (
            doctor.stdout
        )
        assert not upstream.seen  # the TLS handshake failed: no request reached it
    finally:
        serve.stop()
