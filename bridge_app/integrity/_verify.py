from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from bridge_app.integrity._keys import key_id, parse_public_key
from bridge_app.integrity._manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    Manifest,
    hash_tree,
)
from bridge_app.runtime import BridgeError

_REINSTALL = "Reinstall LiteLLM Bridge from the release your IT department published."


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found: a signature problem (or None) and every file that differs."""

    root: Path
    signature_problem: str | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    checked: int = 0
    version: str | None = None
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.signature_problem is None and not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        if self.ok:
            return f"All {self.checked} files match the signed manifest (key {self.key_id})."
        parts = []
        if self.signature_problem:
            parts.append(self.signature_problem)
        counts = [
            f"{len(names)} {label}"
            for label, names in (
                ("changed", self.changed),
                ("added", self.added),
                ("removed", self.removed),
            )
            if names
        ]
        if counts:
            parts.append("Files differ from the manifest: " + ", ".join(counts) + ".")
        return " ".join(parts)

    def lines(self) -> list[str]:
        """One line per differing file, for people: `changed: _internal/x.so`."""
        return [
            f"{label}: {name}"
            for label, names in (
                ("changed", self.changed),
                ("added", self.added),
                ("removed", self.removed),
            )
            for name in names
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "root": str(self.root),
            "summary": self.summary(),
            "signature_problem": self.signature_problem,
            "changed": self.changed,
            "added": self.added,
            "removed": self.removed,
            "checked": self.checked,
            "version": self.version,
            "key_id": self.key_id,
        }


def check_signature(manifest_bytes: bytes, signature_bytes: bytes, public_key: str) -> str | None:
    """None when ``public_key`` signed exactly these manifest bytes, else why not, in words."""
    trusted_id = key_id(public_key)
    try:
        document = json.loads(signature_bytes.decode("utf-8"))
        signature = base64.b64decode(document["signature"], validate=True)
        signer_id = str(document.get("key_id", "unknown"))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error):
        return f"The signature file {SIGNATURE_NAME} is unreadable."
    if signer_id != trusted_id:
        return (
            f"The manifest was signed with key {signer_id}, but this build trusts key "
            f"{trusted_id}: it was not signed by whoever built this app."
        )
    try:
        parse_public_key(public_key).verify(signature, manifest_bytes)
    except InvalidSignature:
        return (
            f"The signature does not match {MANIFEST_NAME} (key {trusted_id}): the manifest "
            "was altered after it was signed."
        )
    return None


def verify_folder(root: Path, public_key: str | None) -> VerifyReport:
    """Check the signature on ``root``'s manifest, then every file under ``root`` against it.

    File differences are reported even when the signature is bad: they tell IT what was
    touched, but only a good signature makes the bundle trusted.
    """
    manifest_path = root / MANIFEST_NAME
    try:
        manifest_bytes = manifest_path.read_bytes()
    except FileNotFoundError:
        return VerifyReport(
            root,
            signature_problem=f"The bundle has no {MANIFEST_NAME}: it was not built by the "
            f"release build, or the manifest was removed. {_REINSTALL}",
        )
    except OSError as exc:
        raise BridgeError(f"Cannot read {manifest_path}: {exc.strerror or exc}.") from exc
    manifest = Manifest.from_bytes(manifest_bytes)

    problem: str | None
    if not public_key:
        problem = "This build carries no public key, so its manifest cannot be trusted."
    else:
        try:
            signature_bytes = (root / SIGNATURE_NAME).read_bytes()
        except FileNotFoundError:
            signature_bytes = None
        if signature_bytes is None:
            problem = f"The manifest is not signed: {SIGNATURE_NAME} is missing."
        else:
            problem = check_signature(manifest_bytes, signature_bytes, public_key)

    actual = hash_tree(root)
    expected = manifest.files
    return VerifyReport(
        root,
        signature_problem=problem,
        added=sorted(set(actual) - set(expected)),
        removed=sorted(set(expected) - set(actual)),
        changed=sorted(n for n in set(actual) & set(expected) if actual[n] != expected[n]),
        checked=len(actual),
        version=manifest.version,
        key_id=key_id(public_key) if public_key else None,
    )
