"""What a tool integration is made of, and what the service hands back to the UI / CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bridge_app.clients._formats import Format, KeyPath

Wire = Literal["anthropic", "responses", "gemini", "chat"]
Platform = Literal["linux", "windows"]
Action = Literal["create", "update", "unchanged", "restore", "remove", "none"]
SHELLS = ("bash", "powershell", "cmd")
Env = Mapping[str, str]  # the environment the tools run with


@dataclass(frozen=True)
class Target:
    """Where a tool should send its requests."""

    proxy_url: str  # http://127.0.0.1:4000 (no trailing slash, no /v1)
    key: str  # always the tool's own proxy key, never the proxy's master key
    model: str
    folder: str = ""  # where the user runs the tool (Gemini CLI trusts this folder)


@dataclass(frozen=True)
class ConfigFile:
    """One file of a tool's own user configuration, and the keys the app owns in it."""

    id: str
    format: Format
    # (home, platform, environment) -> file; the environment holds variables such as
    # CODEX_HOME or XDG_CONFIG_HOME that move a tool's configuration.
    location: Callable[[Path, Platform, Env], Path]
    values: Callable[[Target], Mapping[KeyPath, Any]]

    def path(self, home: Path, platform: Platform, env: Env) -> Path:
        return self.location(home, platform, env)


@dataclass(frozen=True)
class ToolSpec:
    id: str
    name: str
    binaries: tuple[str, ...]  # command names to look for on PATH; () for SDKs
    install_hint: str
    wire: Wire
    env: Callable[[Target], dict[str, str]]  # the variables for "Show settings"
    files: tuple[ConfigFile, ...] = ()
    # Where the applied URL, key and model are read back from: (file id, key path).
    url_at: tuple[str, KeyPath] | None = None
    key_at: tuple[str, KeyPath] | None = None
    model_at: tuple[str, KeyPath] | None = None
    notes: str = ""
    # How `tools verify` runs the installed tool non-interactively: the arguments after the
    # binary, with {prompt} for the tiny prompt. Empty: only the synthetic request.
    headless: tuple[str, ...] = ()

    @property
    def can_apply(self) -> bool:
        return bool(self.files)

    def file(self, file_id: str) -> ConfigFile:
        return next(f for f in self.files if f.id == file_id)


@dataclass(frozen=True)
class ToolCard:
    """One tool as the Tools screen shows it; never holds a secret."""

    id: str
    name: str
    installed: bool
    binary: str | None  # full path of the command found on PATH
    version: str | None
    install_hint: str
    can_apply: bool
    applied: bool  # the app's settings are in the tool's config (a backup exists)
    pointed_at_proxy: bool  # the tool's config points at this proxy's URL
    configured_url: str | None
    model: str | None  # the model the tool will use (its config, else the app's choice)
    has_own_key: bool  # a per-tool proxy key exists
    config_files: tuple[str, ...]
    notes: str = ""


@dataclass(frozen=True)
class ToolSettings:
    """'Show settings': text ready to copy, per shell, plus the config snippets."""

    tool: str
    proxy_url: str
    model: str
    models: tuple[str, ...]
    env: dict[str, str]
    shells: dict[str, str]  # "bash" | "powershell" | "cmd" -> script
    files: dict[str, str]  # config file path -> the part of it the app owns
    uses_own_key: bool


@dataclass(frozen=True)
class FileChange:
    path: Path
    action: Action
    diff: str = ""
    conflict: str | None = None  # why it needs confirmation (None: safe)


@dataclass(frozen=True)
class ChangeResult:
    """What apply / revert did (``done``) or would do and why it stopped (conflicts)."""

    tool: str
    done: bool
    changes: tuple[FileChange, ...]
    saved_copies: tuple[Path, ...] = ()  # the user's versions kept aside by a forced revert

    @property
    def conflicts(self) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if c.conflict)


@dataclass(frozen=True)
class VerifyResult:
    tool: str
    ok: bool
    wire: Wire
    url: str
    model: str
    status: int | None  # HTTP status, None when nothing answered
    reason: str  # plain words: what worked or what failed
    reply: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    ran_tool: bool = False  # True: the installed tool itself answered (or failed)
    # When the tool did not run: why its request was sent instead (shown after "OK").
    instead: str = "tool not installed: sent its request"
