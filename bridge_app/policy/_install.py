"""IT places the company policy at the machine-wide location (the MSI's POLICYFILE, or by
hand as an administrator): checked first, then written so that only administrators (root)
may change it — the condition the app sets before it trusts that file (policy/_owner.py).

Windows: ``%ProgramData%\\LiteLLM Bridge\\`` and the files in it belong to Administrators,
with a protected access list: Administrators and SYSTEM full control, Users read (what the
folder would otherwise inherit from %ProgramData% lets every user create files there).
Linux: ``/etc/litellm-bridge/``, root-owned, 0755 / 0644.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bridge_app.policy._errors import PolicyError
from bridge_app.policy._files import parse_policy_bytes, read_policy_bytes
from bridge_app.policy._location import machine_policy_path, signature_path
from bridge_app.policy._owner import untrusted_owner

_ADMINS, _SYSTEM, _USERS = "S-1-5-32-544", "S-1-5-18", "S-1-5-32-545"


def install_machine_policy(source: Path, target: Path | None = None) -> tuple[Path, bool]:
    """Put the policy in ``source`` (and ``source.sig`` beside it, when there is one) in
    the machine-wide location; returns where, and whether a signature went with it.
    Nothing is written unless the file is a valid policy; a signature left over from an
    earlier policy is removed when the new one comes without one."""
    target = target or machine_policy_path()
    content = read_policy_bytes(source)
    parse_policy_bytes(content, source)
    signature = signature_path(source)
    signed = signature.is_file()
    if sys.platform != "win32" and os.geteuid() != 0:
        raise PolicyError(
            f"Only root may place the machine-wide policy {target}.",
            hint=f"Run it with sudo: sudo litellm-bridge policy install {source}",
        )
    folder = target.parent
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    _admin_only(folder, folder=True)
    problem = untrusted_owner(folder)
    if problem is not None:  # nothing written: a file there would not be trusted either
        if created:
            folder.rmdir()
        raise PolicyError(f"The policy cannot be placed in {folder}: {problem}.")
    written = [signature_path(target), target] if signed else [target]
    try:
        if signed:
            _write(signature_path(target), signature.read_bytes())
        else:
            signature_path(target).unlink(missing_ok=True)
        _write(target, content)
        for item in written:
            problem = untrusted_owner(item)
            if problem is not None:
                raise PolicyError(f"The policy cannot be placed at {target}: {problem}.")
    except BaseException:
        for item in written:
            item.unlink(missing_ok=True)
        raise
    return target, signed


def _write(path: Path, content: bytes) -> None:
    """Whole or not at all: a running app never reads half a policy."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    with partial.open("xb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    _admin_only(partial, folder=False)  # the rename keeps owner and access list
    os.replace(partial, path)


def _admin_only(path: Path, *, folder: bool) -> None:
    if sys.platform != "win32":
        os.chown(path, 0, 0)
        path.chmod(0o755 if folder else 0o644)
        return
    import ntsecuritycon as con
    import win32security

    def sid(text: str) -> object:
        return win32security.ConvertStringSidToSid(text)

    inherit = con.OBJECT_INHERIT_ACE | con.CONTAINER_INHERIT_ACE if folder else 0
    dacl = win32security.ACL()
    for who, rights in (
        (_ADMINS, con.FILE_ALL_ACCESS),
        (_SYSTEM, con.FILE_ALL_ACCESS),
        (_USERS, con.FILE_GENERIC_READ | con.FILE_GENERIC_EXECUTE),
    ):
        dacl.AddAccessAllowedAceEx(win32security.ACL_REVISION, inherit, rights, sid(who))
    win32security.SetNamedSecurityInfo(
        os.fspath(path),
        win32security.SE_FILE_OBJECT,
        win32security.OWNER_SECURITY_INFORMATION
        | win32security.DACL_SECURITY_INFORMATION
        | win32security.PROTECTED_DACL_SECURITY_INFORMATION,
        sid(_ADMINS),
        None,
        dacl,
        None,
    )
