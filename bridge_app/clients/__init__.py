"""CLI tool integrations: per-tool settings, safe merge into each tool's own config file
(with backups, conflict detection and exact revert), per-tool proxy keys, verify."""

from bridge_app.clients._files import UnsafeTargetError
from bridge_app.clients._formats import ConfigFileError
from bridge_app.clients._model import (
    SHELLS,
    ChangeResult,
    ConfigFile,
    FileChange,
    Target,
    ToolCard,
    ToolSettings,
    ToolSpec,
    VerifyResult,
)
from bridge_app.clients._registry import TOOLS, tool_spec
from bridge_app.clients._service import DEFAULT_MODEL, ToolsService
from bridge_app.clients._store import BACKUP_KIND, KEY_KIND

__all__ = [
    "BACKUP_KIND",
    "DEFAULT_MODEL",
    "KEY_KIND",
    "SHELLS",
    "TOOLS",
    "ChangeResult",
    "ConfigFile",
    "ConfigFileError",
    "FileChange",
    "Target",
    "ToolCard",
    "ToolSettings",
    "ToolSpec",
    "ToolsService",
    "UnsafeTargetError",
    "VerifyResult",
    "tool_spec",
]
