"""Run work off the Kivy thread and hand the result back on it (DESIGN rule 5)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kivy.clock import Clock

from bridge_app.runtime import BridgeError

log = logging.getLogger(__name__)
T = TypeVar("T")

_busy = 0
_busy_lock = threading.Lock()


def busy_count() -> int:
    """How many background operations are running (tests wait for zero)."""
    return _busy


_closing = threading.Event()


def closing() -> None:
    """The window is going away: results that arrive from now on are dropped (their
    widgets no longer exist)."""
    _closing.set()


def opening() -> None:
    """A window opens (again, in tests that run several apps in one process)."""
    _closing.clear()


def on_ui(callback: Callable[..., Any], *args: Any) -> None:
    """Call ``callback(*args)`` on the Kivy thread (from any thread)."""

    def call(_dt: float) -> None:
        if not _closing.is_set():
            callback(*args)

    Clock.schedule_once(call, 0)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, BridgeError):
        return exc.message + (f"\n{exc.hint}" if exc.hint else "")
    return f"Unexpected problem: {exc.__class__.__name__}. Details are in the log file."


def run_async(
    name: str,
    work: Callable[[], T],
    on_done: Callable[[T], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> threading.Thread:
    """``work()`` in a daemon thread; ``on_done(result)`` or ``on_error(exc)`` on the UI
    thread. Unexpected exceptions are logged with their traceback, never shown."""
    global _busy

    def target() -> None:
        global _busy
        try:
            result = work()
        except BaseException as exc:
            if not isinstance(exc, BridgeError):
                log.exception("background work %s failed", name)
            if on_error is not None:
                on_ui(on_error, exc)
        else:
            if on_done is not None:
                on_ui(on_done, result)
        finally:
            on_ui(_done)

    def _done() -> None:
        global _busy
        with _busy_lock:
            _busy -= 1

    with _busy_lock:
        _busy += 1
    thread = threading.Thread(target=target, name=f"ui-{name}", daemon=True)
    thread.start()
    return thread
