"""The Windows installer, as IT ships it: the release bundle Authenticode-signed with a test
certificate (osslsigncode, checked against the test authority), its manifest signed after
that, the MSI built from it with wixl (packaging/build_msi.py) and signed; then on a fresh
Windows under Wine a silent per-machine install with start at login, the installed exe checking
itself, a major upgrade that keeps the user's data, an uninstall that leaves the data. (The
per-user MSI installs the same files under %LOCALAPPDATA% and HKCU; tests/packaging/test_msi.py
reads its tables.)

POLICYFILE under Wine: the installed exe runs as the install's deferred action and refuses an
invalid policy, which undoes the whole install. A valid one it cannot place here: Wine keeps no
access lists (SetNamedSecurityInfo succeeds, and every file still reads back as the user's
own, with Everyone allowed to read), so `policy install` refuses to leave a policy that anyone
could have written — the same check the app makes before trusting the file. That it becomes
administrators-only on Windows is tested by the GitHub Windows job
(tests/unit/test_policy.py)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.policy import EXAMPLE_POLICY
from tests.windows._machine import Machine, code_signing_certificate, windows_path
from tests.windows._wine import ADMIN, ADMIN_PW, REPO
from tests.windows.conftest import BUILD_DIR

pytestmark = [
    pytest.mark.windows,
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(sys.platform == "win32", reason="drives Wine from Linux"),
    pytest.mark.skipif(shutil.which("wixl") is None, reason="needs msitools' wixl"),
]
PASSWORD = "test-pfx-password"
PYTHON = sys.executable
RUN_KEY = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
ENVIRONMENT_KEY = r"HKLM\System\CurrentControlSet\Control\Session Manager\Environment"
LNK = "LiteLLM Bridge.lnk"
WINE_USER = pwd.getpwuid(os.getuid()).pw_name  # Wine's profile is named after the Unix user
INSTALLED_WIN = r"C:\Program Files\LiteLLM Bridge"
UNINSTALL_KEY = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall"


def _tool(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [PYTHON, *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def release(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The signed bundle and its per-machine MSIs, versions A and B (the per-user MSI is the
    same files under HKCU and %LOCALAPPDATA%: tests/packaging/test_msi.py reads its tables)."""
    root = tmp_path_factory.mktemp("release")
    pfx, ca = code_signing_certificate(root, PASSWORD)
    signed = root / "litellm-bridge"
    shutil.copytree(bundle, signed, symlinks=True)
    secret = {"BRIDGE_AUTHENTICODE_PASSWORD": PASSWORD}
    exes = [str(signed / "litellm-bridge.exe"), str(signed / "litellm-bridge-gui.exe")]
    _tool("packaging/authenticode.py", "sign", "--pfx", str(pfx), *exes, env=secret)
    # The manifest after Authenticode, with the key the bundle trusts (the development key).
    _tool(
        "-m", "bridge_app.integrity", "sign-manifest", str(signed),
        "--key", str(BUILD_DIR / "dev-signing-key.pem"),
        "--version", json.loads((bundle / "MANIFEST.json").read_text())["version"],
    )  # fmt: skip
    made: dict[str, Path] = {"bundle": signed, "ca": ca}
    for name, extra in (
        ("a", []),
        ("b", ["--version", "0.1.1"]),
    ):
        started = time.monotonic()
        out = root / name
        said = _tool(
            "packaging/build_msi.py", "--bundle", str(signed), "--out", str(out),
            "--sign-pfx", str(pfx), *extra, env=secret,
        )  # fmt: skip
        (msi,) = out.glob("*.msi")
        made[name] = msi
        print(
            f"{msi.name}: {msi.stat().st_size / 1e6:.0f} MB in {time.monotonic() - started:.0f} s"
        )
        assert "Authenticode-signed" in said
    return made


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machine]:
    """One fresh Windows for the install and then the upgrade and uninstall (in order)."""
    started = time.monotonic()
    fresh = Machine(tmp_path_factory.mktemp("machine"))
    print(f"fresh Windows prefix in {time.monotonic() - started:.0f} s")
    yield fresh
    fresh.close()


