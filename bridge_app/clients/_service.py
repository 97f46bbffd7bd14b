"""ToolsService: the Tools screen and `litellm-bridge tools ...` use only this."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from bridge_app.clients._changes import (
    plan_apply,
)
from bridge_app.clients._detect import find_tool
from bridge_app.clients._files import read_bytes
from bridge_app.clients._formats import MERGERS, READERS, lookup
from bridge_app.clients._journalled import ToolChangeJournal
from bridge_app.clients._keys import ToolKeys
from bridge_app.clients._model import (
    ChangeResult,
    Platform,
    Target,
    ToolCard,
    ToolSettings,
    ToolSpec,
    VerifyResult,
)
from bridge_app.clients._registry import TOOLS, tool_spec
from bridge_app.clients._snippets import PLATFORM_SHELLS, shell_text
from bridge_app.clients._store import ToolStore
from bridge_app.clients._verify import run_headless, verify
from bridge_app.proxy import ProxyService, load_config, new_proxy_key, url_for
from bridge_app.runtime import BridgeError, Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database

log = logging.getLogger(__name__)

DEFAULT_MODEL = "demo"
_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104 - recognising, not binding


class ToolsService(ToolKeys, ToolChangeJournal):
    def __init__(
        self,
        *,
        db: Database,
        seal_key: bytes,
        settings: SettingsService,
        proxy: ProxyService,
        redactor: Redactor,
        audit: Any = None,
        home: Path | None = None,
        platform: Platform | None = None,
        search_path: str | None = None,
        environ: Mapping[str, str] | None = None,
        version_timeout: float = 10.0,
    ) -> None:
        self._db = db
        self._store = ToolStore(db=db, seal_key=seal_key)
        self._settings = settings
        self._proxy = proxy
        self._redactor = redactor
        self._audit = audit
        self._home = home
        self.platform: Platform = platform or ("windows" if sys.platform == "win32" else "linux")
        self.search_path = search_path  # None: the process PATH
        # Where the tools keep their files can move with CODEX_HOME, XDG_CONFIG_HOME and
        # OPENCODE_CONFIG: read from the process environment (None) at each use.
        self._environ = environ
        self._version_timeout = version_timeout
        self._loaded: dict[str, str] = {}  # tool -> key given to the proxy's registry

    # -- what there is ---------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self._home if self._home is not None else Path.home()

    @property
    def environ(self) -> Mapping[str, str]:
        return self._environ if self._environ is not None else os.environ

    def shells(self) -> tuple[str, ...]:
        """The shells whose snippets fit this platform, most usual first."""
        return PLATFORM_SHELLS.get(self.platform, ("bash",))

    @staticmethod
    def tools() -> tuple[ToolSpec, ...]:
        return TOOLS

    def models(self) -> list[str]:
        """The model names the proxy's active config offers (``demo`` on a fresh install)."""
        try:
            config = load_config(self._proxy.active_config())
        except BridgeError:
            return [DEFAULT_MODEL]
        names = [
            str(entry["model_name"])
            for entry in config.get("model_list") or []
            if isinstance(entry, dict) and entry.get("model_name")
        ]
        return list(dict.fromkeys(names)) or [DEFAULT_MODEL]

    def proxy_url(self) -> str:
        status = self._proxy.status()
        host = "127.0.0.1" if status.host in _WILDCARD_HOSTS else status.host
        return url_for(host, status.port)

    def model_for(self, tool_id: str) -> str:
        chosen = self._settings.get(f"tools.{tool_spec(tool_id).id}.model")
        models = self.models()
        if isinstance(chosen, str) and chosen in models:
            return chosen
        return DEFAULT_MODEL if DEFAULT_MODEL in models else models[0]

    def key_for(self, tool_id: str) -> str:
        """The tool's own proxy key (created on first use), for a snippet the person
        copies; the master key is never handed out."""
        return self._key_for(tool_id)

    def _key_for(self, tool_id: str, actor: Any = None) -> str:
        """The tool's own proxy key, created on first use. The proxy's master key is never
        handed to a tool: it would end up in the tool's files and shell profiles."""
        key = self._store.tool_key(tool_id)
        if key is None:
            key = self.create_key(tool_id, actor=actor)
        self._redactor.register(key)
        return key

    def folder_for(self, tool_id: str) -> str:
        """The folder the user runs the tool in (Gemini CLI's trusted folder)."""
        chosen = self._settings.get(f"tools.{tool_spec(tool_id).id}.folder")
        return chosen if isinstance(chosen, str) and chosen else str(self.home)

    def _target(
        self,
        spec: ToolSpec,
        model: str | None,
        *,
        folder: str | None = None,
        actor: Any = None,
        key: str | None = None,
    ) -> Target:
        if model is not None and model not in self.models():
            raise BridgeError(
                f"The proxy has no model {model!r}.",
                hint="Models in the active config: " + ", ".join(self.models()),
            )
        if folder is not None and not Path(folder).is_absolute():
            raise BridgeError(f"The work folder {folder!r} must be an absolute path.")
        key = key or self._key_for(spec.id, actor)
        if key == self._proxy.master_key():  # a key store mix-up must never leak it
            raise BridgeError("Refusing to give a tool the proxy's master key.")
        return Target(
            self.proxy_url(),
            key,
            model or self.model_for(spec.id),
            folder or self.folder_for(spec.id),
        )

    # -- cards -----------------------------------------------------------------------------

    def _read_applied(self, spec: ToolSpec, at: tuple[str, tuple[str, ...]] | None) -> Any:
        if at is None:
            return None
        config = spec.file(at[0])
        path = config.path(self.home, self.platform, self.environ)
        try:
            if path.is_symlink() and not path.exists():
                return None
            data = read_bytes(path)
            if data is None:
                return None
            return lookup(READERS[config.format](data.decode("utf-8-sig")), at[1])
        except Exception:  # an unreadable file is reported by apply, not by the card
            return None

    def card(self, tool_id: str) -> ToolCard:
        spec = tool_spec(tool_id)
        found = find_tool(
            spec.binaries, search_path=self.search_path, timeout=self._version_timeout
        )
        url = self._read_applied(spec, spec.url_at)
        model = self._read_applied(spec, spec.model_at)
        proxy = self.proxy_url()
        pointed = isinstance(url, str) and url.rstrip("/").removesuffix("/v1") == proxy
        return ToolCard(
            id=spec.id,
            name=spec.name,
            installed=found.binary is not None,
            binary=found.binary,
            version=found.version,
            install_hint=spec.install_hint,
            can_apply=spec.can_apply,
            applied=any(self._store.backup(spec.id, f.id) for f in spec.files),
            pointed_at_proxy=pointed,
            configured_url=url if isinstance(url, str) else None,
            model=str(model).removeprefix("openai/").removeprefix("litellm-bridge/")
            if model
            else self.model_for(spec.id),
            has_own_key=self._store.tool_key(spec.id) is not None,
            config_files=tuple(
                str(f.path(self.home, self.platform, self.environ)) for f in spec.files
            ),
            notes=spec.notes,
        )

    def cards(self) -> list[ToolCard]:
        """Every tool; the ``--version`` probes run in parallel (each has a timeout)."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(self.card, [t.id for t in TOOLS]))

    # -- show / apply / revert ---------------------------------------------------------------

    def show(self, tool_id: str, *, model: str | None = None) -> ToolSettings:
        spec = tool_spec(tool_id)
        target = self._target(spec, model)
        env = spec.env(target)
        files: dict[str, str] = {}
        for config in spec.files:
            path = config.path(self.home, self.platform, self.environ)
            values = config.values(target)  # exactly what apply writes: the two agree
            files[str(path)] = MERGERS[config.format](path, None, values)
        return ToolSettings(
            tool=spec.id,
            proxy_url=target.proxy_url,
            model=target.model,
            models=tuple(self.models()),
            env=env,
            shells=shell_text(env),
            files=files,
            uses_own_key=self._store.tool_key(spec.id) is not None,
        )

    def set_model(self, tool_id: str, model: str) -> None:
        spec = tool_spec(tool_id)
        self._target(spec, model)  # validates
        self._settings.set(f"tools.{spec.id}.model", model)

    def _require_files(self, spec: ToolSpec) -> None:
        if not spec.can_apply:
            raise BridgeError(
                f"{spec.name} has no config file to write.",
                hint="Use 'Show settings' and put the variables in your environment.",
            )

    def preview(self, tool_id: str, *, model: str | None = None) -> ChangeResult:
        """What apply would change (diffs, conflicts) without writing anything."""
        spec = tool_spec(tool_id)
        self._require_files(spec)
        steps = plan_apply(
            spec,
            self._target(spec, model, key=self._key_or_new(spec.id)[0]),
            home=self.home,
            platform=self.platform,
            env=self.environ,
            store=self._store,
        )
        return self._masked(ChangeResult(spec.id, False, tuple(s.change for s in steps)))

    def _key_or_new(self, tool_id: str) -> tuple[str, str | None]:
        """The tool's stored key, or a new one that is kept only once an apply is done
        (a refused apply creates no key): (key, the new key or None)."""
        key = self._store.tool_key(tool_id)
        if key is None:
            key = new_proxy_key()
            self._redactor.register(key)
            return key, key
        return key, None

    # -- verify ------------------------------------------------------------------------------

    def verify(
        self,
        tool_id: str,
        *,
        timeout: float = 30.0,
        run_timeout: float = 180.0,
        env: Mapping[str, str] | None = None,
    ) -> VerifyResult:
        """When the tool is installed: run it non-interactively with a tiny prompt, with
        only its own configuration, in its work folder — "OK" means the tool works.
        Otherwise: one request in the tool's wire format, with the key and model its
        config holds (after apply) or would get. ``env`` replaces the process environment
        for the tool run (tests run tools hermetically)."""
        spec = tool_spec(tool_id)
        target = self._target(spec, None)
        key = self._read_applied(spec, spec.key_at)
        model = self._read_applied(spec, spec.model_at)
        if isinstance(key, str) and key:
            self._redactor.register(key)
            target = replace(target, key=key)
        if isinstance(model, str) and model:
            model = model.removeprefix("openai/").removeprefix("litellm-bridge/")
            target = replace(target, model=model)
        found = find_tool(
            spec.binaries, search_path=self.search_path, timeout=self._version_timeout
        )
        if spec.headless and found.binary is not None:
            return run_headless(
                spec,
                found.binary,
                target,
                redactor=self._redactor,
                env=env,
                home=self._home,
                timeout=run_timeout,
            )
        sent = verify(spec.id, spec.wire, target, redactor=self._redactor, timeout=timeout)
        if found.binary is not None:  # installed, but the app cannot run it headless
            version = f" {found.version}" if found.version else ""
            instead = (
                f"{spec.name}{version} is installed, but the app has no headless run "
                "for it: sent its request"
            )
            return replace(sent, instead=instead)
        return sent

    def _masked(self, result: ChangeResult) -> ChangeResult:
        """Diffs are shown on screen: proxy keys in them are masked."""
        self._proxy.master_key()  # registers it with the redactor
        changes = tuple(replace(c, diff=self._redactor.redact(c.diff)) for c in result.changes)
        return replace(result, changes=changes)

    def _record(self, actor: Any, action: str, target: str, detail: str = "") -> None:
        if self._audit is not None:
            self._audit.record(actor, action, target, "ok", detail)
