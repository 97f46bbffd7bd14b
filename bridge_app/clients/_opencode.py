"""OpenCode (npm opencode-ai): ``~/.config/opencode/opencode.json`` (same place under the
user folder on Windows) declares a provider using the ``@ai-sdk/openai-compatible``
package with ``options.baseURL`` / ``options.apiKey`` and its models; top-level ``model``
is ``<provider>/<model>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients._model import ConfigFile, Platform, Target, ToolSpec

PROVIDER = "litellm-bridge"


def _env(target: Target) -> dict[str, str]:
    return {"LITELLM_BRIDGE_API_KEY": target.key}


def _config(home: Path, platform: Platform) -> Path:
    return home / ".config" / "opencode" / "opencode.json"


def _values(target: Target) -> dict[tuple[str, ...], Any]:
    provider = ("provider", PROVIDER)
    return {
        (*provider, "npm"): "@ai-sdk/openai-compatible",
        (*provider, "name"): "LiteLLM Bridge",
        (*provider, "options", "baseURL"): target.proxy_url + "/v1",
        (*provider, "options", "apiKey"): target.key,
        (*provider, "models", target.model, "name"): target.model,
        ("model",): f"{PROVIDER}/{target.model}",
    }


SPEC = ToolSpec(
    id="opencode",
    name="OpenCode",
    binaries=("opencode",),
    install_hint="npm install -g opencode-ai",
    wire="chat",
    env=_env,
    files=(ConfigFile("config", "json", _config, _values),),
    url_at=("config", ("provider", PROVIDER, "options", "baseURL")),
    key_at=("config", ("provider", PROVIDER, "options", "apiKey")),
    model_at=("config", ("model",)),
)
