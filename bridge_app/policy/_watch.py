"""Keeps a running instance on the policy in force: the machine-wide file is re-read when
it changes, and a change made by another process arrives through the store's change feed."""

from __future__ import annotations

import logging
import threading

from bridge_app.policy._service import TOPIC, PolicyService
from bridge_app.store import ChangeFeed

log = logging.getLogger(__name__)


class PolicyWatcher:
    def __init__(self, *, service: PolicyService, feed: ChangeFeed, interval: float = 1.0) -> None:
        self._service = service
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        feed.subscribe(TOPIC, service.reload)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._service.refresh_machine_file(force=True)
        self._thread = threading.Thread(target=self._run, name="policy-file-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._service.refresh_machine_file()
            except Exception:
                log.exception("could not re-read the machine-wide policy")
