"""Codex CLI (npm @openai/codex, checked with 0.169.0).

``~/.codex/config.toml`` (``%USERPROFILE%\\.codex\\config.toml``; CODEX_HOME moves it)
selects a provider with top-level ``model_provider`` and ``model``; the provider table
``[model_providers.<id>]`` has ``base_url`` (the proxy's /v1), ``wire_api`` (only
"responses": 0.169 refuses "chat") and the key: ``env_key`` names an environment variable,
``experimental_bearer_token`` holds it in the file. Measured with 0.169.0: when ``env_key``
is set it wins, and a missing variable is an error even with a token in the file. So Apply
writes only the token (the tool works without touching the shell profile), and "Show
settings" shows exactly that file content and no variable, so the two always agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients._files import configured_dir
from bridge_app.clients._model import ConfigFile, Env, Platform, Target, ToolSpec

PROVIDER = "litellm-bridge"
KEY_ENV = "LITELLM_BRIDGE_API_KEY"


def _env(target: Target) -> dict[str, str]:
    return {}  # the key lives in config.toml (experimental_bearer_token)


def _config(home: Path, platform: Platform, env: Env) -> Path:
    return configured_dir(env, "CODEX_HOME", home / ".codex") / "config.toml"


def _values(target: Target) -> dict[tuple[str, ...], Any]:
    table = ("model_providers", PROVIDER)
    return {
        ("model",): target.model,
        ("model_provider",): PROVIDER,
        (*table, "name"): "LiteLLM Bridge",
        (*table, "base_url"): target.proxy_url + "/v1",
        (*table, "wire_api"): "responses",
        (*table, "experimental_bearer_token"): target.key,
    }


SPEC = ToolSpec(
    id="codex-cli",
    name="Codex CLI",
    binaries=("codex",),
    install_hint="npm install -g @openai/codex",
    wire="responses",
    env=_env,
    files=(ConfigFile("config", "toml", _config, _values),),
    url_at=("config", ("model_providers", PROVIDER, "base_url")),
    key_at=("config", ("model_providers", PROVIDER, "experimental_bearer_token")),
    model_at=("config", ("model",)),
    notes="The key is in config.toml (experimental_bearer_token): no variable to export. "
    f"Do not also set env_key there: Codex then requires {KEY_ENV} and ignores the token.",
    headless=(
        "exec",
        "--skip-git-repo-check",
        "--sandbox",
        "read-only",
        "--color",
        "never",
        "{prompt}",
    ),
)
