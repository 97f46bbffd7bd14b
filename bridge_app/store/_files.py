"""The database's files are readable by their owner only (POSIX): the main file, SQLite's
``-wal`` / ``-shm`` / ``-journal`` beside it, and the copies kept before an upgrade.

The file is encrypted, but its size, page layout and write pattern are nobody else's
business, and a readable file invites offline key guessing. SQLite gives the ``-wal``,
``-shm`` and journal files the main file's permissions, so creating the main file
owner-only covers them; files an older version left wider are tightened at open.
Windows keeps files private through the user profile's ACLs: nothing to do there.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

OWNER_ONLY = 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _posix() -> bool:
    return os.name != "nt"


def create_owner_only(path: Path) -> None:
    """Create an empty database file with mode 0600 (SQLite treats an empty file as a new
    database), so it is never readable by others, not even for a moment."""
    if not _posix() or path.exists():
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        return  # another process created it first; tightened below like any other
    os.close(fd)


def tighten(path: Path) -> bool:
    """Make ``path`` owner-only if it exists and is wider; True when it was changed."""
    if not _posix():
        return False
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if mode & 0o077 == 0:
        return False
    try:
        os.chmod(path, mode & 0o700 | OWNER_ONLY)
    except OSError as exc:
        log.warning("cannot make %s owner-only (mode %o): %s", path, mode, exc)
        return False
    log.info("made %s owner-only (it was mode %o)", path.name, mode)
    return True


def database_files(path: Path) -> list[Path]:
    """The main file, its SQLite side files, and the upgrade copies kept beside it."""
    files = [path, *(path.with_name(path.name + suffix) for suffix in _SIDE_FILES)]
    if path.parent.is_dir():
        files.extend(sorted(path.parent.glob(f"{path.name}.v*.bak")))
    return files


def tighten_database_files(path: Path) -> None:
    for file in database_files(path):
        tighten(file)
