"""Build a Debian package (.deb) of a Linux bundle with dpkg-deb, Debian's own tool.

    python packaging/build_deb.py --bundle packaging/dist/litellm-bridge [--out DIR]
        [--policy FILE] [--autostart] [--kiosk]

What it installs:
  /opt/litellm-bridge/                  the bundle as built (its signed manifest still holds)
  /usr/bin/litellm-bridge               the command (a link into the bundle)
  /usr/share/applications/litellm-bridge.desktop, /usr/share/icons/hicolor/256x256/apps/
  /usr/share/doc/litellm-bridge/copyright   the licence (MIT), pointing to the bundle's
                                        THIRD-PARTY-LICENSES.txt
  /etc/litellm-bridge/policy.yaml       with --policy: the company policy, a conffile
                                        (root-owned, as the app requires of a machine policy;
                                        kept on removal, removed on purge)
  /etc/xdg/autostart/litellm-bridge.desktop   with --autostart: the window at every login
                                        (--kiosk: in kiosk mode)

Built with --root-owner-group, so no file carries the builder's user, and zstd-compressed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "litellm-bridge"
REPO = Path(__file__).resolve().parents[1]
# What the bundle does not carry: the system's GL, EGL and input libraries Kivy opens.
DEPENDS = "libc6, libgl1, libegl1, libmtdev1, xclip"

DESKTOP = """[Desktop Entry]
Type=Application
Name=LiteLLM Bridge
GenericName=AI tools gateway
Comment=Route your AI coding tools through your company's LLM endpoints
Exec={exec}
Icon=litellm-bridge
Terminal=false
Categories=Development;Network;
StartupNotify=true
"""


def bundle_version(bundle: Path, tool: str = "build_deb.py") -> str:
    """The version a built bundle's signed manifest names (what its installers carry)."""
    manifest = bundle / "MANIFEST.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError) as exc:
        sys.exit(f"{tool}: {manifest} names no version ({exc}); build the bundle first")


def _architecture() -> str:
    done = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _size_kib(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024


def build(
    bundle: Path,
    out_dir: Path,
    *,
    policy: Path | None = None,
    autostart: bool = False,
    kiosk: bool = False,
) -> Path:
    if not (bundle / NAME).is_file():
        sys.exit(f"build_deb.py: {bundle} is not a Linux bundle (no {NAME} in it)")
    if shutil.which("dpkg-deb") is None:
        sys.exit("build_deb.py: dpkg-deb is needed (Debian's dpkg package)")
    version, arch = bundle_version(bundle), _architecture()
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{NAME}_{version}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="bridge-deb-") as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(bundle, root / "opt" / NAME, symlinks=True)
        (root / "usr" / "bin").mkdir(parents=True)
        (root / "usr" / "bin" / NAME).symlink_to(f"/opt/{NAME}/{NAME}")
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        (apps / f"{NAME}.desktop").write_text(DESKTOP.format(exec=NAME), encoding="utf-8")
        icons = root / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps"
        icons.mkdir(parents=True)
        shutil.copy2(REPO / "assets" / "icon.png", icons / f"{NAME}.png")
        doc = root / "usr" / "share" / "doc" / NAME
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(
            "LiteLLM Bridge\n\n" + (REPO / "LICENSE").read_text(encoding="utf-8")
            + f"\nThe third-party packages it ships and their licences: /opt/{NAME}/"
            "THIRD-PARTY-LICENSES.txt\n",
            encoding="utf-8",
        )  # fmt: skip
        conffiles = []
        if policy is not None:
            etc = root / "etc" / NAME
            etc.mkdir(parents=True)
            shutil.copyfile(policy, etc / "policy.yaml")
            (etc / "policy.yaml").chmod(0o644)
            conffiles.append(f"/etc/{NAME}/policy.yaml")
        if autostart:
            auto = root / "etc" / "xdg" / "autostart"
            auto.mkdir(parents=True)
            command = f"{NAME} --kiosk" if kiosk else NAME
            (auto / f"{NAME}.desktop").write_text(
                DESKTOP.format(exec=command) + "X-GNOME-Autostart-enabled=true\n",
                encoding="utf-8",
            )
            conffiles.append(f"/etc/xdg/autostart/{NAME}.desktop")
        control = root / "DEBIAN"
        control.mkdir()
        (control / "control").write_text(
            f"Package: {NAME}\n"
            f"Version: {version}\n"
            f"Architecture: {arch}\n"
            "Maintainer: LiteLLM Bridge developers <litellm-bridge@users.noreply.github.com>\n"
            f"Installed-Size: {_size_kib(root)}\n"
            f"Depends: {DEPENDS}\n"
            "Section: devel\n"
            "Priority: optional\n"
            "Homepage: https://github.com/litellm-bridge/litellm-bridge\n"
            "Description: gateway from AI coding tools to a company's internal LLM APIs\n"
            " A desktop app that embeds LiteLLM's proxy on 127.0.0.1, so Claude Code, Codex,\n"
            " Gemini CLI and SDKs reach the company's internal endpoints with the employee's\n"
            " token and project attached.\n",
            encoding="utf-8",
        )
        if conffiles:
            (control / "conffiles").write_text("\n".join(conffiles) + "\n", encoding="utf-8")
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(root), str(out)],
            check=True,
            capture_output=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "packaging" / "dist" / NAME)
    parser.add_argument("--out", type=Path, default=REPO / "packaging" / "dist")
    parser.add_argument("--policy", type=Path, help="the company policy to install")
    parser.add_argument("--autostart", action="store_true", help="open the window at login")
    parser.add_argument("--kiosk", action="store_true", help="with --autostart: kiosk mode")
    args = parser.parse_args()
    if args.kiosk and not args.autostart:
        parser.error("--kiosk goes with --autostart")
    if args.policy is not None and not args.policy.is_file():
        parser.error(f"--policy {args.policy}: no such file")
    started = time.monotonic()
    out = build(
        args.bundle.resolve(), args.out, policy=args.policy, autostart=args.autostart,
        kiosk=args.kiosk,
    )  # fmt: skip
    print(f"==> {out} ({out.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
