"""Atomic file replacement: a reader sees the old file or the new one, never half of it,
and a failed write leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from bridge_app.runtime._errors import BridgeError


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, make_parents: bool = False) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, rename.

    The file is created with ``mode`` (owner-only by default: most of what the app writes
    is private). Raises BridgeError with a plain reason; the previous file is unchanged.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise BridgeError(f"{path} is a folder; choose a file name.")
    if make_parents:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise BridgeError(
                f"Cannot create the folder {path.parent}: {exc.strerror or exc}."
            ) from exc
    elif not path.parent.is_dir():
        raise BridgeError(f"The folder {path.parent} does not exist.")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise BridgeError(
            f"Cannot write {path}: {exc.strerror or exc}.",
            hint="Check that the folder is writable and the disk is not full; the previous "
            "file is unchanged.",
        ) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; os.replace is durable enough
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
