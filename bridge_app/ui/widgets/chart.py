"""A small line chart of the last minutes with its axes, drawn on the widget's canvas
(plain vertex instructions and text textures: no FBO, so it draws on software OpenGL)."""

from __future__ import annotations

from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import ColorProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget


def _text(text: str, color: list[float]) -> Any:
    label = CoreLabel(text=text, font_size=sp(10), color=color)
    label.refresh()
    return label.texture


class SparkChart(Widget):
    """``values`` oldest first, one per ``seconds_per_value``; the y axis goes from 0 to
    the largest value (at least ``floor``) and is labelled with it and ``unit``; the x axis
    says how far back the line goes."""

    values = ListProperty([])
    line_color = ColorProperty([0.25, 0.32, 0.71, 1])
    fill_color = ColorProperty([0.25, 0.32, 0.71, 0.08])
    axis_color = ColorProperty([0.4, 0.4, 0.45, 1])
    title = StringProperty("")
    unit = StringProperty("")
    floor = NumericProperty(1.0)
    seconds_per_value = NumericProperty(1.0)
    capacity = NumericProperty(180)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(
            pos=self._redraw,
            size=self._redraw,
            values=self._redraw,
            line_color=self._redraw,
            axis_color=self._redraw,
        )

    def top_value(self) -> float:
        values = [float(v) for v in self.values if v is not None]
        return max([*values, float(self.floor)])

    def y_label(self) -> str:
        top = self.top_value()
        number = f"{top:.0f}" if top >= 10 or top == int(top) else f"{top:.1f}"
        return f"{number} {self.unit}".strip()

    def x_label(self) -> str:
        seconds = int(self.capacity * self.seconds_per_value)
        return f"-{seconds // 60} min" if seconds >= 120 else f"-{seconds} s"

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        values = [float(v) for v in self.values if v is not None]
        axis = list(self.axis_color)
        top_tex = _text(self.y_label(), axis)
        left_tex, right_tex = _text(self.x_label(), axis), _text("now", axis)
        x0 = self.x + max(top_tex.width, dp(8)) + dp(4)
        y0 = self.y + left_tex.height + dp(2)
        width = max(1.0, self.right - x0 - dp(2))
        height = max(1.0, self.top - y0 - dp(2))
        with self.canvas:
            Color(*self.fill_color)
            Rectangle(pos=(x0, y0), size=(width, height))
            Color(*axis)
            Line(points=[x0, self.top - dp(2), x0, y0, x0 + width, y0], width=1)
            Color(1, 1, 1, 1)
            Rectangle(texture=top_tex, size=top_tex.size, pos=(self.x, self.top - top_tex.height))
            zero = _text("0", axis)
            Rectangle(texture=zero, size=zero.size, pos=(self.x, y0))
            Rectangle(texture=left_tex, size=left_tex.size, pos=(x0, self.y))
            Rectangle(
                texture=right_tex, size=right_tex.size, pos=(self.right - right_tex.width, self.y)
            )
            if len(values) < 2:
                return
            top = self.top_value()
            # The newest value sits at the right edge; older ones march left.
            step = width / max(1, int(self.capacity) - 1)
            start = x0 + width - step * (len(values) - 1)
            points: list[float] = []
            for i, value in enumerate(values):
                points += [start + i * step, y0 + height * (value / top)]
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
