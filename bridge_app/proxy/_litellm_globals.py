"""LiteLLM's proxy module globals, imported offline and quiet.

LiteLLM keeps its proxy state in module globals and reads its settings from the
environment while it imports: this module sets that environment, imports LiteLLM, and
knows which globals a stopped server leaves behind (reset before the next start), which
``litellm_settings`` a config changed on the module, and how to take the admin UI's file
mounts off the app.
"""

from __future__ import annotations

import os
from typing import Any

from bridge_app.proxy._tiktoken_files import use_lf_tokenizers
from bridge_app.runtime import AppPaths

# Offline and quiet: these are read while LiteLLM imports.
_IMPORT_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no cost-map fetch from GitHub at import
    # No fetch at first use either (Anthropic beta-header table, tokenizer downloads, release
    # and breached-password checks): LiteLLM 1.109's switch for all of them.
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOG": "WARNING",
    "GRACEFUL_SHUTDOWN_TIMEOUT": "2",  # LiteLLM's own drain wait on stop (default 30 s)
    "DISABLE_SCHEMA_UPDATE": "true",
    "NO_DOCS": "True",
    "NO_REDOC": "True",
    "LITELLM_DISABLE_BUG_REPORT_LINK": "true",  # no GitHub-issue URLs in error lines
}
for _name, _value in _IMPORT_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


use_lf_tokenizers(AppPaths.from_environment().cache_dir / "tiktoken")

import litellm  # noqa: E402
import litellm.proxy.proxy_server as ps  # noqa: E402
from litellm.proxy.shutdown.graceful_shutdown_manager import (  # noqa: E402
    GracefulShutdownManager,
)
from litellm.router import Router  # noqa: E402
from starlette.routing import Mount  # noqa: E402

__all__ = ["ps", "remember_litellm_settings", "remove_admin_ui", "reset_proxy_globals"]

_UI_MOUNTS = frozenset({"ui", "next_static"})


def remove_admin_ui() -> None:
    """Take LiteLLM's admin UI off the app: it serves the UI's files whatever
    DISABLE_ADMIN_UI says (that only blocks its login), and the UI is not part of the app —
    without LiteLLM's database nearly every page of it fails, and the release bundle leaves
    its files out (packaging/litellm-bridge.spec)."""
    routes = ps.app.router.routes
    for route in list(routes):
        if isinstance(route, Mount) and route.name in _UI_MOUNTS:
            routes.remove(route)


_MISSING = object()
_litellm_defaults: dict[str, Any] = {}  # litellm.<name> before any config's litellm_settings


def remember_litellm_settings(names: Any) -> None:
    """Note the import-time value of every ``litellm_settings`` key a config will set:
    LiteLLM setattr()s them on the module and never undoes it."""
    for name in names or ():
        if isinstance(name, str) and name not in _litellm_defaults:
            _litellm_defaults[name] = getattr(litellm, name, _MISSING)


def reset_proxy_globals() -> None:
    """State one stopped server leaves behind that the next start must not inherit."""
    for name, value in _litellm_defaults.items():
        if value is _MISSING:
            if hasattr(litellm, name):
                delattr(litellm, name)
        else:
            setattr(litellm, name, value)
    GracefulShutdownManager.reset()  # else health answers 503 "shutting down" forever
    retire = getattr(ps.llm_router, "retire", None)
    if callable(retire):  # LiteLLM 1.109: drops the router's global callbacks and state
        retire()
    ps.llm_router = None  # load_config would extend the previous router
    ps.llm_model_list = None
    ps.general_settings.clear()  # load_config updates this dict in place
    flush = getattr(ps.user_api_key_cache, "flush_cache", None)
    if callable(flush):
        flush()
    # Each Router registers bound callbacks in LiteLLM's global lists and nothing removes
    # them; without this every restart leaks one old Router per list.
    for name in (
        "callbacks",
        "success_callback",
        "_async_success_callback",
        "failure_callback",
        "_async_failure_callback",
    ):
        items = getattr(litellm, name)
        items[:] = [cb for cb in items if not isinstance(getattr(cb, "__self__", None), Router)]
