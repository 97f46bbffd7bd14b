"""The proxy's state machine and the status snapshot every front end reads (pure)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from bridge_app.proxy._exposure import url_for
from bridge_app.runtime import Observers

log = logging.getLogger(__name__)


class ProxyState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    DEGRADED = "degraded"  # serving, but a health probe failed; the watchdog is watching
    RESTARTING = "restarting"
    FAILED = "failed"  # start failed, or the watchdog gave up


#: Moves the supervisor may make; anything else is a bug and raises.
_ALLOWED: dict[ProxyState, frozenset[ProxyState]] = {
    ProxyState.STOPPED: frozenset({ProxyState.STARTING}),
    ProxyState.STARTING: frozenset({ProxyState.RUNNING, ProxyState.FAILED, ProxyState.STOPPED}),
    ProxyState.RUNNING: frozenset(
        {ProxyState.DEGRADED, ProxyState.RESTARTING, ProxyState.STOPPED, ProxyState.FAILED}
    ),
    ProxyState.DEGRADED: frozenset(
        {ProxyState.RUNNING, ProxyState.RESTARTING, ProxyState.STOPPED, ProxyState.FAILED}
    ),
    ProxyState.RESTARTING: frozenset(
        {ProxyState.RUNNING, ProxyState.FAILED, ProxyState.STOPPED, ProxyState.RESTARTING}
    ),
    ProxyState.FAILED: frozenset({ProxyState.STARTING, ProxyState.STOPPED}),
}


@dataclass(frozen=True)
class RestartRecord:
    """One crash or hang of a running proxy and what the watchdog made of it."""

    at: float  # epoch seconds
    reason: str
    outcome: str = "restarting"  # then "recovered after N s", "failed: ..." or "stopped"
    recovered_after_s: float | None = None
    failed_restarts: int = 0  # attempts that failed before the outcome


_RECORD_FIELDS = frozenset(RestartRecord.__dataclass_fields__)


@dataclass(frozen=True)
class ProxyStatus:
    """Everything `status` and the GUI show; never holds a secret."""

    state: ProxyState
    host: str
    port: int
    ready: bool
    pid: int
    started_at: float | None
    uptime_s: float | None
    restarts: int
    last_error: str | None
    config_path: str | None
    recent_restarts: list[RestartRecord] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    updated_at: float = field(default_factory=time.time)
    # The person the proxy serves (`serve --as`, the window's login; else the OS account):
    # `status` in another terminal shows that person's quota, not its own account's.
    served_user: str | None = None

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["url"] = self.url
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProxyStatus:
        return cls(
            state=ProxyState(data.get("state", "stopped")),
            host=str(data.get("host", "127.0.0.1")),
            port=int(data.get("port", 0)),
            ready=bool(data.get("ready", False)),
            pid=int(data.get("pid", 0)),
            started_at=data.get("started_at"),
            uptime_s=data.get("uptime_s"),
            restarts=int(data.get("restarts", 0)),
            last_error=data.get("last_error"),
            config_path=data.get("config_path"),
            recent_restarts=[
                RestartRecord(**{k: v for k, v in r.items() if k in _RECORD_FIELDS})
                for r in data.get("recent_restarts", [])
            ],
            metrics=dict(data.get("metrics") or {}),
            updated_at=float(data.get("updated_at", 0.0)),
            served_user=data.get("served_user"),
        )


StateObserver = Callable[[ProxyState, ProxyState, str | None], None]


class StateMachine:
    """Current state, last error and restart history, with observers.

    Observers run on whichever thread made the change (a supervisor or watchdog thread):
    the UI marshals to its own thread. A failing observer is logged, never propagated.
    """

    def __init__(self, *, history: int = 20) -> None:
        self._lock = threading.RLock()
        self._state = ProxyState.STOPPED
        self._last_error: str | None = None
        self._restarts: deque[RestartRecord] = deque(maxlen=history)
        self._restart_count = 0
        self._observers: Observers[[ProxyState, ProxyState, str | None]] = Observers(
            what="proxy state", logger=log
        )
        self._degraded: dict[str, str] = {}  # source -> reason, e.g. "watchdog", "token"

    @property
    def state(self) -> ProxyState:
        return self._state

    @property
    def last_error(self) -> str | None:
        return self._last_error

    @property
    def restart_count(self) -> int:
        return self._restart_count

    def restarts(self) -> list[RestartRecord]:
        with self._lock:
            return list(self._restarts)

    def subscribe(self, observer: StateObserver) -> Callable[[], None]:
        return self._observers.subscribe(observer)

    def move(self, new: ProxyState, *, error: str | None = None) -> None:
        with self._lock:
            old = self._state
            if new != old and new not in _ALLOWED[old]:
                raise RuntimeError(f"proxy state cannot move from {old} to {new}")
            self._state = new
            if error is not None:
                self._last_error = error
        if new != old:
            log.info("proxy state %s -> %s%s", old, new, f" ({error})" if error else "")
        self._observers.notify(old, new, error)

    def degrade(self, source: str, reason: str) -> None:
        """Serving, but not fully (failed probes, internal models without a token...). Each
        source clears only its own reason; a later move to RUNNING keeps any left."""
        with self._lock:
            self._degraded[source] = reason
        if self._state == ProxyState.RUNNING:
            self.move(ProxyState.DEGRADED, error=reason)

    def heal(self, source: str) -> None:
        with self._lock:
            self._degraded.pop(source, None)
            remaining = next(iter(self._degraded.values()), None)
        if self._state == ProxyState.DEGRADED:
            self.move(ProxyState.DEGRADED if remaining else ProxyState.RUNNING, error=remaining)

    def running(self) -> None:
        """Started (or restarted): RUNNING, or DEGRADED while some source still says so."""
        with self._lock:
            remaining = next(iter(self._degraded.values()), None)
        self.move(ProxyState.RUNNING)
        if remaining:
            self.move(ProxyState.DEGRADED, error=remaining)

    def clear_error(self) -> None:
        with self._lock:
            self._last_error = None

    def record_restart(self, reason: str) -> RestartRecord:
        record = RestartRecord(at=time.time(), reason=reason)
        with self._lock:
            self._restarts.append(record)
            self._restart_count += 1
        return record

    def finish_restart(
        self,
        record: RestartRecord,
        outcome: str,
        *,
        recovered_after_s: float | None = None,
        failed_restarts: int = 0,
    ) -> RestartRecord:
        """Give a restart record its final outcome (it stays in the same place)."""
        done = RestartRecord(
            at=record.at,
            reason=record.reason,
            outcome=outcome,
            recovered_after_s=recovered_after_s,
            failed_restarts=failed_restarts,
        )
        with self._lock:
            for index, item in enumerate(self._restarts):
                if item is record:
                    self._restarts[index] = done
                    break
        return done

    def restarts_since(self, since: float) -> int:
        with self._lock:
            return sum(1 for r in self._restarts if r.at >= since)
