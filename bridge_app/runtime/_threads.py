"""CPU time of another thread of this process, on Linux and Windows, and (Linux) its time
waiting for a CPU.

The watchdog tells a blocked event loop (hung: replace it) from a busy one (computing: give
it time) by how much CPU the loop's thread used while it was silent. ``time.thread_time``
answers only for the calling thread; this answers for any thread.
"""

from __future__ import annotations

import sys
import threading
import time


def thread_cpu_time(thread: threading.Thread) -> float | None:
    """Seconds of CPU ``thread`` has used (user + kernel), or None if the OS cannot tell
    (the thread has not started or has ended)."""
    if sys.platform == "win32":
        from bridge_app.runtime._win32_threads import thread_cpu_seconds

        native = thread.native_id
        return None if native is None else thread_cpu_seconds(native)
    ident = thread.ident
    if ident is None:
        return None
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (OSError, AttributeError):
        return None


def thread_wait_time(thread: threading.Thread) -> float | None:
    """Seconds ``thread`` has spent runnable but waiting for a CPU (Linux's schedstat), or
    None where the OS does not say. A loop that is silent while this grows is starved by
    other work on the machine, not stuck."""
    native = thread.native_id
    if native is None or not sys.platform.startswith("linux"):
        return None
    try:
        with open(f"/proc/self/task/{native}/schedstat", encoding="ascii") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None
