"""Installers: how big, how long to build, install, upgrade and remove.

    python benchmarks/installers.py --windows-bundle packaging/dist-windows/litellm-bridge
        [--linux-bundle packaging/dist/litellm-bridge] [--runs 3]

Windows: packaging/build_msi.py (wixl) on the bundle, then on a fresh Wine prefix per run
(tests/windows/_machine.py) a silent per-machine install, a major upgrade to the same build
as the next version, and the uninstall, each timed around `msiexec /qn`. Linux (with
--linux-bundle, as root): packaging/build_deb.py, `dpkg -i`, `dpkg -r`. Prints a Markdown
table for benchmarks/RESULTS.md with the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.windows._machine import Machine, windows_path  # noqa: E402


def _timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, cwd=REPO)
    return time.monotonic() - started


def _row(what: str, seconds: list[float]) -> str:
    spread = f"{min(seconds):.1f}–{max(seconds):.1f}" if len(seconds) > 1 else ""
    return f"| {what} | {statistics.median(seconds):.1f} s | {spread} |"


def windows(bundle: Path, runs: int, work: Path) -> list[str]:
    build = [sys.executable, "packaging/build_msi.py", "--bundle", str(bundle)]
    rows, builds, installs, upgrades, removals = [], [], [], [], []
    for run in range(runs):
        out = work / f"msi-{run}"
        builds.append(_timed([*build, "--out", str(out / "a")]))
        _timed([*build, "--out", str(out / "b"), "--version", "99.0.0"])
        (msi_a,) = (out / "a").glob("*.msi")
        (msi_b,) = (out / "b").glob("*.msi")
        machine = Machine(work / f"machine-{run}")
        try:
            for kind, args, into in (
                ("install", ["/i", windows_path(msi_a)], installs),
                ("upgrade", ["/i", windows_path(msi_b)], upgrades),
                ("uninstall", ["/x", windows_path(msi_b)], removals),
            ):
                started = time.monotonic()
                rc = machine.msiexec(*args, log=work / f"{kind}-{run}.log")
                if rc != 0:
                    raise SystemExit(f"msiexec {kind} failed with {rc}")
                into.append(time.monotonic() - started)
        finally:
            machine.close()
    size = next((work / "msi-0" / "a").glob("*.msi")).stat().st_size / 1e6
    rows.append(f"| MSI size (per machine) | {size:.0f} MB | |")
    rows.append(_row("build_msi.py (wixl + msibuild)", builds))
    rows.append(_row("msiexec /i /qn on a fresh prefix (Wine 8.0)", installs))
    rows.append(_row("major upgrade to the next version", upgrades))
    rows.append(_row("msiexec /x /qn", removals))
    return rows


def linux(bundle: Path, runs: int, work: Path) -> list[str]:
    builds, installs, removals = [], [], []
    for run in range(runs):
        out = work / f"deb-{run}"
        builds.append(
            _timed(
                [
                    sys.executable,
                    "packaging/build_deb.py",
                    "--bundle",
                    str(bundle),
                    "--out",
                    str(out),
                ]
            )
        )
        (deb,) = out.glob("*.deb")
        installs.append(_timed(["dpkg", "-i", str(deb)]))
        removals.append(_timed(["dpkg", "-r", "litellm-bridge"]))
    size = next((work / "deb-0").glob("*.deb")).stat().st_size / 1e6
    return [
        f"| .deb size | {size:.0f} MB | |",
        _row("build_deb.py (dpkg-deb, zstd)", builds),
        _row("dpkg -i", installs),
        _row("dpkg -r", removals),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows-bundle", type=Path)
    parser.add_argument("--linux-bundle", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    before = os.getloadavg()
    rows = ["| what | median | range |", "|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="bench-installers-") as tmp:
        if args.windows_bundle:
            rows += windows(args.windows_bundle.resolve(), args.runs, Path(tmp))
        if args.linux_bundle:
            rows += linux(args.linux_bundle.resolve(), args.runs, Path(tmp))
    after = os.getloadavg()
    print("\n".join(rows))
    print(f"\n{args.runs} runs; load average {before[0]:.2f} before, {after[0]:.2f} after.")


if __name__ == "__main__":
    main()
