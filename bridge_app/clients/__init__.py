"""CLI tool integrations: per-tool settings, safe merge into each tool's own config file
(with backups, conflict detection and exact revert), per-tool proxy keys, verify.

The GUI uses ``services.tools`` (a ``ToolsService``); every call may touch the disk, the
database or the network (``cards`` runs ``--version`` probes, ``verify`` sends a request),
so call them off the Kivy main thread:

* ``cards()`` / ``card(id)`` -> ``ToolCard`` (installed, version, pointed_at_proxy, model, ...)
* ``models()`` -> the active config's model names; ``set_model(id, model)``
* ``show(id, model=None)`` -> ``ToolSettings`` (``shells["bash"|"powershell"|"cmd"]`` text
  to copy, ``files``: exactly what apply writes); it contains the tool's own key (created
  on first use; never the master key): show it, never log it
* ``preview(id)`` -> ``ChangeResult`` with a diff per file, nothing written
* ``apply(id, model=None, force=False, actor=session)`` / ``revert(id, force=False, ...)``
  -> ``ChangeResult``; ``done`` False means conflicts (``result.conflicts``, each with a
  unified diff): ask the user, then call again with ``force=True``
* ``verify(id)`` -> ``VerifyResult`` (``ok``, ``reason``, ``status``, ``reply``,
  ``ran_tool``): runs the installed tool itself headless with a tiny prompt (slow: up to
  minutes), else sends one request in its wire format
* ``create_key(id)`` (returns the key once) / ``revoke_key(id)``
"""

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
from bridge_app.clients._snippets import SHELL_TITLES
from bridge_app.clients._store import BACKUP_KIND, KEY_KIND

__all__ = [
    "BACKUP_KIND",
    "DEFAULT_MODEL",
    "KEY_KIND",
    "SHELLS",
    "SHELL_TITLES",
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
