"""Build the Windows installer (MSI) of a Windows bundle with msitools' wixl, on Linux.

    python packaging/build_msi.py --bundle packaging/dist-windows/litellm-bridge
        [--scope machine|user] [--version X.Y.Z] [--out DIR]
        [--sign-pfx FILE [--sign-password-env NAME]]

wixl (Debian's msitools) compiles a WiX 3 source; wixl-heat lists the bundle's files as
components with stable ids, so that a later version's MSI replaces this one file by file
(a major upgrade: same UpgradeCode, higher version). The release workflow may build the
same source with WiX on Windows; this script is how our CI builds and checks it on Linux.

What the MSI installs:
  per machine (--scope machine, the default; needs administrator rights):
    %ProgramFiles%\\LiteLLM Bridge\\       the bundle as built (its signed manifest holds)
    Start menu "LiteLLM Bridge"           the windowed exe
    the console exe on the system PATH
    HKLM\\Software\\LiteLLM Bridge         InstallDir, Scope (how the app knows an MSI owns
                                          this copy and leaves updates to IT)
  per user (--scope user; no administrator rights):
    %LOCALAPPDATA%\\Programs\\LiteLLM Bridge\\, the Start menu entry and the user's PATH,
    HKCU\\Software\\LiteLLM Bridge

Properties for a silent install (msiexec /i FILE /qn PROPERTY=VALUE ...):
  POLICYFILE=<path>   per machine: the company policy (and <path>.sig beside it) placed in
                      %ProgramData%\\LiteLLM Bridge\\ with an access list only administrators
                      can write, by the installed `litellm-bridge policy install`; an invalid
                      policy fails the install (exit code 1603) and leaves nothing behind
  AUTOSTART=1         the window opens at every login (the Run key: HKLM per machine, HKCU
                      per user); each person may still turn it off in Settings
  KIOSK=1             the window opens at login in kiosk mode (implies AUTOSTART)

Uninstalling removes the program, its Start-menu entry, PATH entry and Run value; each
person's data (%LOCALAPPDATA%\\litellm-bridge) and the machine policy stay, as IT expects
of a reinstall. With --sign-pfx the MSI is Authenticode-signed (packaging/authenticode.py).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import authenticode  # noqa: E402 - packaging/ is not a package
from build_deb import bundle_version  # noqa: E402

PRODUCT = "LiteLLM Bridge"
CONSOLE_EXE = "litellm-bridge.exe"
WINDOW_EXE = "litellm-bridge-gui.exe"
# One upgrade code per scope, never changed: a per-machine and a per-user install are two
# products Windows keeps apart; each upgrades only its own kind.
UPGRADE_CODES = {
    "machine": "5B0E3C1E-7A52-4D6B-9D1F-3F4C2A8E6B10",
    "user": "9C7D2F44-1E6B-4C38-8A5E-2D9B7F1C0E21",
}
FIXED_GUIDS = {  # components that are not files: stable ids across versions
    "machine": {
        "Shortcut": "0F3A6B1E-2C4D-4E5F-8A9B-1C2D3E4F5A60",
        "Path": "1A4B7C2F-3D5E-4F60-9BAC-2D3E4F5A6B71",
        "Autostart": "2B5C8D30-4E6F-4071-ACBD-3E4F5A6B7C82",
    },
    "user": {
        "Shortcut": "4D7EAF52-6071-4293-CEDF-5A6B7C8D9EA4",
        "Path": "5E8FB063-7182-43A4-DFE0-6B7C8D9EAFB5",
        "Autostart": "6F90C174-8293-44B5-E0F1-7C8D9EAFB0C6",
    },
}
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APP_KEY = r"Software\LiteLLM Bridge"
WIX_NS = "http://schemas.microsoft.com/wix/2006/wi"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def msi_version(version: str) -> str:
    """The ProductVersion Windows compares: three numbers (0.1.0rc2 -> 0.1.0)."""
    parts: list[str] = []
    for part in version.split(".")[:3]:
        digits = re.match(r"\d*", part).group() or "0"  # type: ignore[union-attr]
        parts.append(str(min(int(digits), 65535 if parts else 255)))
    return ".".join(parts + ["0"] * (3 - len(parts)))


def harvest(bundle: Path) -> tuple[str, dict[str, str]]:
    """wixl-heat's fragment for every file of the bundle, and the file ids of the two
    executables (for the shortcut and the policy action)."""
    files = sorted(str(p) for p in bundle.rglob("*") if p.is_file())
    done = subprocess.run(
        [
            "wixl-heat",
            "--directory-ref",
            "INSTALLDIR",
            "--component-group",
            "Bundle",
            "--var",
            "var.Bundle",
            "--prefix",
            f"{bundle}/",
            "--win64",
        ],
        input="\n".join(files) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"build_msi.py: wixl-heat failed: {done.stderr.strip()}")
    ids: dict[str, str] = {}
    # wixl-heat's own output about our own files: trusted input.
    listing = ET.fromstring(done.stdout)  # noqa: S314
    for element in listing.iter(f"{{{WIX_NS}}}File"):
        name = element.get("Source", "").rsplit("/", 1)[-1]
        if name in (CONSOLE_EXE, WINDOW_EXE) and "/_internal/" not in element.get("Source", ""):
            ids[name] = element.get("Id", "")
    missing = {CONSOLE_EXE, WINDOW_EXE} - set(ids)
    if missing:
        sys.exit(f"build_msi.py: the bundle {bundle} has no {', '.join(sorted(missing))}")
    return done.stdout, ids


def product_source(scope: str, version: str, ids: dict[str, str]) -> str:
    machine = scope == "machine"
    guids = FIXED_GUIDS[scope]
    root = "HKLM" if machine else "HKCU"
    programs = (
        '<Directory Id="ProgramFiles64Folder">'
        f'<Directory Id="INSTALLDIR" Name="{PRODUCT}"/></Directory>'
        if machine
        else '<Directory Id="LocalAppDataFolder"><Directory Id="UserPrograms" Name="Programs">'
        f'<Directory Id="INSTALLDIR" Name="{PRODUCT}"/></Directory></Directory>'
    )
    install_scope = "perMachine" if machine else "perUser"
    window = f"&quot;[INSTALLDIR]{WINDOW_EXE}&quot;"
    policy = (
        f"""
    <CustomAction Id="PlacePolicy" FileKey="{ids[CONSOLE_EXE]}"
      ExeCommand="policy install &quot;[POLICYFILE]&quot;"
      Execute="deferred" Impersonate="no" Return="check"/>
    <InstallExecuteSequence>
      <Custom Action="PlacePolicy" After="InstallFiles">POLICYFILE AND NOT REMOVE="ALL"</Custom>
    </InstallExecuteSequence>"""
        if machine
        else ""
    )

    def registry(key: str, name: str, value: str) -> str:
        return (
            f'<RegistryValue Root="{root}" Key="{key}" Name="{name}" Type="string" '
            f'Value="{value}" KeyPath="yes"/>'
        )

    return f"""<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="{WIX_NS}">
  <Product Id="*" Name="{PRODUCT}" Language="1033" Version="{version}"
    Manufacturer="{PRODUCT}" UpgradeCode="{UPGRADE_CODES[scope]}">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="{install_scope}"
      Description="{PRODUCT} {version} ({"all users" if machine else "this user"})"
      Manufacturer="{PRODUCT}"/>
    <MajorUpgrade DowngradeErrorMessage="A newer version of {PRODUCT} is already installed."/>
    <MediaTemplate EmbedCab="yes"/>
    <Property Id="ARPHELPLINK" Value="https://github.com/litellm-bridge/litellm-bridge"/>
    <Property Id="ARPNOMODIFY" Value="1"/>
    <CustomAction Id="SetKioskArg" Property="KIOSKARG" Value=" --kiosk"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      {programs}
      <Directory Id="ProgramMenuFolder"/>
    </Directory>
    <DirectoryRef Id="INSTALLDIR">
      <Component Id="Shortcut" Guid="{guids["Shortcut"]}" Win64="yes">
        <Shortcut Id="StartMenuWindow" Directory="ProgramMenuFolder" Name="{PRODUCT}"
          Description="Route your AI coding tools through your company's LLM endpoints"
          Target="[INSTALLDIR]{WINDOW_EXE}" WorkingDirectory="INSTALLDIR"/>
        <RegistryValue Root="{root}" Key="{APP_KEY}" Name="InstallDir" Type="string"
          Value="[INSTALLDIR]" KeyPath="yes"/>
        <RegistryValue Root="{root}" Key="{APP_KEY}" Name="Scope" Type="string"
          Value="{scope}"/>
        <RegistryValue Root="{root}" Key="{APP_KEY}" Name="Version" Type="string"
          Value="[ProductVersion]"/>
      </Component>
      <Component Id="Path" Guid="{guids["Path"]}" Win64="yes">
        {registry(APP_KEY, "OnPath", "1")}
      </Component>
      <Component Id="Autostart" Guid="{guids["Autostart"]}" Win64="yes">
        {registry(RUN_KEY, PRODUCT, window + "[KIOSKARG]")}
      </Component>
    </DirectoryRef>
    <Feature Id="Application" Title="{PRODUCT}" Level="1" Absent="disallow">
      <ComponentGroupRef Id="Bundle"/>
      <ComponentRef Id="Shortcut"/>
      <ComponentRef Id="Path"/>
      <ComponentRef Id="Autostart"/>
    </Feature>{policy}
  </Product>
