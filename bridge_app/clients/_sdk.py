"""The official OpenAI and Anthropic SDKs (Python, Node, ...) read their endpoint and key
from the environment; there is no file to write, only settings to copy."""

from __future__ import annotations

from bridge_app.clients._model import Target, ToolSpec


def _openai_env(target: Target) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": target.proxy_url + "/v1",
        "OPENAI_API_KEY": target.key,
        "OPENAI_MODEL": target.model,
    }


def _anthropic_env(target: Target) -> dict[str, str]:
    return {
        "ANTHROPIC_BASE_URL": target.proxy_url,
        "ANTHROPIC_API_KEY": target.key,
        "ANTHROPIC_MODEL": target.model,
    }


OPENAI_SPEC = ToolSpec(
    id="openai-sdk",
    name="OpenAI SDK",
    binaries=(),
    install_hint="pip install openai  /  npm install openai",
    wire="chat",
    env=_openai_env,
    notes="OPENAI_MODEL is not read by the SDK: pass it as model= in your code.",
)

ANTHROPIC_SPEC = ToolSpec(
    id="anthropic-sdk",
    name="Anthropic SDK",
    binaries=(),
    install_hint="pip install anthropic  /  npm install @anthropic-ai/sdk",
    wire="anthropic",
    env=_anthropic_env,
    notes="ANTHROPIC_MODEL is not read by the SDK: pass it as model= in your code.",
)
