from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bridge_app.integrity._keys import key_id
from bridge_app.runtime import BridgeError, atomic_write

MANIFEST_NAME = "MANIFEST.json"
SIGNATURE_NAME = "MANIFEST.json.sig"
FORMAT = 1
SYMLINK_PREFIX = "symlink:"  # a link is recorded by its target, never followed
_CHUNK = 1024 * 1024


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """Every file under root as (posix relative path, path), skipping the manifest files."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        # A symlinked folder is recorded as a link, not descended into.
        for name in list(dirnames):
            if (here / name).is_symlink():
                dirnames.remove(name)
                filenames.append(name)
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if rel in (MANIFEST_NAME, SIGNATURE_NAME):
                continue
            yield rel, path


def _digest(path: Path) -> str:
    if path.is_symlink():
        return SYMLINK_PREFIX + os.readlink(path)
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)  # hashlib releases the GIL: threads hash in parallel
    return sha.hexdigest()


def hash_tree(root: Path) -> dict[str, str]:
    """SHA-256 (hex) of every file under ``root``, keyed by its posix relative path."""
    if not root.is_dir():
        raise BridgeError(f"{root} is not a folder.")
    entries = list(_walk(root))
    workers = min(8, (os.cpu_count() or 1) + 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        digests = pool.map(lambda entry: _digest(entry[1]), entries)
        return {rel: digest for (rel, _), digest in zip(entries, digests, strict=True)}


@dataclass(frozen=True)
class Manifest:
    files: dict[str, str]
    app: str
    version: str
    created: str

    def to_bytes(self) -> bytes:
        """The exact bytes that are signed: canonical JSON (sorted keys, one line per file)."""
        document: dict[str, Any] = {
            "format": FORMAT,
            "app": self.app,
            "version": self.version,
            "created": self.created,
            "hash": "sha256",
            "files": dict(sorted(self.files.items())),
        }
        return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data.decode("utf-8"))
            if document.get("format") != FORMAT or document.get("hash") != "sha256":
                raise ValueError("unknown manifest format")
            files = document["files"]
            if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()
            ):
                raise ValueError("bad file list")
            return cls(
                files=files,
                app=str(document["app"]),
                version=str(document["version"]),
                created=str(document["created"]),
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BridgeError(
                f"The bundle manifest {MANIFEST_NAME} cannot be read ({exc}).",
                hint="The bundle is damaged or was altered: reinstall it from the release.",
            ) from exc


def build_manifest(root: Path, *, version: str, app: str = "litellm-bridge") -> Manifest:
    return Manifest(
        files=hash_tree(root),
        app=app,
        version=version,
        created=datetime.now(UTC).replace(microsecond=0).isoformat(),
    )


def signature_document(manifest_bytes: bytes, key: Ed25519PrivateKey) -> bytes:
    """The detached signature file: which key signed, and the Ed25519 signature."""
    signature = key.sign(manifest_bytes)
    document = {
        "algorithm": "ed25519",
        "key_id": key_id(key),
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")


def sign_folder(root: Path, key: Ed25519PrivateKey, *, version: str) -> Manifest:
    """Hash every file under ``root`` and write MANIFEST.json + MANIFEST.json.sig into it."""
    manifest = build_manifest(root, version=version)
    data = manifest.to_bytes()
    atomic_write(root / MANIFEST_NAME, data, mode=0o644)
    atomic_write(root / SIGNATURE_NAME, signature_document(data, key), mode=0o644)
    return manifest
