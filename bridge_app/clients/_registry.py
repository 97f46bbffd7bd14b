"""Every tool the app knows, in the order the Tools screen lists them."""

from __future__ import annotations

from bridge_app.clients import _aider, _claude, _codex, _gemini, _opencode, _qwen, _sdk
from bridge_app.clients._model import ToolSpec
from bridge_app.runtime import BridgeError

TOOLS: tuple[ToolSpec, ...] = (
    _claude.SPEC,
    _gemini.SPEC,
    _codex.SPEC,
    _opencode.SPEC,
    _qwen.SPEC,
    _aider.SPEC,
    _sdk.OPENAI_SPEC,
    _sdk.ANTHROPIC_SPEC,
)


def tool_spec(tool_id: str) -> ToolSpec:
    for spec in TOOLS:
        if spec.id == tool_id:
            return spec
    raise BridgeError(
        f"Unknown tool {tool_id!r}.", hint="Known tools: " + ", ".join(t.id for t in TOOLS)
    )
