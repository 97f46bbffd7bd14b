"""A list of observers to call when something happens (a proxy state change, a new log
line): subscribe returns the way to unsubscribe, and one observer that fails never stops
the others nor the code that notifies."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class Observers(Generic[P]):
    def __init__(self, *, what: str, logger: logging.Logger, level: int = logging.ERROR) -> None:
        """``what`` names them in the log line a failing observer leaves, written to
        ``logger`` at ``level`` (with the traceback). A log handler's observers log at DEBUG
        to another logger: an error there must not feed back into the log it observes."""
        self._what = what
        self._log = logger
        self._level = level
        self._lock = threading.Lock()
        self._observers: list[Callable[P, object]] = []

    def subscribe(self, observer: Callable[P, object]) -> Callable[[], None]:
        with self._lock:
            self._observers.append(observer)

        def unsubscribe() -> None:
            with self._lock:
                if observer in self._observers:
                    self._observers.remove(observer)

        return unsubscribe

    def notify(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call every observer subscribed now, in order, on the calling thread."""
        with self._lock:
            observers = list(self._observers)
        for observer in observers:
            try:
                observer(*args, **kwargs)
            except Exception:
                self._log.log(self._level, "a %s observer failed", self._what, exc_info=True)
