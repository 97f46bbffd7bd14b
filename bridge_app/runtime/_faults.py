"""Crash points for the crash-consistency tests.

``BRIDGE_TEST_KILL_AT=NAME[:N]`` makes the process SIGKILL itself the N-th time (default 1)
it passes the fault point NAME. Names in use: ``db.before_commit`` (every write
transaction, after its statements, before COMMIT), ``db.after_commit`` (after COMMIT,
before anything that follows it), ``config.file_written`` (the active config file was
replaced, its history not yet committed). Unset in production: one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

KILL_ENV = "BRIDGE_TEST_KILL_AT"
_counts: dict[str, int] = {}
_lock = threading.Lock()


def fault_point(name: str) -> None:
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        hit = _counts[name] == (int(nth) if nth else 1)
    if hit:
        kill = getattr(signal, "SIGKILL", signal.SIGTERM)
        os.kill(os.getpid(), kill)
