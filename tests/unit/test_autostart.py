"""Opening the app at login (runtime/_autostart.py), the way each desktop does it: an XDG
autostart entry on Linux (and hiding IT's entry for everybody with one of the same name),
the per-user Run value on Windows (the Wine leg)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from bridge_app.runtime import launch_command, read_login_entry, write_login_entry

linux_only = pytest.mark.skipif(sys.platform == "win32", reason="XDG autostart (Linux)")


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    home, system = tmp_path / "config", tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(system))
    return home / "autostart" / "litellm-bridge.desktop", system / "autostart"


@linux_only
def test_on_writes_a_desktop_entry_that_runs_this_installation_and_off_removes_it(
    xdg: tuple[Path, Path],
) -> None:
    own, _system = xdg
    assert read_login_entry().on is False
    entry = write_login_entry(True, kiosk=True)
    assert entry.on and entry.where == str(own) and not entry.for_everybody
    text = own.read_text(encoding="utf-8")
    assert f"Exec={sys.executable} -m bridge_app --kiosk\n" in text, text
    assert "Type=Application\n" in text and "Name=LiteLLM Bridge\n" in text
    assert own.stat().st_mode & 0o777 == 0o644
    assert write_login_entry(False).on is False
    assert not own.exists()


@linux_only
def test_it_entry_for_everybody_is_hidden_for_one_person_not_deleted(
    xdg: tuple[Path, Path],
) -> None:
    """The .deb's --autostart puts an entry in /etc/xdg/autostart; a person turning it off
    writes their own entry of the same name with Hidden=true (the XDG rule)."""
    own, system = xdg
    system.mkdir(parents=True)
    (system / "litellm-bridge.desktop").write_text(
        "[Desktop Entry]\nType=Application\nExec=litellm-bridge\n", encoding="utf-8"
    )
    entry = read_login_entry()
    assert (entry.on, entry.for_everybody, entry.command) == (True, True, "litellm-bridge")
    off = write_login_entry(False)
    assert off.on is False
    assert "Hidden=true\n" in own.read_text(encoding="utf-8")
    assert (system / "litellm-bridge.desktop").exists()
    assert write_login_entry(True).on is True  # their own entry again


@linux_only
def test_a_path_with_spaces_is_quoted_as_the_desktop_entry_spec_says(
    xdg: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    own, _system = xdg
    monkeypatch.setattr(sys, "executable", "/opt/My Apps/python$3")
    write_login_entry(True)
    assert 'Exec="/opt/My Apps/python\\$3" -m bridge_app\n' in own.read_text(encoding="utf-8")


@pytest.mark.windows
@pytest.mark.skipif(sys.platform != "win32", reason="Windows' registry (the Wine leg)")
def test_windows_writes_and_removes_the_run_value_with_the_path_quoted() -> None:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    path = r"Software\Microsoft\Windows\CurrentVersion\Run"
    key = winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, path, 0, winreg.KEY_ALL_ACCESS)
    try:
        saved = winreg.QueryValueEx(key, "LiteLLM Bridge")
    except FileNotFoundError:
        saved = None
    try:
        entry = write_login_entry(True)
        assert entry.on and entry.where.endswith(r"CurrentVersion\Run\LiteLLM Bridge")
        value, kind = winreg.QueryValueEx(key, "LiteLLM Bridge")
        assert kind == winreg.REG_SZ
        import subprocess

        assert value == subprocess.list2cmdline(launch_command())
        assert "pythonw.exe" in value or "-gui.exe" in value  # no console window at login
        assert write_login_entry(False).on is False
        with pytest.raises(FileNotFoundError):
            winreg.QueryValueEx(key, "LiteLLM Bridge")
    finally:
        if saved is not None:
            winreg.SetValueEx(key, "LiteLLM Bridge", 0, saved[1], saved[0])
        else:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, "LiteLLM Bridge")
        winreg.CloseKey(key)


@pytest.mark.windows
@pytest.mark.skipif(sys.platform != "win32", reason="Windows' registry (the Wine leg)")
def test_windows_machine_entry_from_the_msi_is_turned_off_for_one_person_not_deleted() -> None:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    run = r"Software\Microsoft\Windows\CurrentVersion\Run"
    approved = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
    machine = winreg.CreateKeyEx(winreg.HKEY_LOCAL_MACHINE, run, 0, winreg.KEY_ALL_ACCESS)
    command = r'"C:\Program Files\LiteLLM Bridge\litellm-bridge-gui.exe"'
    winreg.SetValueEx(machine, "LiteLLM Bridge", 0, winreg.REG_SZ, command)
    try:
        entry = read_login_entry()
        assert entry.on and entry.for_everybody and entry.command == command
        assert entry.where == rf"HKEY_LOCAL_MACHINE\{run}\LiteLLM Bridge"

        off = write_login_entry(False)
        assert not off.on and off.for_everybody
        assert winreg.QueryValueEx(machine, "LiteLLM Bridge")[0] == command  # IT's stays
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, approved) as key:
            mark, kind = winreg.QueryValueEx(key, "LiteLLM Bridge")
        assert kind == winreg.REG_BINARY and mark == bytes([3]) + bytes(11)

        on = write_login_entry(True)
        assert on.on and on.for_everybody  # IT's entry again, no second one of this user's
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, run) as key, pytest.raises(OSError):
            winreg.QueryValueEx(key, "LiteLLM Bridge")
    finally:
        with contextlib.suppress(FileNotFoundError):
            winreg.DeleteValue(machine, "LiteLLM Bridge")
        winreg.CloseKey(machine)
        with (
            contextlib.suppress(OSError),
            winreg.OpenKey(winreg.HKEY_CURRENT_USER, approved, 0, winreg.KEY_ALL_ACCESS) as key,
        ):
            winreg.DeleteValue(key, "LiteLLM Bridge")
