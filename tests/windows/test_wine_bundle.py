"""The PyInstaller Windows bundle, built under Wine by the Windows CPython (packaging/build.py
with its cache: scripts/test.sh builds it in the background while the Linux tests run),
then run as a person would: `litellm-bridge.exe doctor` (every file against the signed
manifest), a first admin, `serve` answering the demo model, Ctrl+C; and the windowed
`litellm-bridge-gui.exe` opening its window."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.packaging._left_out import left_out_problems
from tests.windows._wine import wine
from tests.windows.test_wine_smoke import serve_restart_and_stop
from tests.windows.test_wine_window import SCREEN, first_readable_frame

pytestmark = [
    pytest.mark.windows,
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(sys.platform == "win32", reason="drives Wine from Linux"),
]


def test_the_console_exe_checks_itself_serves_restarts_and_stops(
    bundle: Path, tmp_path: Path, artifacts_dir: Path
) -> None:
    home = tmp_path / "home"
    exe = ("--exe", str(bundle))
    doctor = wine(home, "doctor", "--json", exe=exe)
    assert doctor.returncode == 0, doctor.stderr
    report = json.loads(doctor.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True, checks
    assert checks["bundle integrity"]["detail"].startswith("All ")  # files match the manifest
    assert "_internal" in checks["configs folder"]["detail"]  # the bundle's, not the checkout's

    figures = serve_restart_and_stop(home, exe)
    (artifacts_dir / "windows-bundle-serve-under-wine.txt").write_text("\n".join(figures) + "\n")


def test_the_windowed_exe_opens_its_window(
    bundle: Path, tmp_path: Path, artifacts_dir: Path
) -> None:
    text, seconds = first_readable_frame(
        tmp_path, ["--desktop", f"{SCREEN[0]}x{SCREEN[1]}", "--gui-exe", str(bundle)],
        artifacts_dir / "windows-gui-exe-800x480.png",
    )  # fmt: skip
    (artifacts_dir / "windows-gui-exe-800x480.txt").write_text(
        f"first readable frame after {seconds:.0f} s\nOCR: {text}\n", encoding="utf-8"
    )
    assert "Welcome to LiteLLM Bridge" in text, text


def test_the_windows_bundle_leaves_out_the_admin_ui_and_hugging_face_tokenization(
    bundle: Path,
) -> None:
    """Both executables' archives and the folder (tests/packaging/_left_out.py); the test
    above serves and restarts without them."""
    for exe in ("litellm-bridge.exe", "litellm-bridge-gui.exe"):
        assert left_out_problems(bundle, bundle / exe) == [], exe
