"""The company CA: the certificates of the CA file the desktop trusts for its internal
endpoints (the shared SSL_CERT_FILE entry), nothing else; what a team export carries and
what gateway calls add to the OS store."""

from __future__ import annotations

import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

CA_BUNDLE = "ca-bundle.pem"
#: Where the compose file mounts the exported CA bundle inside the LiteLLM container.
CA_IN_CONTAINER = "/app/ca-bundle.pem"
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def company_ca(path: str | None) -> tuple[str | None, str | None]:
    """(the certificates of the CA file the shared SSL_CERT_FILE entry names, a note when
    it names one that cannot be carried over). Only certificate blocks are taken."""
    if not path:
        return None, None
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return None, (
            f"SSL_CERT_FILE names {path}, which could not be read ({exc.strerror or exc}): "
            f"put the company CA, with the public CAs, into {CA_BUNDLE} next to "
            f"docker-compose.yaml, mount it into the litellm service and set SSL_CERT_FILE "
            "to it there"
        )
    certs = _PEM_CERT.findall(text)
    if not certs:
        return None, f"SSL_CERT_FILE names {path}, which holds no PEM certificate"
    return "\n".join(certs) + "\n", None


def with_company_ca(ca_pem: str | None, ssl_cert_file: str | None) -> str | None:
    """The CAs a gateway call adds to the OS store: the gateway's own (--ca-file) and the
    app's one extra-CA setting, the shared SSL_CERT_FILE entry (its certificates), which
    LiteLLM, the IAM and update downloads add too."""
    extra, note = company_ca(ssl_cert_file)
    if note:
        log.warning("a gateway call without the shared CA: %s", note)
    return "\n".join(part for part in (ca_pem, extra) if part) or None
