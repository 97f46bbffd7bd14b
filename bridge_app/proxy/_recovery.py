"""The watchdog's side of the supervisor (ProxySupervisor inherits it; the Watched
protocol of _watchdog): what a probe finds (a dead thread, a hung or silent event loop,
the HTTP liveliness answer) and how a crashed or hung proxy is brought back."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from bridge_app.proxy._environment import EnvironmentApplier
from bridge_app.proxy._listener import Listener
from bridge_app.proxy._state import ProxyState, RestartRecord, StateMachine
from bridge_app.proxy._watchdog import HTTP_SOURCE, LOOP_SOURCE, Probe, Watchdog, WatchdogPolicy
from bridge_app.runtime import BridgeError

if TYPE_CHECKING:
    from bridge_app.proxy._server import ServerThread

log = logging.getLogger("bridge_app.proxy.supervisor")
_RUNNING = (ProxyState.RUNNING, ProxyState.DEGRADED)  # also the supervisor's


class WatchedSide:
    policy: WatchdogPolicy
    _server: ServerThread | None
    _sm: StateMachine
    _watchdog: Watchdog
    _op_lock: threading.RLock
    _listener: Listener | None
    _env: EnvironmentApplier
    _http_probe: tuple[threading.Thread, list[str | None]] | None
    _http_due: float

    if TYPE_CHECKING:  # provided by ProxySupervisor

        @property
        def state(self) -> ProxyState: ...

        @property
        def url(self) -> str: ...

        def _event(self, action: str, detail: str) -> None: ...

        def _launch(self) -> None: ...

        def _teardown(self, *, abandon: bool = False) -> None: ...

        def _close_listener(self) -> None: ...

    def probe(self) -> Probe | None:
        server = self._server
        if server is None or self.state not in _RUNNING:
            return None
        if not server.alive():
            why = repr(server.crash) if server.crash else "it ended without an error"
            return Probe(fatal=f"the proxy thread died ({why})")
        silence = server.silence_s()
        server.beat()
        # Hung: silent and not using the CPU (blocked in a call, deadlocked). Silent but
        # computing (a long synchronous import on a loaded machine) is only replaced after
        # busy_timeout_s: a restart would not make that faster.
        share = server.busy_share()
        computing = share is not None and share >= self.policy.busy_cpu_share
        # Waiting for a CPU or the interpreter lock is not hanging: judged like computing.
        computing = computing or (silence >= self.policy.silent_after_s and server.starved())
        hung = silence >= self.policy.hang_timeout_s and not computing
        if hung or silence >= self.policy.busy_timeout_s:
            what = "did not answer" if hung else "was busy and did not answer"
            return Probe(
                fatal=f"the proxy's event loop {what} for {silence:.1f} s",
                hung=True,
                silent_for_s=silence,
                # Said first even when no earlier tick said it (a loop that was computing
                # until just before it stopped is reported only after busy_silent_after_s).
                silent=f"not answering: the proxy's event loop has been silent for {silence:.1f} s",
            )
        # A computing loop is only reported after busy_silent_after_s: the first request's
        # lazy imports on a loaded machine take a second or two and are not a problem.
        quiet_for = self.policy.busy_silent_after_s if computing else self.policy.silent_after_s
        if silence >= quiet_for:
            return Probe(
                silent=f"not answering: the proxy's event loop has been silent for {silence:.1f} s"
            )
        return self._http_probe_result()

    def _http_probe_result(self) -> Probe:
        """Starts an HTTP liveliness probe when one is due (on its own thread, so a hung
        loop cannot delay the heartbeat check) and hands back a finished one's result."""
        pending = self._http_probe
        if pending is not None and not pending[0].is_alive():
            self._http_probe = None
            return Probe(http_checked=True, http_problem=pending[1][0])
        now = time.monotonic()
        if pending is None and now >= self._http_due:
            self._http_due = now + self.policy.interval_s
            url, timeout = self.url, self.policy.probe_timeout_s
            box: list[str | None] = [None]

            def run() -> None:
                from bridge_app.proxy._readiness import probe_liveliness

                box[0] = probe_liveliness(url, timeout=timeout)

            thread = threading.Thread(target=run, name="bridge-proxy-probe", daemon=True)
            self._http_probe = (thread, box)
            thread.start()
        return Probe()

    def mark_degraded(self, reason: str, *, source: str = HTTP_SOURCE) -> None:
        self._sm.degrade(source, reason)

    def mark_healthy(self, *, source: str = HTTP_SOURCE) -> None:
        self._sm.heal(source)

    def recover(self, reason: str, *, hung: bool = False, since_s: float = 0.0) -> None:
        """Bring a proxy that crashed or hung while running back at once; wait between
        attempts (growing) only while restarts fail; give up into `failed` after
        ``max_failed_restarts`` failed attempts, or when the running proxy crashed more
        than ``burst_limit`` times within ``burst_window_s``. The recovery time counts
        from the fault: ``since_s`` before now for a hang (when the loop last answered)."""
        stopping = self._watchdog.stopping
        kind = "hang" if hung else "crash"
        t0 = time.monotonic() - since_s
        record = self._sm.record_restart(reason)
        self._event("proxy.crashed", f"{kind}: {reason}")
        crashes = self._sm.restarts_since(time.time() - self.policy.burst_window_s)
        with self._op_lock:
            if self._listener is not None:
                self._listener.answer_restarting()  # clients get 503 + Retry-After
            self._sm.move(ProxyState.RESTARTING, error=reason)
            self._teardown(abandon=hung)
            # What the watchdog said about the old server does not hold for the next one.
            self._sm.heal(LOOP_SOURCE)
            self._sm.heal(HTTP_SOURCE)
            self._http_probe = None
            self._http_due = time.monotonic() + self.policy.interval_s
        if crashes > self.policy.burst_limit:
            message = (
                f"The proxy crashed or hung {crashes} times in "
                f"{self.policy.burst_window_s:g} s (each time it had been running); the "
                f"watchdog stopped restarting it. Last problem: {reason}"
            )
            self._give_up(record, message, failed_restarts=0)
            return
        log.warning("restarting the proxy: %s", reason)
        failed = 0
        last_failure = ""
        while True:
            if stopping.wait(self.policy.backoff(failed)):
                self._sm.finish_restart(record, "stopped", failed_restarts=failed)
                return
            with self._op_lock:
                if stopping.is_set():
                    self._sm.finish_restart(record, "stopped", failed_restarts=failed)
                    return
                try:
                    self._launch()
                except Exception as exc:
                    failed += 1
                    last_failure = exc.message if isinstance(exc, BridgeError) else repr(exc)
                    log.warning("restart %d failed: %s", failed, last_failure)
                    if self._listener is not None:
                        self._listener.answer_restarting()
                    self._sm.move(ProxyState.RESTARTING, error=f"restart failed: {last_failure}")
                    if failed < self.policy.max_failed_restarts:
                        continue
                    restarts = "restart" if failed == 1 else "restarts"
                    message = f"1 {kind}, then {failed} {restarts} failed: {last_failure}"
                    self._give_up(record, message, failed_restarts=failed)
                    return
                self._sm.running()
            took = round(time.monotonic() - t0, 1)
            self._sm.finish_restart(
                record,
                f"recovered after {took:g} s",
                recovered_after_s=took,
                failed_restarts=failed,
            )
            self._event("proxy.recovered", f"recovered after {took:g} s ({kind}: {reason})")
            log.warning("the proxy recovered after %.1f s (%s)", took, reason)
            return

    def _give_up(self, record: RestartRecord, message: str, *, failed_restarts: int) -> None:
        # The record says what happened before the state says `failed`: whoever sees the
        # state (a status reader, the dashboard) sees the record's outcome with it.
        self._sm.finish_restart(record, f"failed: {message}", failed_restarts=failed_restarts)
        with self._op_lock:
            self._teardown()
            self._close_listener()
            self._env.clear()
            self._sm.move(ProxyState.FAILED, error=message)
        self._event("proxy.failed", message)
        self._watchdog.stopping.set()
