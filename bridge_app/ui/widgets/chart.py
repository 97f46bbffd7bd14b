"""A small line chart of the last minutes, drawn on the widget's canvas."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import ColorProperty, ListProperty, StringProperty
from kivy.uix.widget import Widget


class SparkChart(Widget):
    """``values`` oldest first; the line is scaled to the largest value (at least 1)."""

    values = ListProperty([])
    line_color = ColorProperty([0.25, 0.32, 0.71, 1])
    fill_color = ColorProperty([0.25, 0.32, 0.71, 0.12])
    title = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw, values=self._redraw)

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        values = [float(v) for v in self.values if v is not None]
        pad = dp(4)
        x0, y0 = self.x + pad, self.y + pad
        width, height = max(1.0, self.width - 2 * pad), max(1.0, self.height - 2 * pad)
        with self.canvas:
            Color(*self.fill_color)
            Rectangle(pos=(self.x, self.y), size=self.size)
            if len(values) < 2:
                return
            top = max(max(values), 1.0)
            step = width / (len(values) - 1)
            points: list[float] = []
            for i, value in enumerate(values):
                points += [x0 + i * step, y0 + height * (value / top)]
            Color(*self.line_color)
            Line(points=points, width=dp(1.5))


class BarChart(Widget):
    """One bar per value (oldest or first on the left), scaled to the largest; the labels
    under the bars are the screen's (plain Labels), so they stay readable on any GL."""

    values = ListProperty([])
    bar_color = ColorProperty([0.25, 0.32, 0.71, 1])
    fill_color = ColorProperty([0.25, 0.32, 0.71, 0.08])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw, values=self._redraw)

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        values = [max(0.0, float(v)) for v in self.values if v is not None]
        pad = dp(4)
        with self.canvas:
            Color(*self.fill_color)
            Rectangle(pos=(self.x, self.y), size=self.size)
            if not values:
                return
            top = max(max(values), 1.0)
            slot = max(1.0, self.width - 2 * pad) / len(values)
            height = max(1.0, self.height - 2 * pad)
            Color(*self.bar_color)
            for i, value in enumerate(values):
                Rectangle(
                    pos=(self.x + pad + i * slot + slot * 0.15, self.y + pad),
                    size=(slot * 0.7, height * value / top),
                )
