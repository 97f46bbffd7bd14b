"""Atomic file replacement: a reader sees the old file or the new one, never half of it,
and a failed write leaves nothing behind.

On Windows a file cannot be replaced while another process has it open without
FILE_SHARE_DELETE: a reader of the status file, an antivirus scanner or the search indexer
holding it for a moment makes ``os.replace`` fail with a sharing violation. Those are
brief, so the replace is retried for about two seconds before the write fails.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from bridge_app.runtime._errors import BridgeError
from bridge_app.runtime._faults import fault_point


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
        fault_point("file.before_replace")
        replace_with_retry(tmp, path)
        tmp = None
        fault_point("file.after_replace")
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


#: ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION: what Windows answers
#: when the target (or the temp file) is held open by someone else for a moment.
_SHARING_ERRORS = frozenset({5, 32, 33})
_RETRY_DELAYS_S = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def is_sharing_violation(exc: OSError) -> bool:
    return isinstance(exc, PermissionError) and getattr(exc, "winerror", None) in _SHARING_ERRORS


def replace_with_retry(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """``os.replace`` that waits out brief sharing violations (Windows); other errors and a
    violation that outlasts the retries are raised as they are."""
    for delay in _RETRY_DELAYS_S:
        try:
            os.replace(source, target)
            return
        except OSError as exc:
            if not is_sharing_violation(exc):
                raise
        time.sleep(delay)
    os.replace(source, target)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a directory for fsync; os.replace is durable enough
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
