"""The config service the CLI and the editor screen use: templates, validation, the
active config, safe apply, history, restore, export and import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge_app.config._apply import (
    DEFAULT_DRAIN_TIMEOUT,
    ApplyResult,
    ConfigApplyError,
    ConfigInvalidError,
    ProxyRestarter,
    SafeApplier,
)
from bridge_app.config._document import ConfigDocument
from bridge_app.config._files import atomic_write_bytes, read_limited
from bridge_app.config._history import ConfigHistory, ConfigVersion
from bridge_app.config._problems import ValidationResult
from bridge_app.config._templates import Template, TemplateLibrary
from bridge_app.config._validate import KnownEnv, validate_bytes, validate_text
from bridge_app.config._yaml import MAX_BYTES
from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.store import Database

ACTIVE_CONFIG_NAME = "config.yaml"  # history name; the file is AppPaths.active_config_file
SecretSink = Callable[[str, str], None]  # (env name, secret value)


class ConfigService:
    def __init__(
        self,
        *,
        paths: AppPaths,
        db: Database,
        known_env: KnownEnv | None = None,
        restarter: ProxyRestarter | None = None,
        templates: TemplateLibrary | None = None,
    ) -> None:
        self._paths = paths
        self._known_env = known_env
        self._restarter = restarter
        self.history = ConfigHistory(db=db)
        self.templates = templates or TemplateLibrary(user_dir=paths.config_dir / "templates")
        self._applier = SafeApplier(paths.active_config_file)
        #: ``guard(session, "config")`` raises when the managed policy's config lock refuses
        #: the change (set by the composition root; the application core will own it).
        self.change_guard: Callable[[Any, str], None] | None = None

    # -- wiring (the proxy and env services are built after this one) -------------------

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

    def validate(self, content: str | bytes) -> ValidationResult:
        if isinstance(content, bytes):
            return validate_bytes(content, known_env=self._known_env)
        return validate_text(content, known_env=self._known_env)

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
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        session: Any = None,
    ) -> ApplyResult:
        """Validate, write the active config, restart a running proxy with it, and record
        the version. Invalid: ConfigInvalidError, nothing touched. Proxy refuses it:
        ConfigApplyError after the previous config was restored (the attempt is kept in
        the history with applied=False)."""
        if self.change_guard is not None:
            self.change_guard(session, "config")
        result = self.validate(content)
        if not result.ok:
            raise ConfigInvalidError(result)
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
        try:
            restarted = self._applier.apply(
                text.encode("utf-8"), self._restarter, drain_timeout=drain_timeout
            )
        except ConfigApplyError as exc:
            # Kept so the attempt can be found, fixed and applied again.
            note = f"rolled back: {exc.reason}"
            self.history.record(
                name=name,
                content=text,
                author=author,
                comment=f"{comment} ({note})" if comment else note,
                applied=False,
            )
            raise
        version = self.history.record(
            name=name, content=text, author=author, comment=comment, applied=True
        )
        if restarted:
            message = f"Applied as version {version}; the proxy restarted with it."
        else:
            message = (
                f"Saved as version {version}; the proxy is not running here, so the change "
                "takes effect the next time it starts."
            )
        return ApplyResult(version, restarted, result, message)

    def apply_document(
        self, document: ConfigDocument, *, author: str, comment: str = "", session: Any = None
    ) -> ApplyResult:
        return self.apply(document.to_text(), author=author, comment=comment, session=session)

    def restore(
        self,
        version_id: int,
        *,
        author: str,
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        session: Any = None,
    ) -> ApplyResult:
        version = self.history.get(version_id)
        return self.apply(
            version.content,
            author=author,
            comment=f"restored version {version_id}",
            name=version.name,
            drain_timeout=drain_timeout,
            session=session,
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
        drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
        session: Any = None,
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
            drain_timeout=drain_timeout,
            session=session,
        )
