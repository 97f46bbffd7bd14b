"""The pinned dependency set installs on Windows x86-64, checked from Linux.

`uv pip compile --python-platform x86_64-pc-windows-msvc` evaluates every environment marker
for the target (pip's `--platform` does not, and reports false conflicts), and
`--only-binary :all:` makes a package without a win_amd64 wheel a failure. Needs PyPI.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

uv = pytest.importorskip("uv", reason="uv is a dev dependency: pip install -e '.[dev]'")

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "constraints.txt"
WINDOWS_CONSTRAINTS = REPO / "constraints-windows.txt"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def pins_from_text(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            found[_name(match.group(1))] = match.group(2)
    return found


def pins(path: Path) -> dict[str, str]:
    return pins_from_text(path.read_text(encoding="utf-8"))


def resolve_for_windows(python: str, *constraints: Path) -> subprocess.CompletedProcess[str]:
    args = [uv.find_uv_bin(), "pip", "compile", str(REPO / "pyproject.toml"), "--extra", "dev"]
    for path in constraints:
        args += ["-c", str(path)]
    args += [
        "--python-platform",
        "x86_64-pc-windows-msvc",
        "--python-version",
        python,
        "--only-binary",
        ":all:",
        "--no-header",
        "--no-annotate",
        "--quiet",
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=500, check=False)


@pytest.mark.parametrize("python", ["3.11", "3.12"])
def test_pinned_set_resolves_for_windows_from_wheels_and_is_fully_pinned(python: str) -> None:
    done = resolve_for_windows(python, CONSTRAINTS, WINDOWS_CONSTRAINTS)
    assert done.returncode == 0, f"no wheel-only Windows resolution:\n{done.stderr}"
    resolved = pins_from_text(done.stdout)
    pinned = {**pins(CONSTRAINTS), **pins(WINDOWS_CONSTRAINTS)}
    assert "kivy-deps-angle" in resolved  # the marker-evaluated Windows set, not Linux's
    assert "uvloop" not in resolved and "pyroscope-io" not in resolved
    unpinned = sorted(name for name in resolved if name not in pinned)
    assert not unpinned, f"Windows installs these without a pin: {unpinned}"
    drifted = {n: (v, pinned[n]) for n, v in resolved.items() if n in pinned and pinned[n] != v}
    assert not drifted


def test_windows_constraints_pin_only_what_windows_adds() -> None:
    linux = pins(CONSTRAINTS)
    windows = pins(WINDOWS_CONSTRAINTS)
    assert not set(linux) & set(windows), "pin each package in one file only"
    assert {"kivy-deps-sdl2", "kivy-deps-glew", "kivy-deps-angle", "pywin32-ctypes"} <= set(windows)


def test_a_package_without_windows_wheels_fails_the_check(tmp_path: Path) -> None:
    """The check can fail: forcing uvloop (no Windows wheels) onto Windows is refused."""
    extra = tmp_path / "force-uvloop.txt"
    extra.write_text("uvloop==0.23.0\n", encoding="utf-8")
    args = [
        uv.find_uv_bin(),
        "pip",
        "compile",
        str(extra),
        "--python-platform",
        "x86_64-pc-windows-msvc",
        "--python-version",
        "3.12",
        "--only-binary",
        ":all:",
        "--quiet",
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert "uvloop" in done.stderr
