"""DiagnosticsService: one zip a support desk can read, with no secret of any kind.

Each part is collected by its own small function that never raises: a part that cannot be
collected says why inside the archive, so an export from a broken installation still works.
"""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bridge_app
from bridge_app.diagnostics._hints import error_hint
from bridge_app.diagnostics._scrub import Scrubber
from bridge_app.runtime import AppPaths, BridgeError, Redactor, atomic_write

if TYPE_CHECKING:
    from bridge_app.audit import AuditLog
    from bridge_app.auth import Session
    from bridge_app.clients import ToolsService
    from bridge_app.config import ConfigService
    from bridge_app.envvars import EnvService
    from bridge_app.integrity import IntegrityService
    from bridge_app.proxy import ProxyService
    from bridge_app.settings import SettingsService
    from bridge_app.tokens import TokenService

log = logging.getLogger(__name__)

LOG_LINES = 2000
LAST_ERRORS = 50
Progress = Callable[[str, float], None]  # (what is being collected, fraction done)


@dataclass(frozen=True)
class Part:
    name: str  # path inside the archive
    description: str
    text: str


@dataclass(frozen=True)
class ExportResult:
    path: Path
    parts: tuple[str, ...]
    size: int

    def describe(self) -> str:
        return (
            f"Diagnostics written to {self.path} ({len(self.parts)} files, "
            f"{self.size / 1024:.0f} KB). It contains no passwords, keys or tokens."
        )


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_default, sort_keys=False) + "\n"


