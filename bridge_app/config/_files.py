"""Atomic file replacement: a reader sees the old file or the new one, never half of it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from bridge_app.runtime import BridgeError


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)
    except OSError as exc:
        raise BridgeError(
            f"Cannot write {path}: {exc.strerror or exc}.",
            hint="Check that the folder exists and is writable; the previous file is unchanged.",
        ) from exc


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing more than ``limit`` (read limit + 1 to notice)."""
    try:
        with path.open("rb") as fh:
            return fh.read(limit + 1)
    except FileNotFoundError as exc:
        raise BridgeError(f"The file {path} does not exist.") from exc
    except IsADirectoryError as exc:
        raise BridgeError(f"{path} is a folder, not a config file.") from exc
    except OSError as exc:
        raise BridgeError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; os.replace is durable enough
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
