"""Per-request usage rows, written to the store in batches off the request path."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bridge_app.proxy._metrics import RequestSample
from bridge_app.runtime import Ticker
from bridge_app.store import Database, tables

log = logging.getLogger(__name__)
_usage = tables["usage_records"]
# The sample carries more than a usage row holds (the router's id, an error text for the
# live view): keep only the table's columns. The row's deployment is the readable one.
_COLUMNS = frozenset(c.name for c in _usage.columns) - {"deployment"}


class UsageWriter:
    """``submit`` only enqueues (safe on the event loop); one thread flushes every
    ``interval`` seconds. A full queue drops rows rather than slow a
    request, and says so in the log."""

    def __init__(self, *, db: Database, interval: float = 1.0, capacity: int = 10_000) -> None:
        self._db = db
        self._queue: queue.Queue[RequestSample] = queue.Queue(maxsize=capacity)
        self._ticker = Ticker(self.flush, interval=interval, name="bridge-usage-writer")
        self._dropped = 0
        self.written = 0
        #: Called on the writer thread with each row before it is stored (may fill in
        #: ``user``, feed limit counters); the policy package sets it.
        self.annotate: Callable[[dict[str, Any]], None] | None = None

    def start(self) -> None:
        self._ticker.start()

    def submit(self, sample: RequestSample) -> None:
        try:
            self._queue.put_nowait(sample)
        except queue.Full:
            self._dropped += 1
            if self._dropped in (1, 100, 10_000):
                log.warning("usage queue full: %d usage rows dropped so far", self._dropped)

    def stop(self, timeout: float = 5.0) -> None:
        self._ticker.stop(timeout)
        self.flush()

    def flush(self) -> int:
        """Write what is queued now (the writer's tick; also on stop)."""
        rows = []
        while True:
            try:
                sample = asdict(self._queue.get_nowait())
            except queue.Empty:
                break
            if self.annotate is not None:
                try:
                    self.annotate(sample)
                except Exception:
                    log.exception("could not annotate a usage row")
            row = {k: v for k, v in sample.items() if k in _COLUMNS}
            rows.append({**row, "deployment": sample["answered_by"]})
        if rows:
            try:
                with self._db.transaction() as conn:
                    conn.execute(_usage.insert(), rows)
                self.written += len(rows)
            except Exception:
                log.exception("could not write %d usage rows", len(rows))
        return len(rows)
