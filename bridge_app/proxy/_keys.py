"""Who may call the proxy: the install's master key, and (later) per-tool keys."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import and_, select

from bridge_app.crypto import open_sealed, seal
from bridge_app.runtime import Redactor
from bridge_app.store import Database, put_shared_secret, tables

MASTER_KEY_KIND = "proxy-master-key"
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
_secrets = tables["secrets"]


@dataclass(frozen=True)
class KeyIdentity:
    """Who a key belongs to; reaches request hooks and metrics as ``client``."""

    name: str  # "admin" for the master key, a tool name for per-tool keys
    admin: bool = False


class KeyRegistry:
    """The keys the proxy accepts. The proxy's auth hook asks ``identify`` per request,
    so keys added or revoked here take effect at once, without a restart.
    Every key is registered with the redactor the moment it is known."""

    def __init__(self, *, redactor: Redactor) -> None:
        self._redactor = redactor
        self._lock = threading.Lock()
        self._keys: dict[str, KeyIdentity] = {}

    def set_master_key(self, key: str) -> None:
        self.add(key, KeyIdentity("admin", admin=True))

    def add(self, key: str, identity: KeyIdentity) -> None:
        if len(key) < 16:
            raise ValueError("proxy keys must be at least 16 characters")
        self._redactor.register(key)
        with self._lock:
            self._keys[key] = identity

    def revoke(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)

    def identify(self, presented: str | None) -> KeyIdentity | None:
        if not presented:
            return None
        if presented.lower().startswith("bearer "):
            presented = presented[7:].strip()
        candidate = presented.encode()
        with self._lock:
            items = list(self._keys.items())
        found: KeyIdentity | None = None
        for key, identity in items:  # compare against every key: no timing hint
            if hmac.compare_digest(candidate, key.encode()):
                found = identity
        return found


def new_proxy_key() -> str:
    return "sk-bridge-" + secrets.token_urlsafe(32)


def _shared_secret_key(db_key: bytes) -> bytes:
    # Shared (owner_id NULL) secrets are sealed with a key derived from the install's
    # database key: a copied database row cannot be opened without that key.
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"litellm-bridge shared secrets"
    ).derive(db_key)


class MasterKeyStore:
    """The proxy master key, generated once per install and kept sealed in ``secrets``."""

    def __init__(self, *, db: Database, db_key: bytes, redactor: Redactor) -> None:
        self._db = db
        self._key = _shared_secret_key(db_key)
        self._redactor = redactor
        self._context = f"secret:shared:{MASTER_KEY_KIND}"

    def get_or_create(self) -> str:
        where = and_(_secrets.c.owner_id.is_(None), _secrets.c.kind == MASTER_KEY_KIND)
        with self._db.transaction() as conn:
            row = conn.execute(select(_secrets.c.value).where(where)).first()
            if row is not None:
                value = open_sealed(self._key, row[0], context=self._context).decode()
            else:
                value = new_proxy_key()
                put_shared_secret(
                    conn,
                    kind=MASTER_KEY_KIND,
                    label="LiteLLM proxy master key",
                    value=seal(self._key, value.encode(), context=self._context),
                    meta=json.dumps({}),
                )
        self._redactor.register(value)
        return value
