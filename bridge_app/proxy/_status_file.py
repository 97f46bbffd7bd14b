"""The running proxy publishes its status to a JSON file; other processes read it.

Why a file rather than asking the proxy over HTTP: it answers even while the proxy is
restarting or hung (that is when people run `status`), it needs no key, and it never
puts load on the event loop being diagnosed. The file holds no secret.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bridge_app.proxy._state import ProxyState, ProxyStatus, StateObserver
from bridge_app.runtime import Ticker, atomic_write, pid_alive

log = logging.getLogger(__name__)

STATUS_FILE = "proxy-status.json"
STALE_AFTER_S = 5.0


def write_status(path: Path, status: ProxyStatus) -> None:
    payload = json.dumps(status.to_dict(), indent=1).encode("utf-8")
    atomic_write(path, payload, mode=0o600, make_parents=True)


def read_status(path: Path, *, host: str = "127.0.0.1", port: int = 0) -> ProxyStatus:
    """The last published status, or `stopped` when nothing is serving."""
    stopped = ProxyStatus(
        state=ProxyState.STOPPED,
        host=host,
        port=port,
        ready=False,
        pid=0,
        started_at=None,
        uptime_s=None,
        restarts=0,
        last_error=None,
        config_path=None,
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        status = ProxyStatus.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return stopped
    alive = pid_alive(status.pid)
    age = time.time() - status.updated_at
    if alive and age < STALE_AFTER_S:
        return status
    if status.state is ProxyState.STOPPED and status.pid <= 0:
        return status
    if alive and status.state is not ProxyState.STOPPED:
        # It still exists (and holds the port and the lock) but publishes nothing: frozen
        # (SIGSTOP, a debugger, swapped out) or wedged. It is not serving.
        return replace(
            status,
            state=ProxyState.DEGRADED,
            ready=False,
            last_error=f"not answering: the serving process (pid {status.pid}) has not "
            f"reported for {age:.0f} s (frozen or stuck)",
        )
    if alive or status.state is ProxyState.STOPPED:
        return status  # it said it stopped (and may have moved on to other work)
    return replace(
        status,
        state=ProxyState.STOPPED,
        ready=False,
        uptime_s=None,
        last_error=f"gone: the serving process (pid {status.pid}) ended without stopping "
        f"the proxy (last state {status.state.value})",
    )


def unclean_shutdown(path: Path) -> str | None:
    """What the status file says about a previous run that ended without stopping its
    proxy (killed, crashed, power loss), or None. Call it before publishing anew."""
    try:
        status = ProxyStatus.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if status.state is ProxyState.STOPPED or status.pid == os.getpid():
        return None
    if pid_alive(status.pid) and time.time() - status.updated_at < STALE_AFTER_S:
        return None
    seen = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status.updated_at))
    return (
        f"the previous run (pid {status.pid}) ended without stopping the proxy: last state "
        f"{status.state.value} at {seen}"
        + (f", last error: {status.last_error}" if status.last_error else "")
    )


class StatusPublisher:
    """Writes ``source()`` to the status file every ``interval`` seconds (own thread),
    and at once on every state change when given the supervisor's ``subscribe``."""

    def __init__(
        self,
        path: Path,
        source: Callable[[], ProxyStatus],
        *,
        interval: float = 1.0,
        subscribe: Callable[[StateObserver], Callable[[], None]] | None = None,
    ) -> None:
        self.path = path
        self._source = source
        self._subscribe = subscribe
        self._unsubscribe: Callable[[], None] | None = None
        self._ticker = Ticker(self.publish, interval=interval, name="bridge-status-publisher")
        self._write_lock = threading.Lock()

    def start(self) -> None:
        if self._subscribe is not None:
            self._unsubscribe = self._subscribe(lambda *_: self.publish())
        self.publish()
        self._ticker.start()

    def publish(self) -> None:
        try:
            with self._write_lock:  # the newest snapshot is written last
                write_status(self.path, self._source())
        except Exception:
            log.exception("could not publish the proxy status to %s", self.path)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._ticker.stop()
        self.publish()  # the final state (stopped) for readers


def remove_status(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
