"""Gemini CLI (npm @google/gemini-cli, checked with 0.61.0).

API-key auth is chosen in ``~/.gemini/settings.json`` (``security.auth.selectedType`` =
``gemini-api-key``; without it the CLI asks to log in with Google) and the model in
``model.name``. The key and the endpoint are environment variables, which the CLI also
loads from ``~/.gemini/.env``: GEMINI_API_KEY (sent as ``x-goog-api-key``),
GOOGLE_GEMINI_BASE_URL (the proxy root; it calls /v1beta/models/<model>:streamGenerateContent)
and GEMINI_MODEL. A ``.gemini/.env`` or ``.env`` in the project folder wins over the home one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients._model import ConfigFile, Env, Platform, Target, ToolSpec


def _env(target: Target) -> dict[str, str]:
    return {
        "GOOGLE_GEMINI_BASE_URL": target.proxy_url,
        "GEMINI_API_KEY": target.key,
        "GEMINI_MODEL": target.model,
    }


def _settings(home: Path, platform: Platform, env: Env) -> Path:
    return home / ".gemini" / "settings.json"


def _dotenv(home: Path, platform: Platform, env: Env) -> Path:
    return home / ".gemini" / ".env"


def _settings_values(target: Target) -> dict[tuple[str, ...], Any]:
    return {
        ("security", "auth", "selectedType"): "gemini-api-key",
        ("model", "name"): target.model,
    }


def _env_values(target: Target) -> dict[tuple[str, ...], Any]:
    return {(name,): value for name, value in _env(target).items()}


SPEC = ToolSpec(
    id="gemini-cli",
    name="Gemini CLI",
    binaries=("gemini",),
    install_hint="npm install -g @google/gemini-cli",
    wire="gemini",
    env=_env,
    files=(
        ConfigFile("settings", "json", _settings, _settings_values),
        ConfigFile("env", "dotenv", _dotenv, _env_values),
    ),
    url_at=("env", ("GOOGLE_GEMINI_BASE_URL",)),
    key_at=("env", ("GEMINI_API_KEY",)),
    model_at=("settings", ("model", "name")),
    notes="A .env in the project folder takes precedence over ~/.gemini/.env.",
)
