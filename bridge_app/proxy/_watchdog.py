"""The watchdog: probes the running proxy and asks the supervisor to recover it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchdogPolicy:
    interval_s: float = 2.0  # between probes
    hang_timeout_s: float = 10.0  # an event loop silent this long is hung
    probe_timeout_s: float = 5.0  # HTTP liveliness probe
    max_probe_failures: int = 3  # consecutive failed probes before a restart
    backoff_base_s: float = 0.5  # first restart delay; doubles per recent restart
    backoff_cap_s: float = 30.0
    burst_window_s: float = 300.0  # restarts counted in this window...
    burst_limit: int = 5  # ...more than this many and the supervisor gives up (failed)

    def backoff(self, recent_restarts: int) -> float:
        exponent = max(0, recent_restarts - 1)
        return float(min(self.backoff_cap_s, self.backoff_base_s * (2**exponent)))


@dataclass(frozen=True)
class Probe:
    healthy: bool
    fatal: bool = False  # dead thread or hung loop: restart now
    hung: bool = False  # the loop does not answer: waiting for a graceful stop is futile
    reason: str = ""


class Watched(Protocol):
    def probe(self) -> Probe | None: ...  # None: nothing to watch right now

    def mark_degraded(self, reason: str) -> None: ...

    def mark_healthy(self) -> None: ...

    def recover(self, reason: str, *, hung: bool = False) -> None: ...


class Watchdog:
    """Thread ``bridge-proxy-watchdog``: one probe per interval; restarts on a dead thread,
    a hung loop, or ``max_probe_failures`` failed probes in a row."""

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
        while not self._stop.wait(self.policy.interval_s):
            try:
                self.tick()
            except Exception:
                log.exception("watchdog probe failed unexpectedly")

    def tick(self) -> None:
        probe = self._target.probe()
        if probe is None:
            self._failures = 0
            return
        if probe.healthy:
            self._failures = 0
            self._target.mark_healthy()
            return
        if probe.fatal:
            self._failures = 0
            self._target.recover(probe.reason, hung=probe.hung)
            return
        self._failures += 1
        if self._failures >= self.policy.max_probe_failures:
            reason = f"{self._failures} health probes failed in a row ({probe.reason})"
            self._failures = 0
            self._target.recover(reason)
        else:
            self._target.mark_degraded(probe.reason)
