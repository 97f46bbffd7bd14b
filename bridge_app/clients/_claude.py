"""Claude Code (npm @anthropic-ai/claude-code, checked with 2.1.197).

It reads environment variables from the ``env`` block of ``~/.claude/settings.json``
(``%USERPROFILE%\\.claude\\settings.json`` on Windows) as if they were set in the shell:
ANTHROPIC_BASE_URL (the proxy root; it appends /v1/messages), ANTHROPIC_AUTH_TOKEN (sent as
``Authorization: Bearer``; unlike ANTHROPIC_API_KEY it does not ask "use this key?" in
interactive mode), ANTHROPIC_MODEL, and the small/fast model it uses for background work
(ANTHROPIC_DEFAULT_HAIKU_MODEL; older releases read ANTHROPIC_SMALL_FAST_MODEL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients._model import ConfigFile, Env, Platform, Target, ToolSpec


def _env(target: Target) -> dict[str, str]:
    return {
        "ANTHROPIC_BASE_URL": target.proxy_url,
        "ANTHROPIC_AUTH_TOKEN": target.key,
        "ANTHROPIC_MODEL": target.model,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": target.model,
        "ANTHROPIC_SMALL_FAST_MODEL": target.model,
    }


def _settings(home: Path, platform: Platform, env: Env) -> Path:
    return home / ".claude" / "settings.json"


def _values(target: Target) -> dict[tuple[str, ...], Any]:
    return {("env", name): value for name, value in _env(target).items()}


SPEC = ToolSpec(
    id="claude-code",
    name="Claude Code",
    binaries=("claude",),
    install_hint="npm install -g @anthropic-ai/claude-code",
    wire="anthropic",
    env=_env,
    files=(ConfigFile("settings", "json", _settings, _values),),
    url_at=("settings", ("env", "ANTHROPIC_BASE_URL")),
    key_at=("settings", ("env", "ANTHROPIC_AUTH_TOKEN")),
    model_at=("settings", ("env", "ANTHROPIC_MODEL")),
    headless=("-p", "{prompt}"),
)
