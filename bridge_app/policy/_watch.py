"""Keeps a running instance on the policy in force: the machine-wide file is re-read when
it changes, and a change made by another process arrives through the store's change feed."""

from __future__ import annotations

import logging

from bridge_app.policy._service import TOPIC, PolicyService
from bridge_app.runtime import Ticker
from bridge_app.store import ChangeFeed

log = logging.getLogger(__name__)


class PolicyWatcher:
    def __init__(self, *, service: PolicyService, feed: ChangeFeed, interval: float = 1.0) -> None:
        self._service = service
        self._ticker = Ticker(
            service.refresh_machine_file, interval=interval, name="policy-file-watch"
        )
        feed.subscribe(TOPIC, service.reload)

    def start(self) -> None:
        if self._ticker.running:
            return
        self._service.refresh_machine_file(force=True)
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()
