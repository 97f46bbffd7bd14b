from __future__ import annotations

import logging
import threading
from typing import Any

from kivy.clock import Clock
from kivy.core.clipboard import Clipboard
from kivy.properties import BooleanProperty, StringProperty

from bridge_app.services import LogLine
from bridge_app.ui._base import BridgeScreen

_SHOWN = 500  # lines on screen; the capture keeps more


class LogsScreen(BridgeScreen):
    """Live tail of the proxy's log capture: level filter, search, pause, copy."""

    level = StringProperty("INFO")
    paused = BooleanProperty(False)
    search = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._dirty = threading.Event()
        # Lines arrive on proxy threads; only a flag crosses over, the UI redraws on its clock.
        self.services.proxy.logs.subscribe(lambda _line: self._dirty.set())
        Clock.schedule_interval(self._flush, 0.5)

    def refresh(self) -> None:
        self._dirty.set()
        self._flush(0)

    def on_level(self, *_args: Any) -> None:
        self.refresh()

    def on_search(self, *_args: Any) -> None:
        self.refresh()

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.refresh()

    def _lines(self) -> list[LogLine]:
        return self.services.proxy.logs.lines(
            min_level=logging.getLevelName(self.level), grep=self.search or None
        )[-_SHOWN:]

    def _flush(self, _dt: float) -> None:
        if self.paused or not self._dirty.is_set():
            return
        if self.manager is None or self.manager.current != self.name:
            return
        self._dirty.clear()
        text = "\n".join(line.text for line in self._lines())
        view = self.ids.view
        view.text = text
        view.cursor = (0, len(view._lines) - 1 if view._lines else 0)

    def copy(self) -> None:
        Clipboard.copy("\n".join(line.text for line in self._lines()))
        self.tell("Copied the shown lines (secrets are already masked).")