</Wix>
"""


def build(bundle: Path, out: Path, *, scope: str, version: str) -> Path:
    fragment, ids = harvest(bundle)
    with tempfile.TemporaryDirectory(prefix="build-msi-") as tmp:
        work = Path(tmp)
        (work / "bundle.wxs").write_text(fragment, encoding="utf-8")
        (work / "product.wxs").write_text(product_source(scope, version, ids), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial").resolve()
        # wixl finds sources relative to the folder it runs in, never by absolute path.
        (work / "bundle").symlink_to(bundle, target_is_directory=True)
        done = subprocess.run(
            [
                "wixl",
                "--arch",
                "x64",
                "-D",
                "Bundle=bundle",
                "-D",
                "Win64=yes",
                "-o",
                str(partial),
                str(work / "product.wxs"),
                str(work / "bundle.wxs"),
            ],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            sys.exit(f"build_msi.py: wixl failed:\n{done.stderr.strip()}")
        amend(partial, scope)
        partial.replace(out)
    return out


def amend(msi: Path, scope: str) -> None:
    """What wixl 0.101 (Debian 12) leaves out of the WiX source, added to the database with
    msibuild's SQL: component conditions, the PATH entry (the Environment table) and the
    sequence (the policy action inside the install script, after the files; a previous
    version removed before this one is installed, so that every file of the bundle is
    this version's whatever its file version says)."""
    system = "*" if scope == "machine" else ""
    queries = [
        # One component owns the login entry: the window, with --kiosk when KIOSK=1. A
        # condition is evaluated again at uninstall, where the properties are not given:
        # without REMOVE="ALL" the entry would be left behind (measured under Wine).
        'UPDATE `Component` SET `Condition` = \'AUTOSTART="1" OR KIOSK="1" OR REMOVE="ALL"\' '
        "WHERE `Component` = 'Autostart'",
        "INSERT INTO `InstallExecuteSequence` (`Action`, `Condition`, `Sequence`) "
        "VALUES ('SetKioskArg', 'KIOSK=\"1\"', 790)",
        "CREATE TABLE `Environment` (`Environment` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL "
        "LOCALIZABLE, `Value` CHAR(255) LOCALIZABLE, `Component_` CHAR(72) NOT NULL "
        "PRIMARY KEY `Environment`)",
        # = set, - take it out again at uninstall, * the system's (not the user's) variable
        "INSERT INTO `Environment` (`Environment`, `Name`, `Value`, `Component_`) "  # noqa: S608
        f"VALUES ('PathEntry', '=-{system}PATH', '[~];[INSTALLDIR]', 'Path')",
        "INSERT INTO `InstallExecuteSequence` (`Action`, `Sequence`) "
        "VALUES ('RemoveEnvironmentStrings', 3300)",
        "INSERT INTO `InstallExecuteSequence` (`Action`, `Sequence`) "
        "VALUES ('WriteEnvironmentStrings', 5200)",
        "UPDATE `InstallExecuteSequence` SET `Sequence` = 1401 "
        "WHERE `Action` = 'RemoveExistingProducts'",
    ]
    if scope == "machine":
        queries.append(
            "UPDATE `InstallExecuteSequence` SET `Sequence` = 5300 WHERE `Action` = 'PlacePolicy'"
        )
    command = ["msibuild", str(msi)]
    for query in queries:
        command += ["-q", query]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msi.unlink(missing_ok=True)
        sys.exit(f"build_msi.py: msibuild failed: {done.stderr.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True, help="the Windows bundle folder")
    parser.add_argument("--scope", choices=("machine", "user"), default="machine")
    parser.add_argument("--version", help="the MSI's version (default: the bundle's)")
    parser.add_argument("--out", type=Path, help="folder for the .msi (default: beside it)")
    parser.add_argument("--sign-pfx", type=Path, help="Authenticode certificate and key")
    parser.add_argument(
        "--sign-password-env",
        default=authenticode.PASSWORD_ENV,
        help="environment variable holding the PFX password",
    )
    args = parser.parse_args()
    started = time.monotonic()
    bundle = args.bundle.resolve()
    if not (bundle / CONSOLE_EXE).is_file():
        sys.exit(f"build_msi.py: {bundle} is not a Windows bundle (no {CONSOLE_EXE})")
    version = msi_version(args.version or bundle_version(bundle, "build_msi.py"))
    suffix = "" if args.scope == "machine" else "-user"
    out = (args.out or bundle.parent) / f"litellm-bridge-{version}-windows-x86_64{suffix}.msi"
    say(f"MSI {out.name} ({args.scope}) from {bundle}")
    build(bundle, out, scope=args.scope, version=version)
    if args.sign_pfx:
        authenticode.sign(out, args.sign_pfx, os.environ.get(args.sign_password_env, ""))
        say("Authenticode-signed")
    say(f"Done: {out} ({out.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
