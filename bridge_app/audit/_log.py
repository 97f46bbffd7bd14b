"""The audit log service: append, query, verify, export."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from bridge_app.audit._actions import OUTCOMES
from bridge_app.audit._chain import GENESIS, AuditEvent, VerifyResult, check_chain, event_hash
from bridge_app.audit._export import FORMATS, ExportFormat, render, write_atomically
from bridge_app.auth import AccessGuard, Session, admin_only, normalize_username
from bridge_app.runtime import BridgeError, Redactor
from bridge_app.store import Database, tables

log = logging.getLogger(__name__)

_events = tables["audit_events"]
_settings = tables["settings"]
HEAD_SETTING = "audit.head"
MAX_DETAIL = 500
MAX_TARGET = 200
MAX_ACTOR = 64
SYSTEM_ACTOR = "system"
_ACTION_RX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_CONTROL_RX = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class AuditError(BridgeError):
    pass


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    format: ExportFormat


class AuditLog:
    """Append-only, hash-chained audit events.

    ``record()`` may be called from any thread (the proxy thread records too): the
    previous hash is read and the new event written in one BEGIN IMMEDIATE transaction,
    so concurrent appends queue up and the chain never forks.

    What ``verify()`` detects: a changed field in any event; an event removed from the
    start or the middle; events reordered or renumbered; events removed from the end (the
    head — newest seq and hash — is kept in the settings table, written in the same
    transaction, and the next append links to that head rather than to whatever row is
    last); events appended by hand.

    What it cannot detect: whoever holds the database key can recompute the whole chain
    from the altered event onwards *and* rewrite the head; remove the newest events
    together with the head (or the whole log with it: it then looks new); or delete only
    the head, which the next append silently re-creates. The chain uses no secret beyond
    the database key, so the defence against such a person is an export kept elsewhere:
    the events and last hash of an older export must still appear in a later one.
    """

    def __init__(
        self,
        *,
        db: Database,
        redactor: Redactor,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self._redactor = redactor
        self._clock = clock or (lambda: datetime.now(UTC))
        self._guard = AccessGuard(db=db, audit=self)

    # -- append ------------------------------------------------------------------------

    def record(
        self,
        actor: Session | str | None,
        action: str,
        target: str,
        outcome: str,
        detail: str = "",
    ) -> AuditEvent:
        """Append one event. ``detail`` is redacted and capped: never pass a secret, but
        if one slips through the Redactor masks what it knows or recognises."""
        if not _ACTION_RX.match(action) or len(action) > 64:
            raise ValueError(f"audit action must look like 'area.verb', got {action!r}")
        if outcome not in OUTCOMES:
            raise ValueError(f"audit outcome must be one of {OUTCOMES}, got {outcome!r}")
        who = actor.username if isinstance(actor, Session) else (actor or SYSTEM_ACTOR)
        fields = {
            "ts": self._clock().astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self._clean(who, MAX_ACTOR),
            "action": action,
            "target": self._clean(target, MAX_TARGET),
            "outcome": outcome,
            "detail": self._clean(detail, MAX_DETAIL),
        }
        try:
            with self._db.transaction() as conn:
                last = conn.execute(
                    select(_events.c.seq, _events.c.hash).order_by(_events.c.seq.desc()).limit(1)
                ).first()
                head = _read_head(conn)
                last_seq = last.seq if last is not None else 0
                if head is not None:
                    # Link to the recorded head, not the last row: if rows were cut from
                    # the end, the gap stays visible after this append.
                    seq, prev = max(head[0], last_seq) + 1, head[1]
                else:
                    seq, prev = last_seq + 1, (last.hash if last is not None else GENESIS)
                digest = event_hash(seq=seq, prev_hash=prev, **fields)
                conn.execute(
                    _events.insert().values(seq=seq, prev_hash=prev, hash=digest, **fields)
                )
                _write_head(conn, seq, digest, fields["ts"])
        except SQLAlchemyError as exc:
            log.error("audit event %s could not be written: %s", action, exc.__class__.__name__)
            raise AuditError(
                f"The audit log could not be written ({exc.__class__.__name__})."
            ) from exc
        return AuditEvent(seq=seq, prev_hash=prev, hash=digest, **fields)

    def _clean(self, text: str, limit: int) -> str:
        text = _CONTROL_RX.sub(" ", self._redactor.redact(str(text))).strip()
        return text if len(text) <= limit else text[: limit - 1] + "…"

    # -- read (the app itself: audit forwarding) ---------------------------------------

    def events_after(self, seq: int, limit: int = 200) -> list[AuditEvent]:
        """Up to ``limit`` events after ``seq``, oldest first. No session: the reader is
        the app's own forwarder, which sends what was recorded, never shows it to anyone."""
        stmt = select(_events).where(_events.c.seq > seq).order_by(_events.c.seq).limit(limit)
        with self._db.reading() as conn:
            return [AuditEvent.from_row(r) for r in conn.execute(stmt)]

    def last_seq(self) -> int:
        """The newest event's number (0 for an empty log)."""
        with self._db.reading() as conn:
            value = conn.execute(select(func.max(_events.c.seq))).scalar()
        return int(value or 0)

    # -- read (admins) -----------------------------------------------------------------

    @admin_only
    def list_events(
        self,
        session: Session,
        *,
        user: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 100,
    ) -> list[AuditEvent]:
        """Matching events in log order; with ``limit`` the newest ``limit`` of them.
        ``action`` matches exactly or as a prefix area ("auth" matches "auth.login")."""
        stmt = select(_events)
        if user:
            stmt = stmt.where(_events.c.actor == normalize_username(user.strip()))
        if action:
            stmt = stmt.where(
                (_events.c.action == action) | _events.c.action.startswith(action + ".")
            )
        if since is not None:
            stmt = stmt.where(_events.c.ts >= _iso(since))
        if until is not None:
            stmt = stmt.where(_events.c.ts <= _iso(until))
        stmt = stmt.order_by(_events.c.seq.desc())
        if limit is not None:
            if limit <= 0:
                raise AuditError("The limit must be a positive number.")
            stmt = stmt.limit(limit)
        with self._db.reading() as conn:
            rows = conn.execute(stmt).all()
        return [AuditEvent.from_row(r) for r in reversed(rows)]

    @admin_only
    def verify(self, session: Session) -> VerifyResult:
        with self._db.reading() as conn:
            result = check_chain(_iter_events(conn), _read_head(conn))
        self.record(
            session,
            "audit.verify",
            "audit log",
            "ok" if result.ok else "failed",
            "intact" if result.ok else f"first bad event #{result.first_bad_seq}",
        )
        return result

    @admin_only
    def export(
        self,
        session: Session,
        path: Path | str,
        fmt: str,
        *,
        user: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ExportResult:
        """Write the matching events to ``path`` (atomic; nothing left on failure)."""
        if fmt not in FORMATS:
            raise AuditError(f"Unknown export format {fmt!r}: use csv or json.")
        export_format: ExportFormat = "csv" if fmt == "csv" else "json"
        target = Path(path).expanduser()
        events = self.list_events(
            session, user=user, action=action, since=since, until=until, limit=None
        )
        meta: dict[str, Any] = {
            "format": "litellm-bridge-audit/1",
            "exported_at": self._clock().astimezone(UTC).isoformat(timespec="seconds"),
            "exported_by": session.username,
            "filters": {
                "user": user,
                "action": action,
                "since": _iso(since) if since else None,
                "until": _iso(until) if until else None,
            },
        }
        try:
            write_atomically(target, render(events, export_format, meta))
        except BridgeError as exc:
            self.record(session, "audit.export", str(target), "failed", exc.message)
            raise
        self.record(
            session, "audit.export", str(target), "ok", f"{export_format}, {len(events)} events"
        )
        return ExportResult(path=target, count=len(events), format=export_format)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the user's local time
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _iter_events(conn: Connection) -> Iterator[AuditEvent]:
    result = conn.execute(select(_events).order_by(_events.c.seq)).yield_per(500)
    for row in result:
        yield AuditEvent.from_row(row)


def _read_head(conn: Connection) -> tuple[int, str] | None:
    raw = conn.execute(select(_settings.c.value).where(_settings.c.key == HEAD_SETTING)).scalar()
    if raw is None:
        return None
    try:
        value = json.loads(raw)
        return int(value["seq"]), str(value["hash"])
    except (ValueError, KeyError, TypeError):
        return (0, "damaged")


def _write_head(conn: Connection, seq: int, digest: str, ts: str) -> None:
    value = json.dumps({"seq": seq, "hash": digest})
    stmt = sqlite_insert(_settings).values(key=HEAD_SETTING, value=value, updated_at=ts)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_settings.c.key], set_={"value": value, "updated_at": ts}
        )
    )
