"""CPU time of another thread of this process, on Linux and Windows.

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
