from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge_app.runtime import BridgeError

_VERSION = b"\x01"
_NONCE_BYTES = 12


class CryptoError(BridgeError):
    pass


def seal(key: bytes, plaintext: bytes, *, context: str) -> bytes:
    """AES-256-GCM with a random nonce. ``context`` is bound as associated data (e.g.
    "env:<owner>:<NAME>") so a sealed value cannot be moved to another row unnoticed."""
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode("utf-8"))


def open_sealed(key: bytes, sealed: bytes, *, context: str) -> bytes:
    if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _VERSION:
        raise CryptoError("A stored secret is damaged or in an unknown format.")
    nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, context.encode("utf-8"))
    except InvalidTag as exc:
        raise CryptoError(
            "A stored secret cannot be decrypted with this key (it belongs to another "
            "account, its password was reset, or it was tampered with)."
        ) from exc