def _default(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


class DiagnosticsService:
    """Collects, masks and writes the diagnostics archive (``export``) or shows what it
    would contain (``preview``). Any logged-in person may export; the audit parts need an
    admin and say so otherwise."""

    def __init__(
        self,
        *,
        paths: AppPaths,
        redactor: Redactor,
        settings: SettingsService,
        audit: AuditLog,
        config: ConfigService,
        env: EnvService,
        tokens: TokenService,
        tools: ToolsService,
        proxy: ProxyService,
        integrity: IntegrityService,
        doctor: Callable[[], dict[str, Any]],
    ) -> None:
        self._paths = paths
        self._redactor = redactor
        self._settings = settings
        self._audit = audit
        self._config = config
        self._env = env
        self._tokens = tokens
        self._tools = tools
        self._proxy = proxy
        self._integrity = integrity
        self._doctor = doctor

    # -- public ---------------------------------------------------------------------------

    def preview(self, session: Session | None, progress: Progress | None = None) -> list[Part]:
        """Every file the archive would hold, already masked."""
        scrubber = Scrubber(self._redactor, self._known_secrets(session))
        collectors: list[tuple[str, str, Callable[[], str]]] = [
            ("README.txt", "what this archive is", self._readme),
            ("doctor.json", "the `doctor` report", lambda: _json(self._doctor())),
            ("versions.json", "app, Python, LiteLLM and OS versions", self._versions),
            ("paths.json", "folders and files in use", self._paths_part),
            ("settings.json", "settings (managed and local)", self._settings_part),
            ("config/active.yaml", "the active LiteLLM config", self._active_config),
            ("config/validation.json", "validation of the active config", self._validation),
            ("policy.json", "policy in force", self._policy),
            ("status.json", "proxy status, restarts and metrics", self._status),
            ("logs/proxy.log", f"the last {LOG_LINES} proxy log lines", self._log_tail),
            ("errors.json", "the last errors with a hint", self._errors),
            ("audit-verify.json", "audit log verification", lambda: self._audit_verify(session)),
            ("integrity.json", "installation integrity", self._integrity_part),
            ("tools.json", "CLI tool states", self._tools_part),
            (
                "unclean-shutdowns.json",
                "previous runs that ended without stopping the proxy",
                lambda: self._unclean(session),
            ),
        ]
        parts: list[Part] = []
        for index, (name, description, collect) in enumerate(collectors):
            if progress is not None:
                progress(description, index / len(collectors))
            try:
                text = collect()
            except BridgeError as exc:
                text = _json({"not collected": exc.message, "hint": exc.hint})
            except Exception as exc:  # one broken part must not stop the export
                log.exception("diagnostics: collecting %s failed", name)
                text = _json({"not collected": f"{exc.__class__.__name__}: {exc}"})
            parts.append(Part(name, description, scrubber.scrub(text)))
        for part in parts:
            scrubber.assert_clean(part.name, part.text.encode("utf-8"))
        if progress is not None:
            progress("done", 1.0)
        return parts

    def export(
        self, session: Session | None, path: Path, progress: Progress | None = None
    ) -> ExportResult:
        """Write the archive atomically to ``path`` (a .zip)."""
        if path.suffix.lower() != ".zip":
            raise BridgeError(
                f"{path.name} is not a .zip file name.", hint="Name the archive like diag.zip."
            )
        parts = self.preview(session, progress)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for part in parts:
                archive.writestr(part.name, part.text)
        data = buffer.getvalue()
        atomic_write(path, data, mode=0o600, make_parents=True)
        return ExportResult(path=path, parts=tuple(p.name for p in parts), size=len(data))

    # -- what must never appear -------------------------------------------------------------

    def _known_secrets(self, session: Session | None) -> set[str]:
        """Every secret value this install holds that this process can read: environment
        entries (shared, and the person's own), the proxy key, tool keys, the internal token
        and the project's fields. Passwords are only ever kept as hashes or were registered
        with the redactor when typed."""
        found: set[str] = set()
        steps: list[Callable[[], Any]] = [
            lambda: found.update(self._env.effective_environment(session).values()),
            lambda: found.add(self._proxy.master_key()),
            lambda: found.update(self._tools.sync_keys().values()),
        ]
        if session is not None:
            if self._tokens.current().token is None:  # a one-off command: load it to know it
                steps.append(lambda: self._tokens.activate(session))
            steps.append(lambda: self._project_values(session, found))
        steps.append(lambda: self._context_values(found))
        for step in steps:
            try:
                step()
            except Exception:  # a store that cannot be read holds nothing we could leak
                log.warning("diagnostics: a secret source could not be read", exc_info=True)
        return found

    def _project_values(self, session: Session, found: set[str]) -> None:
        for project, _active in self._tokens.projects.projects(session):
            found.update(project.fields.values())

    def _context_values(self, found: set[str]) -> None:
        context = self._tokens.current()
        if context.token:
            found.add(context.token)
        if context.project is not None:
            found.update(context.project.fields.values())

    # -- the parts ----------------------------------------------------------------------------

    def _readme(self) -> str:
        return (
            "LiteLLM Bridge diagnostics\n"
            f"created {time.strftime('%Y-%m-%d %H:%M:%S %z')} by version "
            f"{bridge_app.__version__}\n\n"
            "Every file was masked before it was written: passwords, API keys, tokens and\n"
            "other secrets appear as **** and config secrets only as os.environ/NAME.\n"
            "Files: doctor.json, versions.json, paths.json, settings.json, config/,\n"
            "policy.json, status.json, logs/proxy.log, errors.json, audit-verify.json,\n"
            "integrity.json, tools.json, unclean-shutdowns.json.\n"
        )

    def _versions(self) -> str:
        return _json(
            {
                "app": bridge_app.__version__,
                "python": platform.python_version(),
                "python_implementation": platform.python_implementation(),
                "litellm": _version("litellm"),
                "packages": {
                    n: _version(n)
                    for n in ("uvicorn", "uvloop", "kivy", "kivymd", "sqlalchemy", "sqlcipher3")
                },
                "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
                "os_version": platform.version(),
                "frozen_bundle": bool(getattr(sys, "frozen", False)),
            }
        )

    def _paths_part(self) -> str:
        paths = {k: str(v) for k, v in self._paths.all_dirs().items()}
        paths |= {
            "database": str(self._paths.database_file),
            "key file": str(self._paths.key_file),
            "active config": str(self._config.active_path),
            "proxy log": str(self._proxy.log_file),
            "status file": str(self._proxy.status_file),
        }
        return _json({"source": self._paths.source, "paths": paths})

    def _settings_part(self) -> str:
        return _json(self._settings.all())

    def _active_config(self) -> str:
        text = self._config.read_active()
        return text if text is not None else "# no active config yet\n"

    def _validation(self) -> str:
        text = self._config.read_active()
        if text is None:
            return _json({"valid": None, "note": "no active config yet"})
        result = self._config.validate(text)
        return _json(
            {
                "valid": result.ok,
                "summary": result.summary(),
                "problems": [asdict(p) for p in result.problems],
            }
        )

    def _policy(self) -> str:
        managed = {k: v for k, v in self._settings.all().items() if k.startswith("policy.")}
        return _json(
            {
                "managed_policy": managed or None,
                "integrity_required": self._integrity.required(),
                "note": "Settings starting with policy. are the managed policy in force.",
            }
        )

    def _status(self) -> str:
        return _json(self._proxy.status().to_dict())

    def _log_lines(self) -> list[str]:
        path = self._proxy.log_file
        if not path.exists():
            return []
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()[-LOG_LINES:]

    def _log_tail(self) -> str:
        lines = self._log_lines()
        return "\n".join(lines) + "\n" if lines else "# no proxy log yet\n"

    def _errors(self) -> str:
        errors = [ln for ln in self._log_lines() if " ERROR " in ln or " CRITICAL " in ln]
        status = self._proxy.status()
        items = [{"line": ln, "hint": error_hint(ln)} for ln in errors[-LAST_ERRORS:]]
        return _json(
            {
                "proxy_last_error": status.last_error,
                "proxy_last_error_hint": error_hint(status.last_error)
                if status.last_error
                else None,
                "log_errors": items,
            }
        )

    def _audit_verify(self, session: Session | None) -> str:
        if session is None or not session.is_admin:
            return _json({"not collected": "verifying the audit log needs an admin"})
        result = self._audit.verify(session)
        return _json(result)

    def _integrity_part(self) -> str:
        status = self._integrity.check_at_start()
        return _json(
            {
                "state": status.state,
                "message": status.message,
                "required": self._integrity.required(),
            }
        )

    def _tools_part(self) -> str:
        return _json([asdict(card) for card in self._tools.cards()])

    def _unclean(self, session: Session | None) -> str:
        events: list[dict[str, Any]] | str
        if session is not None and session.is_admin:
            events = [
                {"at": e.ts, "detail": e.detail}
                for e in self._audit.list_events(
                    session, action="proxy.unclean_shutdown", limit=100
                )
            ]
        else:
            events = "the audit log's record of them needs an admin"
        return _json(
            {
                "this_run": self._proxy.unclean_shutdown,
                "recorded": events,
                "serving_process": _pid_note(self._proxy.status()),
            }
        )


def _pid_note(status: Any) -> str:
    pid = int(getattr(status, "pid", 0) or 0)
    if pid <= 0:
        return "no serving process"
    return f"pid {pid} ({'this process' if pid == os.getpid() else 'another process'})"
