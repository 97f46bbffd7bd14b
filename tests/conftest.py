from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths

# Tests never touch the developer's real keyring or per-user folders, unless a run asks for
# the OS keyring on purpose (BRIDGE_TEST_KEYRING=on: the Windows CI leg with the Credential
# Manager).
KEYRING_UNDER_TEST = os.environ.get("BRIDGE_TEST_KEYRING", "").lower() == "on"
os.environ["BRIDGE_KEYRING"] = "on" if KEYRING_UNDER_TEST else "off"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def bridge_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "bridge-home"
    monkeypatch.setenv("BRIDGE_HOME", str(home))
    return home


@pytest.fixture
def app_paths(bridge_home: Path) -> AppPaths:
    paths = AppPaths.from_environment()
    paths.ensure()
    return paths


@pytest.fixture
def artifacts_dir() -> Iterator[Path]:
    """Where tests leave screenshots and reports for people to look at (not compared)."""
    root = Path(
        os.environ.get("BRIDGE_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts")
    )
    root.mkdir(parents=True, exist_ok=True)
    yield root
