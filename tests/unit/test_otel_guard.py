"""The guard against LiteLLM's per-request failing OpenTelemetry import (issue 18)."""

from __future__ import annotations

import hashlib
import inspect
import json
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

from bridge_app.proxy import _otel_guard

REPO = Path(__file__).resolve().parents[2]

# The LiteLLM code the guard relies on, as pinned in constraints.txt. When an upgrade
# changes it, re-read it: the guard is right only while every import of the blocked
# module sits in a ``try ... except Exception`` (or behind OpenTelemetry settings that
# need the SDK) and the module cannot load without the SDK.
PINNED_LITELLM = "1.109.3"
PINNED_SEED_SHA256 = "c7685468c8f19b6298e579ccd9978475298fee7af3b019e735585e89f4160ab4"


def test_the_litellm_code_the_guard_relies_on_is_the_pinned_one() -> None:
    from litellm.proxy.auth import user_api_key_auth

    source = inspect.getsource(user_api_key_auth._seed_request_destinations)
    assert version("litellm") == PINNED_LITELLM, (
        "LiteLLM was upgraded: check _seed_request_destinations against "
        "bridge_app/proxy/_otel_guard.py, then update the pins in this test"
    )
    assert hashlib.sha256(source.encode()).hexdigest() == PINNED_SEED_SHA256, (
        "LiteLLM's _seed_request_destinations changed: re-check bridge_app/proxy/_otel_guard.py"
    )
    assert f"from {_otel_guard.BLOCKED} import fan_out_provider" in source
    assert "except Exception" in source
    # ...and it runs for every authenticated request.
    auth = inspect.getsource(user_api_key_auth.user_api_key_auth)
    assert "_seed_request_destinations(user_api_key_auth_obj, request)" in auth


# In a fresh interpreter: what LiteLLM's per-request step does, without and with the guard.
_PROBE = textwrap.dedent(
    """
    import json, sys
    from bridge_app.proxy import _otel_guard
    from litellm.proxy._types import UserAPIKeyAuth
    from litellm.proxy.auth.user_api_key_auth import _seed_request_destinations

    def attempt():
        try:
            __import__(_otel_guard.BLOCKED)
        except ImportError as exc:
            return type(exc).__name__
        return "imported"

    out = {"sdk": _otel_guard.sdk_installed()}
    out["without"] = attempt()
    out["without_missing"] = None
    try:
        __import__(_otel_guard.BLOCKED)
    except ModuleNotFoundError as exc:
        out["without_missing"] = exc.name
    out["seed_without"] = _seed_request_destinations(UserAPIKeyAuth(api_key="sk-x"), None)
    out["installed"] = _otel_guard.install()
    out["with"] = attempt()
    out["seed_with"] = _seed_request_destinations(UserAPIKeyAuth(api_key="sk-x"), None)
    out["loaded"] = sys.modules[_otel_guard.BLOCKED] is not None
    _otel_guard.uninstall()
    out["after_uninstall"] = attempt()
    print(json.dumps(out))
    """
)


def test_without_the_sdk_the_guard_changes_no_outcome_only_skips_the_retry() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "sdk": False,  # the app does not ship OpenTelemetry's SDK
        "without": "ModuleNotFoundError",
        "without_missing": "opentelemetry.sdk",  # why LiteLLM's import fails today
        "seed_without": None,  # LiteLLM's step swallows the failure (best effort)
        "installed": True,
        "with": "ModuleNotFoundError",  # the same exception type LiteLLM already handles
        "seed_with": None,
        "loaded": False,
        "after_uninstall": "ModuleNotFoundError",
    }


def test_the_guard_stays_off_when_the_sdk_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, _otel_guard.BLOCKED, raising=False)
    monkeypatch.setattr(_otel_guard, "sdk_installed", lambda: True)
    assert _otel_guard.install() is False
    assert _otel_guard.BLOCKED not in sys.modules
