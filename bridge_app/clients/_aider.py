"""Aider (PyPI aider-chat): ``~/.aider.conf.yml`` takes every command-line option by its
long name: ``openai-api-base`` (with /v1), ``openai-api-key`` and ``model`` (``openai/<name>``
routes it to an OpenAI-compatible server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients._model import ConfigFile, Env, Platform, Target, ToolSpec


def _env(target: Target) -> dict[str, str]:
    return {
        "OPENAI_API_BASE": target.proxy_url + "/v1",
        "OPENAI_API_KEY": target.key,
        "AIDER_MODEL": f"openai/{target.model}",
    }


def _config(home: Path, platform: Platform, env: Env) -> Path:
    return home / ".aider.conf.yml"


def _values(target: Target) -> dict[tuple[str, ...], Any]:
    return {
        ("openai-api-base",): target.proxy_url + "/v1",
        ("openai-api-key",): target.key,
        ("model",): f"openai/{target.model}",
    }


SPEC = ToolSpec(
    id="aider",
    name="Aider",
    binaries=("aider",),
    install_hint="pipx install aider-chat",
    wire="chat",
    env=_env,
    files=(ConfigFile("config", "yaml", _config, _values),),
    url_at=("config", ("openai-api-base",)),
    key_at=("config", ("openai-api-key",)),
    model_at=("config", ("model",)),
)