def test_the_executables_and_the_msi_carry_a_valid_authenticode_signature(
    release: dict[str, Path], tmp_path: Path
) -> None:
    ca = str(release["ca"])
    paths = [
        release["bundle"] / "litellm-bridge.exe",
        release["bundle"] / "litellm-bridge-gui.exe",
        release["a"],
        release["b"],
    ]
    checked = subprocess.run(
        [PYTHON, "packaging/authenticode.py", "verify", "--ca", ca, *map(str, paths)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("valid: ") == 4, checked.stdout

    # One byte changed after signing, and a file never signed: both refused.
    changed = tmp_path / "changed.exe"
    data = bytearray((release["bundle"] / "litellm-bridge.exe").read_bytes())
    data[len(data) // 3] ^= 0x01
    changed.write_bytes(bytes(data))
    unsigned = tmp_path / "unsigned.exe"
    shutil.copy(release["bundle"] / "_internal" / "python311.dll", unsigned)
    refused = subprocess.run(
        [PYTHON, "packaging/authenticode.py", "verify", "--ca", ca, str(changed), str(unsigned)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert f"INVALID: {changed}" in refused.stdout and f"INVALID: {unsigned}" in refused.stdout


FIGURES: list[str] = []


def test_a_silent_per_machine_install_with_start_at_login(
    release: dict[str, Path], machine: Machine, tmp_path: Path
) -> None:
    figures = FIGURES
    installed = machine.drive_c / "Program Files" / "LiteLLM Bridge"
    exe_win = r"C:\Program Files\LiteLLM Bridge\litellm-bridge.exe"
    policy = tmp_path / "company" / "policy.yaml"
    policy.parent.mkdir()
    policy.write_text(EXAMPLE_POLICY, encoding="utf-8")
    broken = tmp_path / "company" / "broken.yaml"
    broken.write_text("allowed_models: [\n", encoding="utf-8")

    # An invalid policy fails the whole install: nothing is left behind.
    rc = machine.msiexec(
        "/i", windows_path(release["a"]), f"POLICYFILE={windows_path(broken)}",
        log=tmp_path / "broken.log",
    )  # fmt: skip
    # Windows says 1603 (fatal error during installation); Wine's msi says 1627 (function
    # failed); a Linux exit status keeps the low 8 bits of either.
    assert rc in (1603 & 0xFF, 1627 & 0xFF), rc
    said = (tmp_path / "broken.log").read_bytes().decode("utf-8", errors="replace")
    assert "Action start" in said and "PlacePolicy" in said
    assert not (installed / "litellm-bridge.exe").exists()
    assert not (machine.drive_c / "ProgramData" / "LiteLLM Bridge" / "policy.yaml").exists()

    started = time.monotonic()
    rc = machine.msiexec(
        "/i", windows_path(release["a"]), "AUTOSTART=1", log=tmp_path / "install.log"
    )  # fmt: skip
    figures.append(f"install A (per machine, silent): {time.monotonic() - started:.0f} s")
    assert rc == 0, (tmp_path / "install.log").read_text(encoding="utf-8", errors="replace")[-4000:]

    # What IT asked for is in place.
    assert (installed / "litellm-bridge.exe").is_file()
    # ProgramMenuFolder: the all-users Start menu on Windows; Wine 8.0 resolves it to the
    # installing user's one even when ALLUSERS=1.
    shortcuts = _shortcuts(machine)
    assert any(link.is_file() for link in shortcuts), shortcuts
    run = machine.reg_value(RUN_KEY, "LiteLLM Bridge")
    assert run == r'"C:\Program Files\LiteLLM Bridge\litellm-bridge-gui.exe"', run
    path = machine.reg_value(ENVIRONMENT_KEY, "PATH") or ""
    assert INSTALLED_WIN in [entry.rstrip("\\") for entry in path.split(";")], path

    # The installed exe: every file against the manifest signed after Authenticode.
    doctor = machine.run(exe_win, "doctor", "--json", timeout=300)
    report = json.loads(doctor.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True, checks
    assert checks["bundle integrity"]["detail"].startswith("All "), checks["bundle integrity"]
    # What POLICYFILE runs, by hand: the policy is checked, written, and then refused here
    # because Wine cannot make it administrators-only (see the module's docstring).
    placing = machine.run(exe_win, "policy", "install", windows_path(policy))
    assert placing.returncode == 1
    assert "not to the administrators" in placing.stderr, placing.stderr
    assert not (machine.drive_c / "ProgramData" / "LiteLLM Bridge").exists()  # nothing left
    # A new process finds the console exe by name through the system PATH (as CreateProcess
    # searches it; Wine's cmd.exe loses a child's output to a pipe, so not through cmd).
    on_path = machine.run("litellm-bridge.exe", "--version", check=True)
    assert "litellm-bridge, version 0.1.0" in on_path.stdout, on_path.stdout

    # A person sees IT's entry and turns it off for themselves only.
    machine.run(exe_win, "user", "create", ADMIN, "--admin", "--password-stdin",
                stdin=ADMIN_PW, check=True)  # fmt: skip
    login = ("settings", "start-at-login", "--as", ADMIN, "--password-stdin")
    said = machine.run(exe_win, *login, stdin=ADMIN_PW, check=True).stdout
    machine_run = RUN_KEY.replace("HKLM", "HKEY_LOCAL_MACHINE")
    assert f"opens at login for every user (installed by IT): {machine_run}\\LiteLLM" in said
    said = machine.run(exe_win, *login[:2], "off", *login[2:], stdin=ADMIN_PW, check=True).stdout
    assert "The app does not open at login." in said, said
    assert machine.reg_value(RUN_KEY, "LiteLLM Bridge") is not None  # IT's stays
    assert machine.reg_value(APPROVED_KEY, "LiteLLM Bridge") == "030000000000000000000000"


def test_the_next_version_replaces_it_and_the_uninstall_keeps_the_data(
    release: dict[str, Path], machine: Machine, tmp_path: Path, artifacts_dir: Path
) -> None:
    """After the install test: version B (this time with KIOSK=1, which also opens the
    window at login), then the uninstall."""
    figures = FIGURES
    installed = machine.drive_c / "Program Files" / "LiteLLM Bridge"
    exe_win = r"C:\Program Files\LiteLLM Bridge\litellm-bridge.exe"
    assert (installed / "litellm-bridge.exe").is_file(), "the install test did not run first"
    # Version B replaces A in place; the user made under A is still there.
    started = time.monotonic()
    rc = machine.msiexec(
        "/i", windows_path(release["b"]), "KIOSK=1", log=tmp_path / "upgrade.log"
    )  # fmt: skip
    figures.append(f"upgrade A -> B (major upgrade): {time.monotonic() - started:.0f} s")
    assert rc == 0, (tmp_path / "upgrade.log").read_text(encoding="utf-8", errors="replace")[-4000:]
    assert _installed_versions(machine) == ["0.1.1"]  # Apps & features lists B only
    kiosk = machine.reg_value(RUN_KEY, "LiteLLM Bridge")  # this time IT asked for a kiosk
    assert kiosk == r'"C:\Program Files\LiteLLM Bridge\litellm-bridge-gui.exe" --kiosk', kiosk
    users = machine.run(
        exe_win, "user", "list", "--as", ADMIN, "--password-stdin", stdin=ADMIN_PW, check=True
    ).stdout
    assert ADMIN in users, users
    assert machine.run(exe_win, "doctor", "--json").returncode == 0

    # Uninstall: program, Start-menu entry, PATH entry and Run value go; the data stays.
    started = time.monotonic()
    rc = machine.msiexec("/x", windows_path(release["b"]), log=tmp_path / "uninstall.log")
    figures.append(f"uninstall: {time.monotonic() - started:.0f} s")
    assert rc == 0
    assert not (installed / "litellm-bridge.exe").exists()
    assert not any(link.exists() for link in _shortcuts(machine))
    assert machine.reg_value(RUN_KEY, "LiteLLM Bridge") is None
    path = machine.reg_value(ENVIRONMENT_KEY, "PATH") or ""
    assert INSTALLED_WIN not in [entry.rstrip("\\") for entry in path.split(";")], path
    data = machine.drive_c / "users" / WINE_USER / "AppData" / "Local"
    assert (data / "litellm-bridge" / "bridge.db").is_file()  # the admin made under A, kept

    figures.append(f"MSI size (per machine): {release['a'].stat().st_size / 1e6:.0f} MB")
    (artifacts_dir / "windows-msi-under-wine.txt").write_text("\n".join(figures) + "\n")
    print("\n".join(figures))


def _installed_versions(machine: Machine) -> list[str]:
    """The DisplayVersion of each "LiteLLM Bridge" entry under the Uninstall key (what
    Apps & features lists)."""
    listed = machine.run("reg", "query", UNINSTALL_KEY, "/s", check=True).stdout
    versions, ours = [], False
    for line in listed.splitlines():
        fields = line.split(None, 2)
        if line.startswith("HKEY_"):
            ours = False
        elif fields[:3] == ["DisplayName", "REG_SZ", "LiteLLM Bridge"]:
            ours = True
        elif ours and fields[:2] == ["DisplayVersion", "REG_SZ"] and len(fields) == 3:
            versions.append(fields[2])
    return versions


def _shortcuts(machine: Machine) -> list[Path]:
    """Where ProgramMenuFolder's entry may be: the all-users Start menu on Windows; Wine 8.0
    resolves it to the installing user's one even when ALLUSERS=1."""
    return [
        machine.drive_c / base / "Microsoft" / "Windows" / "Start Menu" / "Programs" / LNK
        for base in ("ProgramData", f"users/{WINE_USER}/AppData/Roaming")
    ]
