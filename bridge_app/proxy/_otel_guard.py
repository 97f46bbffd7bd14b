"""Stop LiteLLM from re-running a failing import on every request (issue 18).

LiteLLM's auth dependency calls ``_seed_request_destinations`` for every request. It
starts with ``from litellm.integrations.otel.logger import fan_out_provider``, inside a
``try: ... except Exception``; that module imports OpenTelemetry's SDK at module level.
Without the SDK (the app does not ship it: OpenTelemetry export is not one of its
features) the import fails, Python keeps no record of the failure, and the next request
loads and executes the module again up to the failing line: 0.2 to 2 ms of every request
(2 to 3 % of the proxy's busy time, benchmarks/RESULTS.md).

Python's documented way to say "this module cannot be imported" is ``None`` in
``sys.modules``: the same import then raises ``ModuleNotFoundError`` at once. Every
LiteLLM caller of that module already handles its failure (it fails today, only
slowly), so nothing else changes. The guard is put in place only while the SDK is
absent and the module was not imported; ``tests/unit/test_otel_guard.py`` pins the
LiteLLM code it relies on.
"""

from __future__ import annotations

import importlib.util
import logging
import sys

log = logging.getLogger(__name__)

#: The module LiteLLM imports per request that cannot load without OpenTelemetry's SDK.
BLOCKED = "litellm.integrations.otel.logger"
SDK = "opentelemetry.sdk"


def sdk_installed() -> bool:
    try:
        return importlib.util.find_spec(SDK) is not None
    except ModuleNotFoundError:  # not even the opentelemetry namespace
        return False


def install() -> bool:
    """Mark the module as not importable when it cannot be; True when the guard is on."""
    if sys.modules.get(BLOCKED, False) is None:
        return True
    if BLOCKED in sys.modules or sdk_installed():
        return False
    sys.modules[BLOCKED] = None  # type: ignore[assignment]
    log.debug("%s marked unavailable: %s is not installed", BLOCKED, SDK)
    return True


def uninstall() -> None:
    if sys.modules.get(BLOCKED, False) is None:
        del sys.modules[BLOCKED]
