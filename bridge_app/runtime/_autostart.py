"""Opening the app at login, the way each desktop does it, for the person logged in.

Linux: an XDG autostart entry, ``$XDG_CONFIG_HOME/autostart/litellm-bridge.desktop``
(``~/.config/autostart``). A package may install one for everybody in
``/etc/xdg/autostart`` (``$XDG_CONFIG_DIRS``); a person turns that one off with an entry
of the same name marked ``Hidden=true`` in their own folder (the XDG rule).

Windows: the value ``LiteLLM Bridge`` under ``HKCU\\Software\\Microsoft\\Windows\\
CurrentVersion\\Run``, the windowed executable with its path quoted. The per-machine MSI
(AUTOSTART=1) writes the same value under HKLM for everybody; a person turns that one off
for themselves as Task Manager's Startup tab does, with a "disabled" mark in
``HKCU\\...\\Explorer\\StartupApproved\\Run``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bridge_app.runtime._files import atomic_write

ENTRY = "litellm-bridge.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "LiteLLM Bridge"


@dataclass(frozen=True)
class LoginEntry:
    """Whether the app opens at login, from where, and the command it runs."""

    on: bool
    where: str  # the file or registry value that says so (or would)
    command: str | None = None
    for_everybody: bool = False  # an entry IT's package installed for every user


def launch_command(*, kiosk: bool = False) -> list[str]:
    """The window of this installation: the bundle's windowed executable, or the source
    checkout's Python running the app."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable)
        if sys.platform == "win32" and not exe.stem.endswith("-gui"):
            exe = exe.with_name(f"{exe.stem}-gui{exe.suffix}")
        command = [str(exe)]
    else:
        python = Path(sys.executable)
        if sys.platform == "win32" and (python.parent / "pythonw.exe").exists():
            python = python.parent / "pythonw.exe"  # no console window at login
        command = [str(python), "-m", "bridge_app"]
    return [*command, "--kiosk"] if kiosk else command


def _desktop_quote(arg: str) -> str:
    """An argument of a desktop entry's Exec key (the Desktop Entry Specification)."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def _system_entries() -> list[Path]:
    dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    return [Path(d) / "autostart" / ENTRY for d in dirs.split(":") if d]


def _fields(path: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            fields.setdefault(key.strip(), value.strip())
    return fields


def read_login_entry() -> LoginEntry:
    if sys.platform == "win32":
        return _read_run_value()
    own = _config_home() / "autostart" / ENTRY
    if own.exists():
        fields = _fields(own)
        hidden = fields.get("Hidden", "").lower() == "true"
        return LoginEntry(not hidden, str(own), None if hidden else fields.get("Exec"))
    for path in _system_entries():
        if path.exists():
            fields = _fields(path)
            if fields.get("Hidden", "").lower() != "true":
                return LoginEntry(True, str(path), fields.get("Exec"), for_everybody=True)
    return LoginEntry(False, str(own))


def write_login_entry(on: bool, *, kiosk: bool = False) -> LoginEntry:
    """Turn opening at login on or off for this user; what is in effect afterwards."""
    if sys.platform == "win32":
        _write_run_value(on, kiosk=kiosk)
        return read_login_entry()
    own = _config_home() / "autostart" / ENTRY
    if on:
        command = " ".join(_desktop_quote(a) for a in launch_command(kiosk=kiosk))
        text = (
            "[Desktop Entry]\nType=Application\nName=LiteLLM Bridge\n"
            f"Exec={command}\nIcon=litellm-bridge\nTerminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )
    elif any(path.exists() for path in _system_entries()):
        # IT's entry for everybody stays; this user's own entry of the same name hides it.
        text = "[Desktop Entry]\nType=Application\nName=LiteLLM Bridge\nHidden=true\n"
    else:
        own.unlink(missing_ok=True)
        return read_login_entry()
    own.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(own, text.encode("utf-8"), mode=0o644)
    return read_login_entry()


APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
# StartupApproved values: 12 bytes, the first 02 (enabled) or 03 (disabled), as Explorer
# and Task Manager write them.
_DISABLED = bytes([3]) + bytes(11)

if sys.platform == "win32":

    def _read_run_value() -> LoginEntry:
        import winreg

        own = rf"HKEY_CURRENT_USER\{RUN_KEY}\{RUN_VALUE}"
        value = _query(winreg.HKEY_CURRENT_USER, RUN_KEY, RUN_VALUE)
        if value is not None:
            return LoginEntry(True, own, str(value))
        machine = _query(winreg.HKEY_LOCAL_MACHINE, RUN_KEY, RUN_VALUE)
        if machine is None:
            return LoginEntry(False, own)
        where = rf"HKEY_LOCAL_MACHINE\{RUN_KEY}\{RUN_VALUE}"
        mark = _query(winreg.HKEY_CURRENT_USER, APPROVED_KEY, RUN_VALUE)
        off = isinstance(mark, bytes) and mark[:1] == _DISABLED[:1]
        return LoginEntry(not off, where, None if off else str(machine), for_everybody=True)

    def _query(root: int, key_name: str, name: str) -> object | None:
        import winreg

        try:
            with winreg.OpenKey(root, key_name) as key:
                value: object = winreg.QueryValueEx(key, name)[0]
        except OSError:
            return None
        return value

    def _write_run_value(on: bool, *, kiosk: bool) -> None:
        import winreg

        machine = _query(winreg.HKEY_LOCAL_MACHINE, RUN_KEY, RUN_VALUE) is not None
        user = winreg.HKEY_CURRENT_USER
        with winreg.CreateKeyEx(user, APPROVED_KEY, 0, winreg.KEY_ALL_ACCESS) as key:
            if machine and not on:  # IT's entry stays; this person's mark turns it off
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_BINARY, _DISABLED)
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, RUN_VALUE)
        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            if on and not machine:
                command = subprocess.list2cmdline(launch_command(kiosk=kiosk))
                winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, command)
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, RUN_VALUE)
