"""A background thread that does one thing every few seconds until it is stopped: the shape
of the app's watchers and writers (policy file, usage writer, status file, token keeper).
Written once: start twice is one thread, stop wakes it at once and waits for the step in
progress, a failing step is logged and the next tick tries again, ``wake()`` runs the step
now instead of at the next tick."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticker:
    def __init__(
        self,
        step: Callable[[], object],
        *,
        interval: float,
        name: str,
        at_start: bool = False,
    ) -> None:
        """``step()`` runs on a daemon thread called ``name`` every ``interval`` seconds;
        with ``at_start`` also right away when the thread starts."""
        self._step = step
        self.interval = interval
        self.name = name
        self._at_start = at_start
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        # Events of this thread's own: a thread that outlived a stop (its step took longer
        # than the timeout) keeps its set stop event and ends, whatever starts after it.
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop, self._wake), name=self.name, daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        """Run the step now (on the thread) rather than at the next tick."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop ticking; waits up to ``timeout`` for a step in progress. True when the thread
        ended (or never ran)."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self, stop: threading.Event, wake: threading.Event) -> None:
        first = self._at_start
        while not stop.is_set():
            if not first:
                wake.wait(self.interval)
                wake.clear()
                if stop.is_set():
                    return
            first = False
            try:
                self._step()
            except Exception:
                log.exception("%s: a step failed; the next tick tries again", self.name)
