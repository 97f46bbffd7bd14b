"""Remote gateways as the store keeps them: a name, a URL and an optional private CA in the
``secrets`` table (kind ``remote-gateway``); the key itself is a shared environment entry
(sealed like every other one), so the embedded proxy receives it as ``os.environ/NAME``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography import x509
from sqlalchemy import and_, select

from bridge_app.crypto import open_sealed, seal
from bridge_app.remote._probe import RemoteError
from bridge_app.store import Database, put_shared_secret, tables

GATEWAY_KIND = "remote-gateway"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_secrets = tables["secrets"]


@dataclass(frozen=True)
class Gateway:
    name: str
    url: str
    key_env: str  # the shared environment entry holding its key (may be unset: no key)
    has_key: bool
    ca_pem: str | None = None
    added_at: str = ""
    used_by: tuple[str, ...] = ()  # the local deployments (ids) that use its URL or key

    @property
    def tls(self) -> str:
        if not self.url.startswith("https://"):
            return "http"
        return "https, private CA" if self.ca_pem else "https"


def check_gateway_name(name: str) -> str:
    name = name.strip().lower()
    if not _NAME.match(name):
        raise RemoteError(
            f"{name!r} is not a usable gateway name.",
            hint="Use 1-32 lowercase letters, digits and '-', e.g. team or team-eu.",
        )
    return name


def key_env_name(name: str) -> str:
    return f"REMOTE_{name.upper().replace('-', '_')}_API_KEY"


def normalize_url(url: str) -> str:
    """http(s)://host[:port][/path] without a trailing /v1 (LiteLLM adds the paths)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RemoteError(
            f"{url!r} is not an http:// or https:// address.",
            hint="A LiteLLM gateway is reached over HTTP(S), e.g. https://llm-gateway.corp:4000",
        )
    if not parts.hostname:
        raise RemoteError(f"{url!r} has no host name.")
    if parts.username or parts.password:
        raise RemoteError(
            "Do not put credentials in the gateway address.",
            hint="Give the key with --key-stdin instead; it is stored encrypted.",
        )
    if parts.query or parts.fragment:
        raise RemoteError(f"{url!r} has a query or fragment; give only the base address.")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise RemoteError(f"{url!r} has an invalid port.") from exc
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def check_ca_pem(pem: str) -> str:
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise RemoteError(
            "The CA file is not a PEM certificate.",
            hint="Export the company CA as PEM (-----BEGIN CERTIFICATE-----).",
        ) from exc
    if not certs:
        raise RemoteError("The CA file holds no certificate.")
    return pem


class GatewayStore:
    def __init__(self, *, db: Database, seal_key: bytes) -> None:
        self._db = db
        self._key = seal_key

    @staticmethod
    def _context(name: str) -> str:
        return f"secret:shared:{GATEWAY_KIND}:{name}"

    @staticmethod
    def _where(name: str) -> Any:
        return and_(
            _secrets.c.owner_id.is_(None),
            _secrets.c.kind == GATEWAY_KIND,
            _secrets.c.label == name,
        )

    def save(self, name: str, url: str, ca_pem: str | None) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        sealed = seal(self._key, (ca_pem or "").encode(), context=self._context(name))
        meta = json.dumps({"url": url, "key_env": key_env_name(name), "added_at": now})
        with self._db.transaction() as conn:
            put_shared_secret(conn, kind=GATEWAY_KIND, label=name, value=sealed, meta=meta)

    def delete(self, name: str) -> bool:
        with self._db.transaction() as conn:
            return bool(conn.execute(_secrets.delete().where(self._where(name))).rowcount)

    def rows(self) -> list[tuple[str, dict[str, Any], str | None]]:
        with self._db.reading() as conn:
            found = conn.execute(
                select(_secrets.c.label, _secrets.c.meta, _secrets.c.value)
                .where(and_(_secrets.c.owner_id.is_(None), _secrets.c.kind == GATEWAY_KIND))
                .order_by(_secrets.c.label)
            ).all()
        rows = []
        for label, meta, value in found:
            ca = open_sealed(self._key, value, context=self._context(label)).decode()
            rows.append((str(label), json.loads(meta), ca or None))
        return rows
