"""The change feed: how every running instance (window, `serve`, another `serve`) learns
that another process changed the data folder.

Writers call ``Database.changed(topic)`` inside the transaction that makes the change; the
topic's counter in the ``changes`` table moves in that same commit. Each instance runs one
``ChangeFeed`` that reads the counters every ``interval`` seconds (a single small query:
works the same on Windows and Linux, needs no socket and no secret) and calls the
subscribers of each topic whose counter moved. Commits made by this process wake the feed
at once, so local changes do not wait for the next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bridge_app.store._database import Database
from bridge_app.store._topics import Topic

log = logging.getLogger(__name__)

Listener = Callable[[str], None]


class ChangeFeed:
    def __init__(self, *, db: Database, interval: float = 0.5) -> None:
        self._db = db
        self._interval = interval
        self._listeners: dict[str, list[Listener]] = {}
        self._seen: dict[str, int] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        db.on_commit_changes(lambda _topics: self._wake.set())

    def subscribe(self, topic: Topic, listener: Listener) -> None:
        """``listener(topic)`` runs on the feed's thread after ``topic`` changed anywhere.
        Keep it short; hand long work (a proxy restart) to another thread."""
        with self._lock:
            self._listeners.setdefault(topic, []).append(listener)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._seen = self._read()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def poll(self) -> set[str]:
        """Check once; call the listeners of what moved. Returns the topics that moved."""
        now = self._read()
        if now is None:
            return set()
        before, self._seen = self._seen, now
        if before is None:
            return set()
        moved = {t for t, seq in now.items() if before.get(t) != seq}
        for topic in sorted(moved):
            with self._lock:
                listeners = list(self._listeners.get(topic, ()))
            for listener in listeners:
                try:
                    listener(topic)
                except Exception:
                    log.exception("a change listener for %s failed", topic)
        return moved

    def _read(self) -> dict[str, int] | None:
        try:
            return self._db.change_counters()
        except Exception as exc:  # a closed or busy database: try again at the next tick
            log.debug("change feed could not read the counters: %s", exc)
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            self.poll()
