"""The Windows build's window, for real under Wine: ANGLE over Wine's Direct3D over Mesa's
software OpenGL, on an 800x480 screen (a Wine virtual desktop of that size). What a person
reads there is read back from the screenshot with OCR (tesseract), not from the widgets."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.windows._wine import WINDOWS_SH, env_for

pytestmark = [
    pytest.mark.windows,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(sys.platform == "win32", reason="drives Wine from Linux"),
]
SCREEN = (800, 480)


def _ocr(png: Path) -> str:
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        pytest.fail("tesseract is missing: scripts/setup.sh installs it")
    done = subprocess.run(
        [tesseract, str(png), "-", "--psm", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return " ".join(done.stdout.split())


def _end(home_marker: str) -> None:
    """End the Windows processes of this test (found by the data folder in their
    environment): under Wine a console Ctrl+C does not reach a program on a desktop."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if home_marker.encode() in environ:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)


def first_readable_frame(tmp_path: Path, args: list[str], shot: Path) -> tuple[str, float]:
    """Start ``scripts/windows.sh ARGS`` (a window on a fresh data folder), wait until the
    first-run wizard can be read on the screen, save the screenshot to ``shot``; returns
    what OCR read and after how many seconds. The window's processes end afterwards."""
    from PIL import ImageGrab

    display = os.environ.get("DISPLAY")
    assert display, "needs a display: the test command runs under Xvfb"
    env = env_for(tmp_path / "home", KIVY_GL_BACKEND="angle_sdl2")
    gui = subprocess.Popen(
        ["bash", str(WINDOWS_SH), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    text, started = "", time.monotonic()
    try:
        while time.monotonic() - started < 600 and gui.poll() is None:
            time.sleep(5)
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", "^LiteLLM Bridge"],
                env={**os.environ, "DISPLAY": display},
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            if not found:
                continue
            # The virtual desktop sits at (0, 0) of the display; the app's screen is it.
            ImageGrab.grab(bbox=(0, 0, *SCREEN), xdisplay=display).save(shot)
            text = _ocr(shot)
            if "Welcome to LiteLLM Bridge" in text and "Repeat the new password" in text:
                break
        seconds = time.monotonic() - started
    finally:
        _end(tmp_path.name)  # in the data folder's path, so in their environment
        gui.kill()
        _, err = gui.communicate(timeout=60)
    if "Welcome to LiteLLM Bridge" not in text:
        text += f"\n(stderr: {err[-3000:]})"
    return text, seconds


def test_the_window_at_800x480_shows_the_first_run_wizard(
    tmp_path: Path, artifacts_dir: Path
) -> None:
    shot = artifacts_dir / "windows-window-800x480.png"
    text, seconds = first_readable_frame(tmp_path, ["--desktop", f"{SCREEN[0]}x{SCREEN[1]}"], shot)
    (artifacts_dir / "windows-window-800x480.txt").write_text(
        f"first readable frame after {seconds:.0f} s\nOCR: {text}\n", encoding="utf-8"
    )
    assert "Welcome to LiteLLM Bridge" in text, f"OCR read: {text!r}"
    assert re.search(r"Step 1 of \d: Admin account", text), text
    assert "Create the first admin account." in text
    # (The white "Next" on its coloured button is drawn, as the PNG shows, but OCR does
    # not read light text on a dark button reliably.)
    for label in ("Username", "Password", "Repeat the new password"):
        assert label in text, (label, text)
