"""Python's cyclic garbage collector during start-up.

Importing LiteLLM creates a few million objects that live as long as the process. While
they are being created the collector runs full (generation 2) collections over all of
them: measured here 8 collections of 70-390 ms each during one import, every one a single
stretch that holds the interpreter lock, so the window drew no frame for that long and the
import itself took 2 s longer (5.7 s against 3.7 s). ``collector_paused`` pauses the
collector around such work and then moves everything that survived into the permanent
generation (``gc.freeze``, documented for exactly this: objects made at start-up and kept
for the life of the process), so that later full collections, e.g. under proxy load,
scan only what was made afterwards. The window holds such a pause from its first frame
until every page is built: with the collector running, full collections over the new
widgets took 80-180 ms each on the UI thread (a frozen frame each). The cost: a
reference cycle among objects alive at that moment that becomes garbage later is kept
until the process ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # how many pauses are held, in any thread
_freezing = 0  # how many of them freeze when they end
_was_enabled = True  # the collector's state when the first held pause began


def pause_collector(*, freeze: bool = True) -> Callable[[], None]:
    """Pause the cyclic collector until the returned function is called (it may be
    called more than once; pauses nest and may be held by several threads: the collector
    runs again when the last one ends, unless it was off before). With ``freeze`` (for
    objects made once, kept for the life of the process), everything alive when the last
    freezing pause ends is moved into the permanent generation. Work that is repeated,
    such as a proxy's restart, pauses without freezing: freezing there would keep the
    previous server's cyclic garbage, not yet collected, for good."""
    global _paused, _freezing, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
        _freezing += freeze
    released = threading.Event()

    def release() -> None:
        global _paused, _freezing
        with _lock:
            if released.is_set():
                return
            released.set()
            if freeze:
                _freezing -= 1
                if _freezing == 0:
                    gc.freeze()
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()

    return release


@contextmanager
def collector_paused(*, freeze: bool = True) -> Iterator[None]:
    """``pause_collector`` for the length of a block."""
    release = pause_collector(freeze=freeze)
    try:
        yield
    finally:
        release()
