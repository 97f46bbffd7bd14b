"""A busy indicator that redraws four times a second.

Kivy redraws the whole window whenever anything changes, and on software OpenGL (llvmpipe
under Xvfb, remote desktops, kiosks without a GPU) a frame is rendered while holding the
GIL. A 60 fps spinner then starves the proxy's own thread, exactly while the user waits for
it to start. Stepping the arc at 4 Hz looks busy enough and leaves the proxy its CPU."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty
from kivy.uix.widget import Widget

_STEP_S = 0.25


class BusyIndicator(Widget):
    active = BooleanProperty(False)
    color = ColorProperty([0.4, 0.31, 0.64, 1])
    angle = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._event: Any = None
        self.bind(pos=self._draw, size=self._draw, angle=self._draw, color=self._draw)
        self.on_active(self, self.active)

    def on_active(self, _instance: Any, active: bool) -> None:
        if active and self._event is None:
            self._event = Clock.schedule_interval(self._step, _STEP_S)
        elif not active and self._event is not None:
            self._event.cancel()
            self._event = None
        self._draw()

    def _step(self, _dt: float) -> None:
        self.angle = (self.angle + 45) % 360

    def _draw(self, *_args: Any) -> None:
        self.canvas.clear()
        if not self.active:
            return
        radius = max(1.0, min(self.width, self.height) / 2 - dp(3))
        with self.canvas:
            Color(*self.color)
            Line(
                circle=(self.center_x, self.center_y, radius, self.angle, self.angle + 270),
                width=dp(2),
            )
