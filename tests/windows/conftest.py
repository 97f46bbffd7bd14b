"""The Windows bundle, for every test of the packaged Windows program in a run."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.windows._wine import REPO, WINDOWS_SH

BUILD_DIR = REPO / "packaging" / "build-windows"
DIST = REPO / "packaging" / "dist-windows" / "litellm-bridge"


#: A bundle built already (by hand, or by scripts/test.sh in the background) to test as is.
PREBUILT_ENV = "BRIDGE_TEST_WINDOWS_BUNDLE"


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The PyInstaller bundle built under Wine by the Windows CPython (packaging/build.py with
    its cache: scripts/test.sh builds it in the background while the Linux tests run)."""
    if os.environ.get(PREBUILT_ENV):
        prebuilt = Path(os.environ[PREBUILT_ENV])
        assert (prebuilt / "MANIFEST.json").is_file(), f"{PREBUILT_ENV}: {prebuilt} is no bundle"
        return prebuilt
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
