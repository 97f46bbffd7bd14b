"""The MSI's database as wixl and msibuild leave it (packaging/build_msi.py), read back with
msitools' msiinfo: what Windows Installer will do with it, for both scopes. The real install
under Wine is tests/windows/test_wine_msi.py; this catches a broken source in seconds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("wixl") is None, reason="needs msitools' wixl")


def _bundle(folder: Path) -> Path:
    bundle = folder / "litellm-bridge"
    (bundle / "_internal" / "kivy").mkdir(parents=True)
    for name in ("litellm-bridge.exe", "litellm-bridge-gui.exe", "_internal/python311.dll"):
        (bundle / name).write_bytes(b"MZ" + name.encode())
    (bundle / "_internal" / "kivy" / "a file with spaces.txt").write_text("x")
    (bundle / "MANIFEST.json").write_text(json.dumps({"version": "1.2.3rc1"}))
    return bundle


def _build(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "packaging" / "build_msi.py"), "--bundle", str(bundle), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _table(msi: Path, name: str) -> list[list[str]]:
    done = subprocess.run(
        ["msiinfo", "export", str(msi), name], capture_output=True, text=True, check=True
    )
    return [line.split("\t") for line in done.stdout.splitlines()[3:]]


def test_per_machine_msi_installs_files_entry_path_autostart_and_the_policy_action(
    tmp_path: Path,
) -> None:
    built = _build(_bundle(tmp_path), "--out", str(tmp_path / "out"))
    assert built.returncode == 0, built.stderr
    msi = tmp_path / "out" / "litellm-bridge-1.2.3-windows-x86_64.msi"
    assert f"Done: {msi}" in built.stdout

    properties = dict(row[:2] for row in _table(msi, "Property"))
    assert properties["ALLUSERS"] == "1"
    assert properties["ProductVersion"] == "1.2.3"  # Windows compares three numbers
    files = {row[2].split("|")[-1] for row in _table(msi, "File")}
    assert files >= {"litellm-bridge.exe", "litellm-bridge-gui.exe", "a file with spaces.txt"}
    assert _table(msi, "Upgrade")[0][0] == "{5B0E3C1E-7A52-4D6B-9D1F-3F4C2A8E6B10}"
    assert properties["UpgradeCode"] == "{5B0E3C1E-7A52-4D6B-9D1F-3F4C2A8E6B10}"

    sequence = {row[0]: (row[1], int(row[2])) for row in _table(msi, "InstallExecuteSequence")}
    # The policy is placed by the installed exe inside the install script, after the files;
    # an earlier version goes before this one is installed.
    condition, at = sequence["PlacePolicy"]
    assert condition == 'POLICYFILE AND NOT REMOVE="ALL"'
    assert sequence["InstallFiles"][1] < at < sequence["InstallFinalize"][1]
    assert sequence["InstallValidate"][1] < sequence["RemoveExistingProducts"][1]
    assert sequence["RemoveExistingProducts"][1] < sequence["InstallInitialize"][1]
    assert {"WriteEnvironmentStrings", "RemoveEnvironmentStrings"} <= set(sequence)
    actions = {row[0]: row for row in _table(msi, "CustomAction")}
    assert actions["PlacePolicy"][3] == 'policy install "[POLICYFILE]"'
    assert int(actions["PlacePolicy"][1]) & 0x0C00 == 0x0C00  # deferred, as administrator
    # One component owns the login entry; KIOSK=1 adds --kiosk through a property set early.
    assert actions["SetKioskArg"][2:4] == ["KIOSKARG", " --kiosk"]
    assert sequence["SetKioskArg"] == ('KIOSK="1"', 790)
    components = {row[0]: row[4] for row in _table(msi, "Component")}
    assert components["Autostart"] == 'AUTOSTART="1" OR KIOSK="1" OR REMOVE="ALL"'
    runs = [row for row in _table(msi, "Registry") if row[3] == "LiteLLM Bridge"]
    assert [(row[4], row[5]) for row in runs] == [
        ('"[INSTALLDIR]litellm-bridge-gui.exe"[KIOSKARG]', "Autostart")
    ]
    assert {row[1] for row in _table(msi, "Registry")} == {"2"}  # HKLM
    ((_, name, value, _),) = _table(msi, "Environment")
    assert (name, value) == ("=-*PATH", "[~];[INSTALLDIR]")  # system PATH, removed at uninstall
    ((shortcut,),) = [[row] for row in _table(msi, "Shortcut")]
    assert shortcut[1] == "ProgramMenuFolder" and shortcut[4].endswith("litellm-bridge-gui.exe")


def test_per_user_msi_needs_no_administrator_and_has_no_policy_action(tmp_path: Path) -> None:
    built = _build(_bundle(tmp_path), "--scope", "user", "--version", "2.0")
    assert built.returncode == 0, built.stderr
    msi = tmp_path / "litellm-bridge-2.0.0-windows-x86_64-user.msi"
    properties = dict(row[:2] for row in _table(msi, "Property"))
    assert "ALLUSERS" not in properties or properties["ALLUSERS"] == ""
    assert [row[0] for row in _table(msi, "CustomAction")] == ["SetKioskArg"]  # no policy
    assert {row[1] for row in _table(msi, "Registry")} == {"1"}  # HKCU
    directories = {row[0]: row for row in _table(msi, "Directory")}
    assert directories["UserPrograms"][1] == "LocalAppDataFolder"
    assert _table(msi, "Environment")[0][1] == "=-PATH"  # the user's PATH


def test_a_folder_without_the_windows_executables_is_refused(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    (bundle / "litellm-bridge.exe").unlink()
    built = _build(bundle)
    assert built.returncode == 1
    assert "is not a Windows bundle (no litellm-bridge.exe)" in built.stderr
    assert not list(tmp_path.rglob("*.msi"))
