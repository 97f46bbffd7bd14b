"""Gemini CLI (npm @google/gemini-cli, checked with 0.61.0).

API-key auth is chosen in ``~/.gemini/settings.json`` (``security.auth.selectedType`` =
``gemini-api-key``; without it the CLI asks to log in with Google) and the model in
``model.name``. The key and the endpoint are environment variables, which the CLI also
loads from ``~/.gemini/.env``: GEMINI_API_KEY (sent as ``x-goog-api-key``),
GOOGLE_GEMINI_BASE_URL (the proxy root; it calls /v1beta/models/<model>:streamGenerateContent)
and GEMINI_MODEL. A ``.gemini/.env`` or ``.env`` in the project folder wins over the home one.

Folder trust (measured with 0.61.0): in a folder it does not trust, Gemini CLI loads no
``.env`` at all — not even ``~/.gemini/.env`` — so ``gemini -p`` fails with "you must
specify the GEMINI_API_KEY", and headless runs stop on the untrusted folder. Apply
therefore also trusts the configured work folder (and everything below it) in
``~/.gemini/trustedFolders.json`` (``{"<folder>": "TRUST_FOLDER"}``, the file the CLI's own
trust dialog writes). The folder is the user's home unless set (``tools apply gemini-cli
--folder DIR``); without Apply, ``GEMINI_CLI_TRUST_WORKSPACE=true`` does the same for one run.
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


def _trusted(home: Path, platform: Platform, env: Env) -> Path:
    return home / ".gemini" / "trustedFolders.json"


def _trust_values(target: Target) -> dict[tuple[str, ...], Any]:
    return {(target.folder,): "TRUST_FOLDER"} if target.folder else {}


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
        ConfigFile("trust", "json", _trusted, _trust_values),
    ),
    url_at=("env", ("GOOGLE_GEMINI_BASE_URL",)),
    key_at=("env", ("GEMINI_API_KEY",)),
    model_at=("settings", ("model", "name")),
    notes="Apply trusts your work folder (home unless set) in ~/.gemini/trustedFolders.json: "
    "Gemini CLI reads no .env in an untrusted folder. A .env in the project folder takes "
    "precedence over ~/.gemini/.env.",
    headless=("-p", "{prompt}"),
)
