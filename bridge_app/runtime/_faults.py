"""Crash points for the crash-consistency tests.

``BRIDGE_TEST_KILL_AT=NAME[:N]`` makes the process SIGKILL itself the N-th time (default 1)
it passes the fault point NAME. Names in use: ``db.before_commit`` (every write
transaction, after its statements, before COMMIT), ``db.after_commit`` (after COMMIT,
before anything that follows it), ``file.before_replace`` (every atomic file write: the
temporary file is written and synced, the target not yet replaced), ``file.after_replace``
(replaced), ``file.before_remove`` / ``file.after_remove`` (a tool's config file removed),
``config.file_written`` (the active config file was replaced, its history not
yet committed). ``BRIDGE_TEST_FAULT_TRACE=FILE`` appends the name of every point passed to
FILE, so a test can kill a command at each point it really passes. Unset in production:
one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

KILL_ENV = "BRIDGE_TEST_KILL_AT"
TRACE_ENV = "BRIDGE_TEST_FAULT_TRACE"
_counts: dict[str, int] = {}
_lock = threading.Lock()


def fault_point(name: str) -> None:
    trace = os.environ.get(TRACE_ENV)
    if trace:
        with _lock, open(trace, "a", encoding="utf-8") as out:
            out.write(name + "\n")
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
