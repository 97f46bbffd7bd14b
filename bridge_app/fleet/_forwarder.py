"""Audit forwarding: every audit event, once committed, also goes to each destination.

The audit table itself is the queue. Each destination keeps how far it was sent (the
highest ``seq`` a collector accepted) in the settings table; the forwarder sends what
comes after, in order, in batches, and moves that mark only after the collector took the
batch. So nothing is lost while a collector is down, across restarts and crashes: the
backlog is bounded by the audit log itself, never by a second copy, and when the
collector is back everything after the mark goes, oldest first. A batch that was sent
but whose answer was lost is sent again (at least once): the collector can drop repeats
by ``seq`` and check order and gaps with ``prev_hash``/``hash``.

One process per data folder forwards: it holds a lease (a settings row with its name and
an expiry it renews). A window and a ``serve`` beside it do not send everything twice; if
the holder dies, another long-running instance takes over when the lease runs out.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge_app.audit import AuditEvent, AuditLog
from bridge_app.fleet._destinations import ALERT_KINDS, Destination, check_available
from bridge_app.fleet._senders import AlertSender, HttpsSender, Sender, SendError, sender_for
from bridge_app.runtime import BridgeError, Redactor
from bridge_app.store import Database, tables

log = logging.getLogger(__name__)

_settings = tables["settings"]
LEASE_KEY = "audit.forward.lease"
STATE_PREFIX = "audit.forward.state."
EPISODES_PREFIX = "alerts.episodes."
LEASE_S = 30.0
BATCH = 200
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class DestinationState:
    url: str
    sent_seq: int = 0
    last_ok: float | None = None  # when a batch was last accepted
    error: str | None = None  # why the last try failed (None: it worked)
    failing_since: float | None = None
    failures: int = 0
    retry_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: str, url: str) -> DestinationState:
        try:
            data = json.loads(raw)
            return cls(
                url=url,
                sent_seq=int(data.get("sent_seq", 0)),
                last_ok=data.get("last_ok"),
                error=data.get("error"),
                failing_since=data.get("failing_since"),
                failures=int(data.get("failures", 0)),
                retry_at=float(data.get("retry_at", 0.0)),
            )
        except (ValueError, TypeError, AttributeError):
            return cls(url=url)


@dataclass(frozen=True)
class DestinationStatus:
    destination: Destination
    state: DestinationState
    backlog: int
    unavailable: str | None = None  # why it cannot work on this machine

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        d, s = self.destination, self.state
        if self.unavailable:
            return f"{d.label}: not sent: {self.unavailable}"
        if s.error:
            wait = max(0, round(s.retry_at - now))
            since = _ago(now - (s.failing_since or now))
            return (
                f"{d.label}: failing for {since}, {self.backlog} event(s) waiting "
                f"(next try in {wait} s): {s.error}"
            )
        if self.backlog and d.kind in ALERT_KINDS:
            return f"{d.label}: {self.backlog} event(s) not yet checked for alerts"
        if self.backlog:
            return f"{d.label}: {self.backlog} event(s) waiting to be sent"
        if d.carries_alerts:
            return f"{d.label}: on (every event up to #{s.sent_seq} checked for alerts)"
        when = f", last sent {_ago(now - s.last_ok)} ago" if s.last_ok else ""
        return f"{d.label}: up to date (event #{s.sent_seq}){when}"


@dataclass(frozen=True)
class ForwardStatus:
    source: str  # "policy", "setting", "none"
    destinations: tuple[DestinationStatus, ...]
    head: int
    forwarder: str | None  # who holds the lease ("host:pid"), None when nobody does

    @property
    def backlog(self) -> int:
        """Events some collector or the alert webhook has not taken yet (the desktop
        channel is read only where a window or serve runs, so it is left out)."""
        return max(
            (d.backlog for d in self.destinations if d.destination.kind != "desktop"),
            default=0,
        )


class AuditForwarder:
    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        redactor: Redactor,
        destinations: Callable[[], tuple[tuple[Destination, ...], str]],
        network: Callable[[], Mapping[str, str]] = dict,
        token: Callable[[], str | None] = lambda: None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.time,
        senders: Callable[[Destination], Sender] | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._redactor = redactor
        self._destinations = destinations
        self._network = network
        self._token = token
        self._interval = interval
        self._clock = clock
        self._senders = senders
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease_until = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one cycle at a time (the loop, or flush)
        self._notifiers: list[Callable[[str, str], None]] = []

    def add_notifier(self, callback: Callable[[str, str], None]) -> None:
        """``callback(title, message)`` for each alert while this process forwards (the
        window: a desktop notification; `serve`: a line on standard error)."""
        self._notifiers.append(callback)

    # -- life --------------------------------------------------------------------------

    def start(self) -> None:
        """For long-running instances (the window, ``serve``)."""
        if self._thread is not None:
            return
        self._stop.clear()
        try:
            self._secret_token()  # masked in events recorded from now on, before any send
        except Exception:
            log.exception("could not read the audit collector's token")
        self._thread = threading.Thread(target=self._run, name="audit-forward", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=TIMEOUT_JOIN_S)
        self._release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bug must not end forwarding for the rest of the session
                log.exception("audit forwarding cycle failed")
            self._stop.wait(self._interval)

    # -- one cycle ---------------------------------------------------------------------

    def run_once(self, *, ignore_backoff: bool = False) -> bool:
        """Send what is waiting, if this process holds the lease; False if another does."""
        with self._lock:
            destinations, _source = self._destinations()
            if not destinations or not self._hold_lease():
                return bool(not destinations)
            head = self._audit.last_seq()
            for destination in destinations:
                if self._stop.is_set() and self._thread is not None:
                    break
                self._forward(destination, head, ignore_backoff=ignore_backoff)
            return True

    def _forward(self, d: Destination, head: int, *, ignore_backoff: bool) -> None:
        if not self._sends_here(d):
            return  # a one-off command shows no desktop: the window or serve will
        state = self._read_state(d, head)
        if state.sent_seq > head:  # a new database (or the log was cut): start over
            state = replace(state, sent_seq=0)
        now = self._clock()
        if state.error and state.retry_at > now and not ignore_backoff:
            return
        if state.sent_seq >= head:
            return  # nothing new: no sender built, no settings decrypted, once a second
        sender = self._senders(d) if self._senders else self._sender(d)
        while state.sent_seq < head:
            events = self._audit.events_after(state.sent_seq, BATCH)
            if not events:
                break
            try:
                sender.send([self._scrub(e) for e in events])
            except BridgeError as exc:
                self._failed(d, state, exc)
                return
            except Exception as exc:  # a sender bug must show, not stop every destination
                log.exception("audit forwarding to %s failed", d.url)
                self._failed(d, state, SendError(f"unexpected {exc.__class__.__name__}"))
                return
            recovered = state.error is not None
            state = DestinationState(url=d.url, sent_seq=events[-1].seq, last_ok=self._clock())
            self._write_state(d, state)
            if recovered:
                log.info("audit forwarding to %s works again", d.url)
                self._audit.record(
                    None, "audit.forward", d.url, "ok", "sending again after a failure"
                )
            if self._stop.is_set() and self._thread is not None:
                return

    def _failed(self, d: Destination, state: DestinationState, exc: BridgeError) -> None:
        now = self._clock()
        failures = state.failures + 1
        delay = min(MAX_BACKOFF_S, 2.0 ** min(failures - 1, 10)) * random.uniform(0.8, 1.2)  # noqa: S311 (jitter)
        first = state.error is None
        message = exc.message + (f" {exc.hint}" if exc.hint else "")
        self._write_state(
            d,
            replace(
                state,
                error=message,
                failures=failures,
                failing_since=state.failing_since or now,
                retry_at=now + delay,
            ),
        )
        if first:  # once per episode, not once per retry
            log.warning("audit forwarding to %s failed: %s", d.url, message)
            self._audit.record(None, "audit.forward", d.url, "failed", exc.message)

    def _sends_here(self, d: Destination) -> bool:
        return check_available(d) is None and (d.kind != "desktop" or bool(self._notifiers))

    def _sender(self, d: Destination) -> Sender:
        if d.kind not in ALERT_KINDS:
            return sender_for(d, self._network(), self._secret_token)
        key = EPISODES_PREFIX + d.id

        def load() -> set[str]:
            with self._db.reading() as conn:
                raw = conn.execute(select(_settings.c.value).where(_settings.c.key == key)).scalar()
            try:
                return set(json.loads(raw)) if raw else set()
            except ValueError:
                return set()

        def save(episodes: set[str]) -> None:
            with self._db.transaction() as conn:
                _upsert(conn, key, json.dumps(sorted(episodes)))

        webhook = HttpsSender(d, self._network()) if d.kind == "webhook" else None
        if webhook is not None:
            self._redactor.register(d.url)  # its path is its secret (Slack, Teams)
        return AlertSender(webhook=webhook, notifiers=self._notifiers, episodes=(load, save))

    def _secret_token(self) -> str | None:
        """The collector's token: the whole value and its last word ("Splunk <token>") are
        secrets from now on, masked wherever they would appear."""
        value = self._token()
        if value:
            self._redactor.register(value, value.split()[-1])
        return value

    def _scrub(self, event: AuditEvent) -> AuditEvent:
        """Recorded details were masked when written; a secret learned since is masked too
        (that event's hash then no longer matches its fields: secrecy first)."""
        redact = self._redactor.redact
        return replace(
            event,
            actor=redact(event.actor),
            target=redact(event.target),
            detail=redact(event.detail),
        )

    # -- one-off send and status -------------------------------------------------------

    def flush(
        self, *, timeout: float = 60.0, progress: Callable[[int], None] | None = None
    ) -> ForwardStatus:
        """Send the backlog now (retrying a failed destination once, ignoring its backoff),
        for ``audit forward send``; returns the status afterwards. When a running instance
        holds the lease, it is the one sending: this only reports."""
        deadline = time.monotonic() + timeout
        first = True
        try:
            while True:
                if not self.run_once(ignore_backoff=first):
                    break
                first = False
                current = self.status()
                if progress is not None:
                    progress(current.backlog)
                pending = max(
                    (r.backlog for r in current.destinations if self._sends_here(r.destination)),
                    default=0,
                )
                if pending == 0 or any(d.state.error for d in current.destinations):
                    break
                if time.monotonic() > deadline:
                    break
        finally:
            self._release()
        return self.status()

    def status(self) -> ForwardStatus:
        destinations, source = self._destinations()
        head = self._audit.last_seq()
        rows = []
        for d in destinations:
            state = self._read_state(d, head)
            sent = 0 if state.sent_seq > head else state.sent_seq
            rows.append(DestinationStatus(d, state, max(0, head - sent), check_available(d)))
        lease = self._read_lease()
        holder = None
        if lease is not None and lease[1] > self._clock():
            holder = ":".join(lease[0].split(":")[:2])
        return ForwardStatus(source=source, destinations=tuple(rows), head=head, forwarder=holder)

    # -- the lease and the marks -------------------------------------------------------

    def _hold_lease(self) -> bool:
        now = self._clock()
        if self._lease_until - now > LEASE_S / 3:
            return True
        with self._db.transaction() as conn:  # BEGIN IMMEDIATE: one taker at a time
            raw = conn.execute(
                select(_settings.c.value).where(_settings.c.key == LEASE_KEY)
            ).scalar()
            owner, until = _parse_lease(raw)
            if owner not in (None, self._owner) and until > now:
                self._lease_until = 0.0
                return False
            self._lease_until = now + LEASE_S
            _upsert(conn, LEASE_KEY, json.dumps({"owner": self._owner, "until": self._lease_until}))
        return True

    def _release(self) -> None:
        if self._lease_until == 0.0:
            return
        self._lease_until = 0.0
        try:
            with self._db.transaction() as conn:
                raw = conn.execute(
                    select(_settings.c.value).where(_settings.c.key == LEASE_KEY)
                ).scalar()
                if _parse_lease(raw)[0] == self._owner:
                    conn.execute(_settings.delete().where(_settings.c.key == LEASE_KEY))
        except Exception:  # closing: the lease runs out by itself
            log.debug("could not release the audit forwarding lease", exc_info=True)

    def _read_lease(self) -> tuple[str, float] | None:
        with self._db.reading() as conn:
            raw = conn.execute(
                select(_settings.c.value).where(_settings.c.key == LEASE_KEY)
            ).scalar()
        owner, until = _parse_lease(raw)
        return None if owner is None else (owner, until)

    def _read_state(self, d: Destination, head: int | None = None) -> DestinationState:
        """How far ``d`` is. A new audit destination starts at the first event (the whole
        log goes); a new alert channel at ``head`` (no alerts about the past)."""
        key = STATE_PREFIX + d.id
        with self._db.reading() as conn:
            raw = conn.execute(select(_settings.c.value).where(_settings.c.key == key)).scalar()
        if raw is not None:
            return DestinationState.from_json(raw, d.url)
        state = DestinationState(url=d.url)
        if d.kind in ALERT_KINDS and head is not None:
            state = replace(state, sent_seq=head)
            self._write_state(d, state)
        return state

    def _write_state(self, d: Destination, state: DestinationState) -> None:
        with self._db.transaction() as conn:
            _upsert(conn, STATE_PREFIX + d.id, state.to_json())


TIMEOUT_JOIN_S = 15.0


def _parse_lease(raw: str | None) -> tuple[str | None, float]:
    if raw is None:
        return None, 0.0
    try:
        data = json.loads(raw)
        return str(data["owner"]), float(data["until"])
    except (ValueError, KeyError, TypeError):
        return None, 0.0


def _upsert(conn: Connection, key: str, value: str) -> None:
    now = datetime.now(UTC).isoformat()
    stmt = sqlite_insert(_settings).values(key=key, value=value, updated_at=now)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_settings.c.key], set_={"value": value, "updated_at": now}
        )
    )


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
