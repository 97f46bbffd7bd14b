from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bridge_app.runtime import BridgeError, atomic_write

KEY_ENV = "BRIDGE_SIGNING_KEY"  # the private key PEM itself (CI secrets)
KEY_FILE_ENV = "BRIDGE_SIGNING_KEY_FILE"  # or a path to it


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    """Owner-only, atomically; refuses to replace an existing key (it may be the release key)."""
    if path.exists():
        raise BridgeError(
            f"{path} already exists; not replacing a signing key.",
            hint="Choose another file name, or delete the old key if you really mean to.",
        )
    atomic_write(path, private_key_pem(key), mode=0o600, make_parents=True)


def load_private_key_pem(pem: bytes, *, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise BridgeError(
            f"{origin} is not an unencrypted PEM private key.",
            hint="Create one with `python -m bridge_app.integrity generate-key FILE` "
            "or `openssl genpkey -algorithm ed25519 -out FILE`.",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise BridgeError(
            f"{origin} holds a {type(key).__name__}, not an Ed25519 key.",
            hint="Manifests are signed with Ed25519: `openssl genpkey -algorithm ed25519`.",
        )
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise BridgeError(f"Cannot read the signing key {path}: {exc.strerror or exc}.") from exc
    return load_private_key_pem(pem, origin=f"The signing key file {path}")


def private_key_from_environment() -> Ed25519PrivateKey | None:
    """The release key supplied by the build's secrets, if any (never from the repository)."""
    pem = os.environ.get(KEY_ENV, "").strip()
    if pem:
        return load_private_key_pem(pem.encode("ascii"), origin=f"${KEY_ENV}")
    path = os.environ.get(KEY_FILE_ENV, "").strip()
    if path:
        return load_private_key(Path(path))
    return None


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as base64 of its 32 raw bytes: what _pubkey.py holds."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise BridgeError(
            "The public key is not a base64-encoded 32-byte Ed25519 key.",
            hint="Print the right one with `python -m bridge_app.integrity public-key --key FILE`.",
        ) from exc


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey | str) -> str:
    """A short fingerprint people can compare: the first 16 hex digits of SHA-256(raw key)."""
    text = public_key_text(parse_public_key(key) if isinstance(key, str) else key)
    return hashlib.sha256(base64.b64decode(text)).hexdigest()[:16]


def render_pubkey_module(public_key: str) -> str:
    """The text of bridge_app/integrity/_pubkey.py carrying ``public_key`` (release builds)."""
    parse_public_key(public_key)
    return (
        '"""The Ed25519 public key this build trusts for its bundle manifest.\n\n'
        "Written by packaging/build.py for this build; the source tree keeps it empty.\n"
        '"""\n\n'
        f'RELEASE_PUBLIC_KEY = "{public_key}"\n'
    )
