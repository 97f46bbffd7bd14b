from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, insert, or_, select, update

from bridge_app.crypto import open_sealed, seal
from bridge_app.envvars._dotenv import (
    ImportPreview,
    preview_import,
    read_env_file,
    render_env,
    write_private_file,
)
from bridge_app.envvars._model import (
    AuditRecorder,
    EnvCheck,
    EnvEntry,
    EnvPermissionError,
    ImportResult,
    Scope,
    SessionLike,
    _Row,
)
from bridge_app.envvars._names import (
    APP_PROVIDED,
    NETWORK_NAMES,
    EnvError,
    check_name,
    check_value,
)
from bridge_app.runtime import BridgeError, Observers, Redactor, mask_secret
from bridge_app.store import Database, Topic, tables

_env = tables["env_entries"]
_ENV_REF = re.compile(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)")


def config_references(config_text: str) -> set[str]:
    """Every ``os.environ/NAME`` a LiteLLM config refers to."""
    return set(_ENV_REF.findall(config_text))


class EnvService:
    """Encrypted environment entries: personal (sealed with the user's own data key) and
    shared (set by an admin, sealed with a key derived from the install's database key).
    A personal entry overrides a shared one of the same name."""

    def __init__(
        self,
        *,
        db: Database,
        shared_key: bytes,
        redactor: Redactor,
        audit: AuditRecorder | None = None,
        reauthenticate: Callable[[SessionLike, str], None] | None = None,
    ) -> None:
        self._db = db
        self._shared_key = shared_key
        self._redactor = redactor
        self._audit = audit
        self._reauthenticate = reauthenticate
        # A failing observer is logged: the change it hears about has already committed.
        self._observers: Observers[[]] = Observers(
            what="environment", logger=logging.getLogger(__name__)
        )
        #: ``guard(session, "env.shared")`` raises when the managed policy's config lock
        #: refuses a shared change (set by the composition root).
        self.change_guard: Callable[[Any, str], None] | None = None

    # -- observers ("restart needed") ------------------------------------------------

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from the caller's thread) after every change; returns an
        unsubscribe function."""
        return self._observers.subscribe(callback)

    def _changed(self) -> None:
        self._observers.notify()

    # -- reading ---------------------------------------------------------------------

    def entries(self, session: SessionLike) -> list[EnvEntry]:
        rows = self._rows(session)
        personal_enabled = {r.name for r in rows if r.owner_id is not None and r.enabled}
        entries: list[EnvEntry] = []
        for row in rows:
            value = self._decrypt(session, row)
            scope: Scope = "shared" if row.owner_id is None else "personal"
            wins = bool(row.enabled) and (scope == "personal" or row.name not in personal_enabled)
            note = ""
            if scope == "shared" and row.enabled and row.name in personal_enabled:
                note = "overridden by your personal entry"
            elif not row.enabled:
                note = "disabled"
            entries.append(
                EnvEntry(
                    name=row.name,
                    scope=scope,
                    masked=mask_secret(value),
                    enabled=bool(row.enabled),
                    updated_at=row.updated_at,
                    updated_by=row.updated_by,
                    wins=wins,
                    note=note,
                )
            )
        entries.sort(key=lambda e: (e.name, e.scope != "personal"))
        return entries

    def defined_names(self, session: SessionLike | None) -> set[str]:
        """Names with an enabled entry (no decryption: cheap enough for live validation)."""
        return {row.name for row in self._rows(session) if row.enabled}

    def effective_environment(self, session: SessionLike | None) -> dict[str, str]:
        """What the proxy sees: enabled shared entries, then enabled personal ones on top.
        Without a session (headless start before anyone logs in) only shared entries."""
        env: dict[str, str] = {}
        rows = self._rows(session)
        for row in sorted(rows, key=lambda r: r.owner_id is not None):  # shared first
            if row.enabled:
                env[row.name] = self._decrypt(session, row)
        self._redactor.register(*env.values())
        return env

    def network_settings(self, session: SessionLike | None) -> dict[str, str]:
        """Corporate proxy and CA settings, for the app's own outbound (IAM) calls."""
        env = self.effective_environment(session)
        return {name: env[name] for name in NETWORK_NAMES if name in env}

    def reveal(self, session: SessionLike, name: str, *, scope: Scope, password: str) -> str:
        """The plaintext of one entry, only after the user proves who they are again."""
        if self._reauthenticate is None:
            raise EnvError("Revealing values needs the login service, which is not available.")
        try:
            self._reauthenticate(session, password)
        except BridgeError:
            self._record(session, "env.reveal", name, "denied", f"scope={scope}")
            raise
        row = self._find(session, name, scope)
        if row is None:
            raise EnvError(f"There is no {scope} entry named {name}.")
        value = self._decrypt(session, row)
        self._redactor.register(value)
        self._record(session, "env.reveal", name, "ok", f"scope={scope}")
        return value

    def check(self, session: SessionLike | None, config_text: str) -> EnvCheck:
        referenced = config_references(config_text)
        rows = self._rows(session)
        defined = {r.name for r in rows} | APP_PROVIDED  # the app sets those at every start
        enabled = {r.name for r in rows if r.enabled} | APP_PROVIDED
        return EnvCheck(
            referenced=tuple(sorted(referenced)),
            missing=tuple(sorted(referenced - defined)),
            disabled=tuple(sorted((referenced & defined) - enabled)),
            unused=tuple(sorted(defined - APP_PROVIDED - referenced)),
        )

    def available_without(self, session: SessionLike, name: str, scope: Scope) -> bool:
        """Would ``name`` still have an enabled entry (shared, or this person's own) if the
        ``scope`` one went away?"""
        return any(
            r.name == name
            and r.enabled
            and ("shared" if r.owner_id is None else "personal") != scope
            for r in self._rows(session)
        )

    # -- writing ---------------------------------------------------------------------

    def set(
        self,
        session: SessionLike,
        name: str,
        value: str,
        *,
        scope: Scope = "personal",
        enabled: bool | None = None,
    ) -> bool:
        """Create or replace an entry; True when it was new."""
        name = check_name(name)
        value = check_value(name, value)
        self._require_scope(session, scope)
        with self._db.transaction() as conn:  # the entry and its audit event together
            self._db.changed(Topic.ENV)
            created = self._upsert(conn, session, name, value, scope, enabled)
            detail = f"scope={scope} {'new' if created else 'changed'}"
            self._record(session, "env.set", name, "ok", detail)
        self._redactor.register(value)
        self._changed()
        return created

    def unset(self, session: SessionLike, name: str, *, scope: Scope = "personal") -> None:
        self._require_scope(session, scope)
        with self._db.transaction() as conn:
            self._db.changed(Topic.ENV)
            result = conn.execute(delete(_env).where(self._match(session, name, scope)))
            if result.rowcount == 0:
                raise EnvError(f"There is no {scope} entry named {name}.")
            self._record(session, "env.unset", name, "ok", f"scope={scope}")
        self._changed()

    def set_enabled(
        self, session: SessionLike, name: str, enabled: bool, *, scope: Scope = "personal"
    ) -> None:
        self._require_scope(session, scope)
        with self._db.transaction() as conn:
            self._db.changed(Topic.ENV)
            result = conn.execute(
                update(_env)
                .where(self._match(session, name, scope))
                .values(enabled=int(enabled), updated_at=_now(), updated_by=session.username)
            )
            if result.rowcount == 0:
                raise EnvError(f"There is no {scope} entry named {name}.")
            self._record(
                session, "env.enable" if enabled else "env.disable", name, "ok", f"scope={scope}"
            )
        self._changed()

    # -- .env import / export ----------------------------------------------------------

    def preview_import_file(
        self, session: SessionLike, path: Path, *, scope: Scope = "personal"
    ) -> ImportPreview:
        return self.preview_import_text(session, read_env_file(path), scope=scope, source=str(path))

    def preview_import_text(
        self, session: SessionLike, text: str, *, scope: Scope = "personal", source: str = "input"
    ) -> ImportPreview:
        self._require_scope(session, scope)
        current = {
            row.name: self._decrypt(session, row)
            for row in self._rows(session)
            if (row.owner_id is None) == (scope == "shared")
        }
        return preview_import(text, current, source=source)

    def apply_import(
        self, session: SessionLike, preview: ImportPreview, *, scope: Scope = "personal"
    ) -> ImportResult:
        """Apply the new and changed lines of a confirmed preview in ONE transaction: an
        import that fails halfway changes nothing."""
        self._require_scope(session, scope)
        lines = preview.applicable
        with self._db.transaction() as conn:
            self._db.changed(Topic.ENV)
            for line in lines:
                assert line.name is not None and line.value is not None
                self._upsert(conn, session, line.name, line.value, scope, None)
            result = ImportResult(
                added=preview.count("new"),
                changed=preview.count("changed"),
                unchanged=preview.count("unchanged"),
                invalid=preview.count("invalid"),
            )
            self._record(
                session,
                "env.import",
                preview.source,
                "ok",
                f"scope={scope} added={result.added} changed={result.changed}",
            )
        self._redactor.register(*(line.value for line in lines))
        if lines:
            self._changed()
        return result

    def export(self, session: SessionLike, path: Path, *, values: bool) -> int:
        """Write the entries this user sees (the winning one per name) to a .env file.
        With ``values=False`` a template of names only. Returns the number of names."""
        rows = self._rows(session)
        chosen: dict[str, str | None] = {}
        for row in sorted(rows, key=lambda r: r.owner_id is not None):
            chosen[row.name] = self._decrypt(session, row) if values else None
        if values:
            header = (
                "Exported by LiteLLM Bridge. THIS FILE HOLDS PLAINTEXT SECRETS:\n"
                "keep it private and delete it when done."
            )
        else:
            header = "Template exported by LiteLLM Bridge: names only, fill in the values."
        write_private_file(path, render_env(sorted(chosen.items()), header=header))
        self._record(
            session,
            "env.export",
            str(path),
            "ok",
            f"names={len(chosen)} values={'yes' if values else 'no'}",
        )
        return len(chosen)

    # -- internals -------------------------------------------------------------------

    def _require_scope(self, session: SessionLike, scope: Scope) -> None:
        if scope == "shared" and self.change_guard is not None:
            self.change_guard(session, "env.shared")
        if scope == "shared" and not session.is_admin:
            self._record(session, "env.shared", "-", "denied", "not an admin")
            raise EnvPermissionError(
                "Only an admin can change shared entries.",
                hint="Set a personal entry instead: it overrides the shared one for you.",
            )

    def _rows(self, session: SessionLike | None) -> list[_Row]:
        condition: ColumnElement[bool] = _env.c.owner_id.is_(None)
        if session is not None:
            condition = or_(condition, _env.c.owner_id == session.user_id)
        with self._db.reading() as conn:
            result = conn.execute(select(_env).where(condition).order_by(_env.c.name))
            return [_Row(**row._mapping) for row in result]

    def _find(self, session: SessionLike, name: str, scope: Scope) -> _Row | None:
        with self._db.reading() as conn:
            found = conn.execute(select(_env).where(self._match(session, name, scope))).first()
        return _Row(**found._mapping) if found else None

    def _match(self, session: SessionLike, name: str, scope: Scope) -> ColumnElement[bool]:
        owner = (
            _env.c.owner_id.is_(None) if scope == "shared" else (_env.c.owner_id == session.user_id)
        )
        return and_(owner, _env.c.name == name)

    def _upsert(
        self,
        conn: Connection,
        session: SessionLike,
        name: str,
        value: str,
        scope: Scope,
        enabled: bool | None,
    ) -> bool:
        sealed = self._encrypt(session, name, value, scope)
        values: dict[str, object] = {
            "value": sealed,
            "updated_at": _now(),
            "updated_by": session.username,
        }
        if enabled is not None:
            values["enabled"] = int(enabled)
        result = conn.execute(update(_env).where(self._match(session, name, scope)).values(values))
        if result.rowcount:
            return False
        conn.execute(
            insert(_env).values(
                {
                    "owner_id": None if scope == "shared" else session.user_id,
                    "name": name,
                    "enabled": 1,
                    **values,
                }
            )
        )
        return True

    def _encrypt(self, session: SessionLike, name: str, value: str, scope: Scope) -> bytes:
        data = value.encode("utf-8")
        if scope == "shared":
            return seal(self._shared_key, data, context=f"env:shared:{name}")
        return session.seal(data, f"env:{session.user_id}:{name}")

    def _decrypt(self, session: SessionLike | None, row: _Row) -> str:
        if row.owner_id is None:
            data = open_sealed(self._shared_key, row.value, context=f"env:shared:{row.name}")
        else:
            assert session is not None and session.user_id == row.owner_id
            data = session.open(row.value, f"env:{row.owner_id}:{row.name}")
        return data.decode("utf-8")

    def _record(
        self, session: SessionLike, action: str, target: str, outcome: str, detail: str
    ) -> None:
        if self._audit is not None:
            self._audit.record(session.username, action, target, outcome, detail)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
