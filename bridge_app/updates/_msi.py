"""Whether this copy was installed by the Windows installer (MSI), which then owns it: an
update unpacked beside it would leave Windows' record of the installed version (Apps &
features, Intune's inventory, a later repair or uninstall) wrong, and a per-machine copy in
%ProgramFiles% cannot be replaced by the person logged in at all. packaging/build_msi.py
writes ``Software\\LiteLLM Bridge`` (InstallDir, Scope) under HKLM or HKCU."""

from __future__ import annotations

import sys
from pathlib import Path

APP_KEY = r"Software\LiteLLM Bridge"


def msi_scope(executable: Path | None = None) -> str | None:
    """ "machine" or "user" when the running (packaged) program is the one an MSI installed,
    else None (an unpacked archive, a source checkout, Linux)."""
    if sys.platform != "win32" or not getattr(sys, "frozen", False):
        return None
    import winreg

    folder = (executable or Path(sys.executable)).resolve().parent
    for root in (winreg.HKEY_LOCAL_MACHINE, winreg.HKEY_CURRENT_USER):
        try:
            with winreg.OpenKey(root, APP_KEY) as key:
                installed = str(winreg.QueryValueEx(key, "InstallDir")[0])
                scope = str(winreg.QueryValueEx(key, "Scope")[0])
        except OSError:
            continue
        if installed and Path(installed).resolve() == folder:
            return scope
    return None


def msi_reason(scope: str) -> str:
    """Why `update apply` leaves an MSI-installed copy to the MSI."""
    if scope == "machine":
        return (
            "this copy was installed for all users by your company's installer (MSI); "
            "IT installs new versions with it."
        )
    return (
        "this copy was installed with the Windows installer (MSI); install the new "
        "version's MSI (litellm-bridge-<version>-windows-x86_64-user.msi) to update it."
    )
