from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Imported here, at the top of the stack, on purpose: hypothesis's pytest plugin imports it
# lazily in its terminal summary, deep in pytest's hook stack, and on CPython < 3.11.8 /
# 3.12.1 parsing a module at some stack depths fails with "SystemError: AST constructor
# recursion depth mismatch" (CPython gh-106905): the run then ended with exit code 1
# after every test had passed.
import hypothesis.internal.observability  # noqa: F401
import pytest

from bridge_app.runtime import AppPaths

# Tests never touch the developer's real keyring or per-user folders, unless a run asks for
# the OS keyring on purpose (BRIDGE_TEST_KEYRING=on: the Windows CI leg with the Credential
# Manager).
KEYRING_UNDER_TEST = os.environ.get("BRIDGE_TEST_KEYRING", "").lower() == "on"
os.environ["BRIDGE_KEYRING"] = "on" if KEYRING_UNDER_TEST else "off"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# No test reads this machine's own policy (/etc/litellm-bridge, %ProgramData%): the .deb test
# installs a real one there while other tests run beside it. A test that wants a machine
# policy sets BRIDGE_POLICY_FILE itself (the packaged-program tests start without it).
os.environ.setdefault(
    "BRIDGE_POLICY_FILE",
    os.path.join(tempfile.gettempdir(), "litellm-bridge-tests-no-machine-policy", "policy.yaml"),
)
# Test modules import LiteLLM directly too: the app's CRLF tokenizer fix must come first
# (see bridge_app/proxy/_tiktoken_files.py), or tiktoken deletes the bundled files.
if os.name == "nt":
    from bridge_app.proxy._tiktoken_files import use_lf_tokenizers

    use_lf_tokenizers(Path(tempfile.gettempdir()) / "litellm-bridge-tests-tiktoken")


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


def under_wine() -> bool:
    """Whether this Windows Python runs under Wine (the Windows leg on Linux), where a few
    things real Windows does are missing (tests that need them skip and say which)."""
    if os.name != "nt":
        return False
    import ctypes

    try:
        return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")
    except OSError:
        return False


UNDER_WINE = under_wine()
