"""Qwen Code (npm @qwen-code/qwen-code, a Gemini CLI fork speaking OpenAI chat
completions): ``~/.qwen/settings.json`` chooses ``security.auth.selectedType`` = ``openai``
and ``model.name``; OPENAI_API_KEY, OPENAI_BASE_URL (with /v1) and OPENAI_MODEL come from
the environment, which it also loads from ``~/.qwen/.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients._model import ConfigFile, Env, Platform, Target, ToolSpec


def _env(target: Target) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": target.proxy_url + "/v1",
        "OPENAI_API_KEY": target.key,
        "OPENAI_MODEL": target.model,
    }


def _settings(home: Path, platform: Platform, env: Env) -> Path:
    return home / ".qwen" / "settings.json"


def _dotenv(home: Path, platform: Platform, env: Env) -> Path:
    return home / ".qwen" / ".env"


def _settings_values(target: Target) -> dict[tuple[str, ...], Any]:
    return {("security", "auth", "selectedType"): "openai", ("model", "name"): target.model}


def _env_values(target: Target) -> dict[tuple[str, ...], Any]:
    return {(name,): value for name, value in _env(target).items()}


SPEC = ToolSpec(
    id="qwen-code",
    name="Qwen Code",
    binaries=("qwen",),
    install_hint="npm install -g @qwen-code/qwen-code",
    wire="chat",
    env=_env,
    files=(
        ConfigFile("settings", "json", _settings, _settings_values),
        ConfigFile("env", "dotenv", _dotenv, _env_values),
    ),
    url_at=("env", ("OPENAI_BASE_URL",)),
    key_at=("env", ("OPENAI_API_KEY",)),
    model_at=("settings", ("model", "name")),
    headless=("-p", "{prompt}"),
)
