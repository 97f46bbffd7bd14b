"""Whether a folder lives on a network file system.

The database is SQLite in write-ahead-log mode, which needs shared memory and byte-range
locks that network file systems (SMB/CIFS shares, NFS) do not provide reliably; SQLite's
own documentation warns against it, and two machines opening one file there can corrupt
it. `doctor` and the start of every front end warn about such a data folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Linux file system types that are network file systems.
NETWORK_TYPES = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "ncpfs",
        "fuse.sshfs",
        "fuse.rclone",
        "davfs",
        "fuse.davfs2",
    }
)
_DRIVE_REMOTE = 4  # GetDriveTypeW


def network_filesystem(path: Path, *, mounts: str | None = None) -> str | None:
    """What the network file system holding ``path`` is ("the network share
    \\\\server\\share", "an nfs4 mount at /mnt/x"), or None for a local disk.
    ``mounts``: the text of /proc/self/mounts (tests)."""
    if sys.platform == "win32":
        return _windows_network(path)
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = os.path.abspath(path)
    best: tuple[str, str] | None = None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(best[0])):
            best = (point, fields[2])
    if best is not None and best[1] in NETWORK_TYPES:
        return f"a {best[1]} mount at {best[0]}"
    return None


def _windows_network(path: Path) -> str | None:
    if sys.platform != "win32":
        return None
    text = str(path)
    if text.startswith(("\\\\", "//")) and not text.startswith(("\\\\?\\", "\\\\.\\")):
        share = "\\".join(text.replace("/", "\\").split("\\")[2:4])
        return f"the network share \\\\{share}"
    drive = os.path.splitdrive(os.path.abspath(text))[0]
    if not drive:
        return None
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32")
    if kernel32.GetDriveTypeW(ctypes.c_wchar_p(drive + "\\")) == _DRIVE_REMOTE:
        return f"the network drive {drive}"
    return None
