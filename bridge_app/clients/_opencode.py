"""OpenCode (npm opencode-ai): ``~/.config/opencode/opencode.json`` (same place under the
user folder on Windows; ``$XDG_CONFIG_HOME/opencode/opencode.json`` when that is set, or the
file ``OPENCODE_CONFIG`` names) declares a provider using the ``@ai-sdk/openai-compatible``
package with ``options.baseURL`` / ``options.apiKey`` and its models; top-level ``model``
is ``<provider>/<model>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients._files import configured_dir
from bridge_app.clients._model import ConfigFile, Env, Platform, Target, ToolSpec

PROVIDER = "litellm-bridge"


def _env(target: Target) -> dict[str, str]:
    return {"LITELLM_BRIDGE_API_KEY": target.key}


def _config(home: Path, platform: Platform, env: Env) -> Path:
    # OPENCODE_CONFIG names the file itself; XDG_CONFIG_HOME moves ~/.config (OpenCode
    # reads it on Windows too).
    chosen = (env.get("OPENCODE_CONFIG") or "").strip()
    if chosen:
        return Path(chosen).expanduser()
    return configured_dir(env, "XDG_CONFIG_HOME", home / ".config") / "opencode" / "opencode.json"


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
    # `opencode run` answers one prompt and exits (its provider package is bundled:
    # nothing is fetched for it).
    headless=("run", "{prompt}"),
)
