"""Company keys (Ed25519) and detached policy signatures."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bridge_app.policy._errors import PolicySignatureError


def read_public_key(data: bytes) -> bytes:
    """The raw 32-byte key from a PEM public key (`openssl pkey -pubout`), an OpenSSH
    `ssh-ed25519` line, 32 raw bytes or their base64."""
    text = data.strip()
    key: object = None
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        elif text.startswith(b"ssh-ed25519"):
            key = serialization.load_ssh_public_key(text)
        elif len(data) == 32:
            return bytes(data)
        else:
            raw = base64.b64decode(text, validate=True)
            if len(raw) == 32:
                return raw
            key = serialization.load_der_public_key(raw)
    except (ValueError, binascii.Error, TypeError) as exc:
        raise PolicySignatureError(
            "That file is not an Ed25519 public key.",
            hint="Export it with: openssl pkey -in company.key -pubout -out company.pub",
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise PolicySignatureError(
            "That key is not an Ed25519 public key.",
            hint="The company key must be Ed25519 (openssl genpkey -algorithm ed25519).",
        )
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(raw_key: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw_key).digest()).decode().rstrip("=")


def _signature_bytes(sig: bytes) -> bytes:
    if len(sig) == 64:
        return sig
    try:
        raw = base64.b64decode(sig.strip(), validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 64:
        raise PolicySignatureError(
            "The signature file is not an Ed25519 signature (64 bytes, raw or base64)."
        )
    return raw


def verify_signature(
    content: bytes, signature: bytes | None, raw_key: bytes, *, name: str = "policy.yaml"
) -> None:
    """``name``: the policy file's name, so the hints name its own signature file."""
    if signature is None:
        raise PolicySignatureError(
            "The policy is not signed, and a company key is enrolled: only a signed policy "
            "is accepted.",
            hint=f"Put its detached signature beside it as {name}.sig.",
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(_signature_bytes(signature), content)
    except InvalidSignature as exc:
        raise PolicySignatureError(
            "The policy's signature does not match its content or the enrolled company key "
            "(the file was changed after it was signed, or signed with another key).",
            hint=f"Ask IT for the policy and its {name}.sig as they were shipped.",
        ) from exc
