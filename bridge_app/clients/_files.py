"""Careful file access for other programs' config files: refuse symlinks and read-only
files with a clear message, write atomically, keep the file's mode, show diffs."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bridge_app.runtime import BridgeError, fault_point, replace_with_retry


class UnsafeTargetError(BridgeError):
    pass


def sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def configured_dir(env: Mapping[str, str], name: str, default: Path) -> Path:
    """The folder an environment variable (CODEX_HOME, XDG_CONFIG_HOME) points a tool at,
    or ``default``. An empty value is ignored, and so is a relative one: it depends on the
    tool's working folder, which the app cannot know."""
    value = (env.get(name) or "").strip()
    if value:
        path = Path(value).expanduser()
        if path.is_absolute():
            return path
    return default


def check_home(home: Path) -> None:
    if not home.is_dir():
        raise UnsafeTargetError(
            f"The home folder {home} does not exist; nothing was written.",
            hint="Log in as the user who runs the tools, or set HOME / USERPROFILE.",
        )


def check_target(path: Path, *, writing: bool) -> None:
    """Fail before anything is written if the file is something we must not replace."""
    if path.is_symlink():
        raise UnsafeTargetError(
            f"{path} is a symbolic link (to {os.readlink(path)}); it was left as it is.",
            hint="Replace the link with a regular file, or copy the settings by hand "
            "from 'Show settings'.",
        )
    if path.exists():
        if not path.is_file():
            raise UnsafeTargetError(f"{path} is not a regular file; it was left as it is.")
        # No write bit is the user's (or Windows' read-only attribute's) "do not touch",
        # also for an administrator whom the OS would let write anyway.
        if writing and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
            raise UnsafeTargetError(
                f"{path} is read-only; nothing was changed.",
                hint="Make it writable (or ask IT), or copy the settings by hand.",
            )
    if writing:
        parent = _existing_parent(path)
        if not os.access(parent, os.W_OK):
            raise UnsafeTargetError(f"The folder {parent} is read-only; nothing was changed.")


def _existing_parent(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnsafeTargetError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Temp file in the same folder + fsync + rename; keeps the old file's permissions."""
    check_target(path, writing=True)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o600  # these files hold a proxy key
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        fault_point("file.before_replace")
        replace_with_retry(tmp, path)  # an editor or scanner may hold it for a moment
        fault_point("file.after_replace")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def remove(path: Path) -> None:
    check_target(path, writing=True)
    fault_point("file.before_remove")
    path.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    fault_point("file.after_remove")


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unified_diff(
    path: Path, before: bytes | None, after: bytes | None, labels: tuple[str, str]
) -> str:
    def lines(data: bytes | None) -> list[str]:
        return [] if data is None else data.decode("utf-8", "replace").splitlines(keepends=True)

    diff = difflib.unified_diff(
        lines(before), lines(after), f"{path} ({labels[0]})", f"{path} ({labels[1]})"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)
