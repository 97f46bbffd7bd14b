"""Could someone other than an administrator have written the machine-wide policy?

The default location must be one only administrators write, or the policy binds no one:
on Windows, %ProgramData% lets every user create folders and files, so an employee can
create ``%ProgramData%\\LiteLLM Bridge\\policy.yaml`` before IT ships one; on Linux the
file or a folder above it may have been made by a user. A file a standard user could have
written is refused like a tampered one (the last valid policy stays, `doctor` names it).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from bridge_app.policy._errors import PolicyError
from bridge_app.policy._location import signature_path

#: Administrators, LocalSystem and TrustedInstaller.
ADMIN_SIDS = frozenset(
    {
        "S-1-5-32-544",
        "S-1-5-18",
        "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
    }
)
_HINT = "IT: create it (and its folder) as an administrator, so only administrators may change it."


def untrusted_owner(path: Path) -> str | None:
    """Why ``path`` (an existing policy or signature file) may have been written by a
    standard user, or None when only administrators (root) could have."""
    if sys.platform == "win32":
        return _windows(path)
    return _posix(path)


def refuse_untrusted_owner(path: Path) -> None:
    """PolicyError when a standard user could have written the machine-wide file or its
    signature: such a file is not the company's."""
    for item in (path, signature_path(path)):
        problem = untrusted_owner(item) if item.exists() else None
        if problem is not None:
            raise PolicyError(f"The policy {path} is not trusted: {problem}. {_HINT}")


def _posix(path: Path) -> str | None:
    # The file and every folder above it (as sshd's StrictModes does): whoever may write
    # one of them may replace the file.
    for item in (path, *path.absolute().parents):
        try:
            info = item.stat()
        except OSError:
            continue
        if info.st_uid != 0:
            return f"{item} belongs to user id {info.st_uid}, not to root"
        sticky = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
            return f"{item} may be changed by users other than root"
    return None


def _windows(path: Path) -> str | None:
    if sys.platform != "win32":
        return None
    import win32security  # pywin32: a dependency on Windows (keyring, PyInstaller)

    info = win32security.OWNER_SECURITY_INFORMATION | win32security.DACL_SECURITY_INFORMATION
    try:
        descriptor = win32security.GetNamedSecurityInfo(
            os.fspath(path), win32security.SE_FILE_OBJECT, info
        )
    except win32security.error as exc:
        return f"its permissions cannot be read ({exc.strerror})"
    owner = descriptor.GetSecurityDescriptorOwner()
    if win32security.ConvertSidToStringSid(owner) not in ADMIN_SIDS:
        return f"{path} belongs to {_account(owner)}, not to the administrators"
    dacl = descriptor.GetSecurityDescriptorDacl()
    if dacl is None:
        return f"{path} has no access list: everyone may change it"
    for index in range(dacl.GetAceCount()):
        (kind, flags), mask, sid = dacl.GetAce(index)
        if kind != win32security.ACCESS_ALLOWED_ACE_TYPE or flags & _INHERIT_ONLY:
            continue
        if mask & _WRITE_RIGHTS and win32security.ConvertSidToStringSid(sid) not in ADMIN_SIDS:
            return f"{_account(sid)} may change {path}"
    return None


_INHERIT_ONLY = 0x08
#: FILE_WRITE_DATA, FILE_APPEND_DATA, FILE_WRITE_EA, FILE_WRITE_ATTRIBUTES, DELETE,
#: WRITE_DAC, WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE
_WRITE_RIGHTS = 0x2 | 0x4 | 0x10 | 0x100 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000


def _account(sid: object) -> str:
    import win32security

    try:
        name, domain, _kind = win32security.LookupAccountSid(None, sid)
        return f"{domain}\\{name}" if domain else str(name)
    except win32security.error:
        return str(win32security.ConvertSidToStringSid(sid))
