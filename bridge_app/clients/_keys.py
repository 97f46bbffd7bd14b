"""Per-tool proxy keys (ToolsService inherits them): each tool gets a key of its own, so
usage rows and the audit log name the tool and revoking one cuts off that tool only. The
proxy's registry follows the stored keys, also when another process changed them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bridge_app.clients._registry import tool_spec
from bridge_app.clients._store import ToolStore
from bridge_app.proxy import KeyIdentity, ProxyService, new_proxy_key
from bridge_app.runtime import Redactor
from bridge_app.store import Database

log = logging.getLogger(__name__)


class ToolKeys:
    _db: Database
    _store: ToolStore
    _proxy: ProxyService
    _redactor: Redactor
    _loaded: dict[str, str]  # tool -> the key the proxy's registry has for it

    if TYPE_CHECKING:  # provided by ToolsService

        def _record(self, actor: Any, action: str, target: str, detail: str = "") -> None: ...

    def create_key(self, tool_id: str, *, actor: Any = None) -> str:
        """A new proxy key for this tool only (replacing its previous one). Returned once;
        re-apply the tool to write it into its config."""
        spec = tool_spec(tool_id)
        old = self._store.tool_key(spec.id)
        key = new_proxy_key()
        self._redactor.register(key)
        with self._db.transaction():  # the key and its audit event together
            self._store.save_tool_key(spec.id, key)
            self._record(actor, "tools.key_create", spec.id, "replaced" if old else "new")
        if old is not None:
            self._proxy.keys.revoke(old)
        self._proxy.keys.add(key, KeyIdentity(spec.id))
        self._loaded[spec.id] = key
        return key

    def has_own_key(self, tool_id: str) -> bool:
        return self._store.tool_key(tool_spec(tool_id).id) is not None

    def revoke_key(self, tool_id: str, *, actor: Any = None) -> bool:
        spec = tool_spec(tool_id)
        old = self._store.tool_key(spec.id)
        if old is None:
            return False
        with self._db.transaction():
            self._store.drop_tool_key(spec.id)
            self._record(actor, "tools.key_revoke", spec.id)
        self._proxy.keys.revoke(old)
        self._loaded.pop(spec.id, None)
        return True

    def load_keys(self) -> int:
        """Give the proxy every stored tool key (at start; new ones are added live)."""
        return len(self.sync_keys())

    def sync_keys(self) -> dict[str, str]:
        """Make the proxy's registry match the stored tool keys: a long-running ``serve``
        calls this now and then, so keys created or revoked by another process (the CLI
        while the proxy runs) take effect without a restart."""
        try:
            keys = self._store.tool_keys()
        except Exception:  # a busy or locked database must not stop the proxy
            log.warning("could not read the tool keys; keeping the current ones")
            return dict(self._loaded)
        for tool, key in self._loaded.items():
            if keys.get(tool) != key:
                self._proxy.keys.revoke(key)
        for tool, key in keys.items():
            if self._loaded.get(tool) != key:
                self._proxy.keys.add(key, KeyIdentity(tool))
        self._loaded = dict(keys)
        return keys
