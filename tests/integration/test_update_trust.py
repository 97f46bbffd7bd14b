"""Update downloads trust what LiteLLM's calls and the IAM trust: the OS store plus the
app's one extra-CA setting, the shared SSL_CERT_FILE entry (issue 28). A real TLS server
on loopback whose certificate comes from a private CA."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge_app.devtools import FakeInternalUpstream
from bridge_app.updates._tuf import _ProgressFetcher
from tests.integration._litellm_cli import make_private_ca

# Not in the Windows leg: once truststore is in use there (another test of the worker
# injected it), Wine's crypt32 refuses any chain with extra roots ('Invalid parameter'),
# as tests/integration/test_os_trust.py measures; real Windows is not Wine.
pytestmark = pytest.mark.integration


def test_the_shared_ca_entry_is_trusted_for_update_downloads(tmp_path: Path) -> None:
    ca, cert, key = make_private_ca(tmp_path)
    server = FakeInternalUpstream(tls=(cert, key)).start()
    url = f"https://127.0.0.1:{server.port}/v1/models"
    try:
        untrusted = _ProgressFetcher({})
        with pytest.raises(Exception) as refused:
            b"".join(untrusted._fetch(url))
        assert "CERTIFICATE_VERIFY_FAILED" in repr(refused.value) or "certificate" in str(
            refused.value
        ), repr(refused.value)
        body = b"".join(_ProgressFetcher({"SSL_CERT_FILE": str(ca)})._fetch(url))
        assert b'"data"' in body, body[:200]
    finally:
        server.stop()
