"""The PyInstaller Windows bundle, built under Wine by the Windows CPython (packaging/build.py
with its cache: scripts/test.sh builds it in the background while the Linux tests run),
then run as a person would: `litellm-bridge.exe doctor` (every file against the signed
manifest), a first admin, `serve` answering the demo model, Ctrl+C; and the windowed
`litellm-bridge-gui.exe` opening its window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration._upstream import free_port
from tests.windows._wine import ADMIN, ADMIN_PW, REPO, WINDOWS_SH, WineServe, wine
from tests.windows.test_wine_window import SCREEN, first_readable_frame

pytestmark = [
    pytest.mark.windows,
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(sys.platform == "win32", reason="drives Wine from Linux"),
]
BUILD_DIR = REPO / "packaging" / "build-windows"
DIST = REPO / "packaging" / "dist-windows" / "litellm-bridge"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    started = time.monotonic()
    built = subprocess.run(
        ["bash", str(WINDOWS_SH), "--python", "packaging/build.py", "--dist", str(DIST)],
        env={**os.environ, "BRIDGE_BUILD_DIR": str(BUILD_DIR)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    print(f"Windows bundle ready in {time.monotonic() - started:.0f} s:\n{built.stdout}")
    for name in ("litellm-bridge.exe", "litellm-bridge-gui.exe", "MANIFEST.json"):
        assert (DIST / name).is_file(), name
    return DIST


def test_the_console_exe_checks_itself_serves_and_stops(bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    exe = ("--exe", str(bundle))
    doctor = wine(home, "doctor", "--json", exe=exe)
    assert doctor.returncode == 0, doctor.stderr
    report = json.loads(doctor.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True, checks
    assert checks["bundle integrity"]["detail"].startswith("All ")  # files match the manifest
    assert "_internal" in checks["configs folder"]["detail"]  # the bundle's, not the checkout's

    made = wine(
        home, "user", "create", ADMIN, "--admin", "--password-stdin", stdin=ADMIN_PW, exe=exe
    )
    assert made.returncode == 0, made.stderr
    key = wine(home, "proxy-key", exe=exe).stdout.strip()
    port = free_port()
    serve = WineServe(home, port, exe=exe)
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert "demo model" in answer.json()["choices"][0]["message"]["content"]
    finally:
        out, err = serve.stop()
    assert serve.proc.returncode == 0, err[-3000:]
    assert "Stopped." in out


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
