"""The watchdog: probes the running proxy and asks the supervisor to recover it.

Two probes at different speeds. Every ``tick_s`` the proxy's event loop is asked to run a
heartbeat; a loop that has not run one for ``silent_after_s`` makes the proxy `degraded:
not answering` at once, and after ``hang_timeout_s`` it is replaced if its thread used
(almost) no CPU meanwhile (blocked in a call, deadlocked); a thread that is computing (a
long synchronous import on a loaded machine) gets ``busy_timeout_s``. Every ``interval_s``
an HTTP liveliness probe runs on its own thread (so a hung loop never delays the heartbeat
check); ``max_probe_failures`` failed ones in a row also restart the proxy.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

#: Degraded-reason sources the watchdog owns (each is cleared only by its own probe).
LOOP_SOURCE = "watchdog:loop"
HTTP_SOURCE = "watchdog"


@dataclass(frozen=True)
class WatchdogPolicy:
    tick_s: float = 0.25  # heartbeat check
    interval_s: float = 2.0  # between HTTP liveliness probes
    silent_after_s: float = 1.5  # a loop this quiet (and idle) is reported "not answering"
    busy_silent_after_s: float = 5.0  # ...and this quiet while computing
    hang_timeout_s: float = 2.0  # ...this quiet and idle on the CPU is hung: replace it
    busy_timeout_s: float = 30.0  # ...this quiet while computing: replace it too
    busy_cpu_share: float = 0.05  # CPU share of a silent loop's thread that counts as computing
    probe_timeout_s: float = 5.0  # HTTP liveliness probe
    max_probe_failures: int = 3  # consecutive failed HTTP probes before a restart
    backoff_base_s: float = 0.5  # delay after the first failed restart; doubles per failure
    backoff_cap_s: float = 30.0
    max_failed_restarts: int = 5  # restarts failing in a row before giving up (failed)
    burst_window_s: float = 300.0  # crashes of a running proxy counted in this window...
    burst_limit: int = 5  # ...more than this many and the supervisor gives up (failed)

    def backoff(self, failed_restarts: int) -> float:
        """Wait before the next restart attempt: none after a crash, growing only while
        restarts fail."""
        if failed_restarts <= 0:
            return 0.0
        return float(min(self.backoff_cap_s, self.backoff_base_s * (2 ** (failed_restarts - 1))))


@dataclass(frozen=True)
class Probe:
    fatal: str | None = None  # dead thread or hung loop: restart now, for this reason
    hung: bool = False  # the loop does not answer: waiting for a graceful stop is futile
    silent_for_s: float = 0.0  # how long before now the loop last answered (a hang)
    silent: str | None = None  # the loop is quiet but not yet declared hung
    http_checked: bool = False  # an HTTP probe finished since the last tick
    http_problem: str | None = None  # ...and what was wrong (None: healthy)


class Watched(Protocol):
    def probe(self) -> Probe | None: ...  # None: nothing to watch right now

    def mark_degraded(self, reason: str, *, source: str = ...) -> None: ...

    def mark_healthy(self, *, source: str = ...) -> None: ...

    def recover(self, reason: str, *, hung: bool = False, since_s: float = 0.0) -> None: ...


class Watchdog:
    """Thread ``bridge-proxy-watchdog``: one tick per ``tick_s``; restarts on a dead
    thread, a hung loop, or ``max_probe_failures`` failed HTTP probes in a row."""

    def __init__(self, target: Watched, policy: WatchdogPolicy) -> None:
        self._target = target
        self.policy = policy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    def start(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            if not self._stop.is_set():
                return
            if thread is not threading.current_thread():
                thread.join()  # it gave up and is on its way out
        self._stop.clear()
        self._failures = 0
        self._thread = threading.Thread(target=self._run, name="bridge-proxy-watchdog", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    def _run(self) -> None:
        while not self._stop.wait(self.policy.tick_s):
            try:
                self.tick()
            except Exception:
                log.exception("watchdog probe failed unexpectedly")

    def tick(self) -> None:
        probe = self._target.probe()
        if probe is None:
            self._failures = 0
            return
        if probe.fatal is not None:
            self._failures = 0
            if probe.silent is not None:  # a hang is reported before the proxy is replaced
                self._target.mark_degraded(probe.silent, source=LOOP_SOURCE)
            self._target.recover(probe.fatal, hung=probe.hung, since_s=probe.silent_for_s)
            return
        if probe.silent is not None:
            self._target.mark_degraded(probe.silent, source=LOOP_SOURCE)
            return
        self._target.mark_healthy(source=LOOP_SOURCE)
        if not probe.http_checked:
            return
        if probe.http_problem is None:
            self._failures = 0
            self._target.mark_healthy(source=HTTP_SOURCE)
            return
        self._failures += 1
        if self._failures >= self.policy.max_probe_failures:
            reason = f"{self._failures} health probes failed in a row ({probe.http_problem})"
            self._failures = 0
            self._target.recover(reason)
        else:
            self._target.mark_degraded(probe.http_problem, source=HTTP_SOURCE)
