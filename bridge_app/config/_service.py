"""The config service the CLI and the editor screen use: templates, validation, the
active config, safe apply, history, restore, export and import."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from bridge_app.config._apply import (
    ApplyResult,
    ConfigInvalidError,
    ProxyRestarter,
    SafeApplier,
)
from bridge_app.config._code import is_module_name
from bridge_app.config._document import ConfigDocument
from bridge_app.config._files import atomic_write_bytes, read_limited
from bridge_app.config._history import ConfigHistory, ConfigVersion, summarize_change
from bridge_app.config._problems import ValidationResult
from bridge_app.config._templates import Template, TemplateLibrary
from bridge_app.config._validate import KnownEnv, validate_bytes, validate_text
from bridge_app.config._yaml import MAX_BYTES
from bridge_app.runtime import (
    ACTIVE_CONFIG_FILENAME,
    AppPaths,
    BridgeError,
    fault_point,
    pid_alive,
)
from bridge_app.settings import SettingsService
from bridge_app.store import Database, Topic

ACTIVE_CONFIG_NAME = ACTIVE_CONFIG_FILENAME  # the name history gives the active config
RUNNING_VERSION_SETTING = "config.running_version"
#: Who is applying which content, committed before the active file is written: a crash
#: between writing it and committing its version leaves the file, and reconcile() records
#: it under the person who applied it instead of "system".
PENDING_APPLY_SETTING = "config.pending_apply"
SecretSink = Callable[[str, str], None]  # (env name, secret value)
ALLOWED_MODULES_SETTING = "config.allowed_modules"


def read_allowed_modules(settings: SettingsService) -> tuple[str, ...]:
    """The setting ``config.allowed_modules``: a list of dotted names; allowing ``pkg.mod``
    allows ``pkg.mod.anything``. Entries that are not dotted names are ignored (they could
    never match a module LiteLLM imports)."""
    value = settings.get(ALLOWED_MODULES_SETTING, [])
    if not isinstance(value, list):
        return ()
    names = (item.strip() for item in value if isinstance(item, str))
    return tuple(dict.fromkeys(n for n in names if is_module_name(n)))


class AuditRecorder(Protocol):
    def record(self, actor: str, action: str, target: str, outcome: str, detail: str) -> object: ...


class ConfigService:
    def __init__(
        self,
        *,
        paths: AppPaths,
        db: Database,
        known_env: KnownEnv | None = None,
        restarter: ProxyRestarter | None = None,
        templates: TemplateLibrary | None = None,
        audit: AuditRecorder | None = None,
        settings: SettingsService | None = None,
    ) -> None:
        self._paths = paths
        self._db = db
        self._audit = audit
        self._settings = settings or SettingsService(db=db)
        self._apply_lock = threading.RLock()
        self._known_env = known_env
        self._restarter = restarter
        self.history = ConfigHistory(db=db)
        self.templates = templates or TemplateLibrary(user_dir=paths.config_dir / "templates")
        self._applier = SafeApplier(paths.active_config_file)

    # -- wiring (the proxy and env services are built after this one) -------------------

    def _settings_get(self, key: str) -> Any:
        return self._settings.get(key)

    def _settings_set(self, key: str, value: Any) -> None:
        self._settings.set(key, value)

    def set_restarter(self, restarter: ProxyRestarter | None) -> None:
        self._restarter = restarter

    def set_known_env(self, known_env: KnownEnv | None) -> None:
        """Where os.environ/NAME references are checked; None skips that check."""
        self._known_env = known_env

    @property
    def active_path(self) -> Path:
        return self._applier.active_path

    def proxy_running(self) -> bool:
        return self._restarter is not None and self._restarter.is_running()

    # -- reading -----------------------------------------------------------------------

    def read_active(self) -> str | None:
        raw = self._applier.read_active_bytes()
        return raw.decode("utf-8", errors="replace") if raw is not None else None

    def list_templates(self) -> list[Template]:
        return self.templates.list()

    def new_from_template(self, name: str) -> str:
        return self.templates.get(name).read_text()

    def open_document(self, text: str) -> ConfigDocument:
        """For form edits; raises ConfigSyntaxError (with problems) if it cannot load."""
        return ConfigDocument.from_text(text)

    def move_secrets_to_env(self, text: str, *, store_secret: SecretSink) -> str:
        """Apply every "move_to_env" fix the validator offers: each literal secret goes to
        ``store_secret(name, value)`` (the encrypted environment store) and the returned
        text refers to it as os.environ/NAME. Nothing is returned if storing fails."""
        document = ConfigDocument.from_text(text)
        fixes = [
            p.fix
            for p in self.validate(text).problems
            if p.fix is not None and p.fix.kind == "move_to_env"
        ]
        moved = [(fix.env_name, document.apply_fix(fix)) for fix in fixes]
        for name, value in moved:
            if name and value is not None:
                store_secret(name, value)
        return document.to_text()

    # -- validation --------------------------------------------------------------------

    def allowed_modules(self) -> tuple[str, ...]:
        """Python modules an admin allowed configs to name (callbacks, custom handlers,
        auth and guardrail modules): the setting ``config.allowed_modules``."""
        return read_allowed_modules(self._settings)

    def validate(self, content: str | bytes) -> ValidationResult:
        """Every problem of ``content`` as the active config: its includes are read from
        the config folder, where LiteLLM will read them."""
        allowed = self.allowed_modules()
        where = self.active_path
        if isinstance(content, bytes):
            return validate_bytes(
                content, known_env=self._known_env, allowed_modules=allowed, location=where
            )
        return validate_text(
            content, known_env=self._known_env, allowed_modules=allowed, location=where
        )

    active_name = ACTIVE_CONFIG_NAME

    def read_file(self, path: Path) -> bytes:
        return read_limited(path, MAX_BYTES)

    def validate_file(self, path: Path) -> ValidationResult:
        return self.validate(read_limited(path, MAX_BYTES))

    # -- applying ----------------------------------------------------------------------

    def apply(
        self,
        content: str | bytes,
        *,
        author: str,
        comment: str = "",
        name: str = ACTIVE_CONFIG_NAME,
        action: str = "config.apply",
    ) -> ApplyResult:
        """Validate, then in ONE transaction record the version, its audit event and the
        active file (so a crash leaves both or neither: see reconcile(), which finishes an
        apply killed after the file was written under its author); then restart a
        proxy running in this process with it. The proxy refuses it: ConfigApplyError after
        the previous config was restored, the version marked rolled back with the reason
        (audited). Invalid: ConfigInvalidError, nothing touched. Who may apply is decided
        by the application core, not here."""
        result = self.validate(content)
        if not result.ok:
            raise ConfigInvalidError(result)
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
        data = text.encode("utf-8")
        with self._apply_lock:
            previous = self._applier.read_active_bytes()
            summary = summarize_change(
                previous.decode("utf-8", "replace") if previous is not None else None, text
            )
            pending = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "author": author,
                "comment": comment,
                "name": name,
                "action": action,
                "summary": summary,
                "pid": os.getpid(),
            }
            with self._db.transaction():
                self._settings_set(PENDING_APPLY_SETTING, pending)
            try:
                with self._db.transaction():
                    version = self.history.record(
                        name=name, content=text, author=author, comment=comment, applied=True
                    )
                    self._audit_event(author, action, f"version {version}", "ok", summary)
                    self._db.changed(Topic.CONFIG)
                    atomic_write_bytes(self.active_path, data)
                    fault_point("config.file_written")
                    self._settings_set(PENDING_APPLY_SETTING, None)
            except BaseException:
                with self._db.transaction():  # nothing was applied: nothing to finish
                    self._settings_set(PENDING_APPLY_SETTING, None)
                raise
            restarter = self._restarter
            if restarter is None or not restarter.is_running():
                return ApplyResult(version, False, result, self._saved_message(version))
            try:
                self._applier.restart(restarter)
            except Exception as exc:
                error = self._applier.roll_back(previous, restarter, exc)
                self.mark_rolled_back(version, error.reason)
                raise error from exc
            self.note_running(version)
        message = f"Applied as version {version}; the proxy restarted with it."
        return ApplyResult(version, True, result, message)

    def follow(self, restarter: ProxyRestarter, running: bytes | None) -> str | None:
        """Another process applied a config while this one runs the proxy: restart with
        the active file, or roll back to ``running`` (what this proxy ran) when it fails.
        Returns None when there was nothing to do, else a one-line outcome."""
        with self._apply_lock:
            current = self._applier.read_active_bytes()
            if current is None or current == running or not restarter.is_running():
                return None
            latest = self.history.latest_applied()
            try:
                self._applier.restart(restarter)
            except Exception as exc:
                error = self._applier.roll_back(running, restarter, exc)
                if latest is not None:
                    self.mark_rolled_back(latest.id, error.reason)
                return error.message
            if latest is not None:
                self.note_running(latest.id)
            return f"restarted with config version {latest.id if latest else '?'}"

    def mark_rolled_back(self, version: int, reason: str) -> None:
        with self._db.transaction():
            self.history.mark_rolled_back(version, reason)
            self._audit_event("system", "config.rollback", f"version {version}", "failed", reason)
            self._db.changed(Topic.CONFIG)

    def note_running(self, version: int) -> None:
        """Which version the proxy of this process now runs (apply waits on this)."""
        with self._db.transaction():
            self._settings_set(RUNNING_VERSION_SETTING, {"version": version, "pid": os.getpid()})

    def running_version(self) -> int | None:
        value = self._settings_get(RUNNING_VERSION_SETTING)
        if isinstance(value, dict) and isinstance(value.get("version"), int):
            return int(value["version"])
        return None

    def reconcile(self) -> int | None:
        """History always shows the active version: an active file that is not the latest
        applied version (an apply interrupted between writing the file and committing, or
        a hand edit) is recorded as a version of its own. Returns that version, if any."""
        current = self._applier.read_active_bytes()
        pending = self._settings_get(PENDING_APPLY_SETTING)
        if not isinstance(pending, dict) or pid_alive(int(pending.get("pid") or 0)):
            pending = None  # none, or an apply under way in a running process
        if current is None:
            self._forget_pending(pending)
            return None
        text = current.decode("utf-8", "replace")
        latest = self.history.latest_applied()
        if latest is not None and latest.content == text:
            self._forget_pending(pending)
            return None
        author, name = "system", ACTIVE_CONFIG_NAME
        if pending is not None and pending.get("sha256") == hashlib.sha256(current).hexdigest():
            # An apply killed after writing the file: finish it, under its author.
            author, name = str(pending["author"]), str(pending["name"])
            action = str(pending["action"])
            comment = f"{pending['comment']} (finished at the next start)".lstrip()
            detail = f"{pending['summary']}; finished at the next start"
        elif latest is None and self.history.count() == 0:
            action, comment = "config.adopted", "the active config when history began"
            detail = comment
        else:
            action = "config.recovered"
            comment = "found in the active file (changed outside the app)"
            detail = comment
        with self._db.transaction():
            version = self.history.record(name=name, content=text, author=author, comment=comment)
            self._audit_event(author, action, f"version {version}", "ok", detail)
            self._db.changed(Topic.CONFIG)
            if pending is not None:
                self._settings_set(PENDING_APPLY_SETTING, None)
        return version

    def _forget_pending(self, pending: dict[str, Any] | None) -> None:
        if pending is not None:
            with self._db.transaction():
                self._settings_set(PENDING_APPLY_SETTING, None)

    def _saved_message(self, version: int) -> str:
        return (
            f"Saved as version {version}; the proxy is not running here, so the change "
            "takes effect the next time it starts."
        )

    def _audit_event(self, actor: str, action: str, target: str, outcome: str, detail: str) -> None:
        if self._audit is not None:
            self._audit.record(actor, action, target, outcome, detail)

    def apply_document(
        self, document: ConfigDocument, *, author: str, comment: str = ""
    ) -> ApplyResult:
        return self.apply(document.to_text(), author=author, comment=comment)

    def restore(self, version_id: int, *, author: str) -> ApplyResult:
        version = self.history.get(version_id)
        return self.apply(
            version.content,
            author=author,
            comment=f"restored version {version_id}",
            name=version.name,
            action="config.restore",
        )

    # -- history -----------------------------------------------------------------------

    def list_versions(self, limit: int | None = None) -> list[ConfigVersion]:
        return self.history.list(limit)

    def diff(self, old_id: int, new_id: int) -> str:
        return self.history.diff(old_id, new_id)

    # -- files -------------------------------------------------------------------------

    def export(self, destination: Path, *, version_id: int | None = None) -> Path:
        """Write the active config (or a version) to ``destination``; never holds secrets."""
        if version_id is not None:
            content = self.history.get(version_id).content
        else:
            active = self.read_active()
            if active is None:
                raise BridgeError("There is no active config to export yet.")
            content = active
        atomic_write_bytes(destination, content.encode("utf-8"), mode=0o644)
        return destination

    def import_file(
        self,
        source: Path,
        *,
        author: str,
        comment: str = "",
    ) -> ApplyResult:
        """Validate a file and apply it; an invalid file changes nothing."""
        raw = read_limited(source, MAX_BYTES)
        result = self.validate(raw)
        if not result.ok:
            raise ConfigInvalidError(result, what=f"The file {source}")
        return self.apply(
            raw,
            author=author,
            comment=comment or f"imported from {source.name}",
            name=source.name,
            action="config.import",
        )
