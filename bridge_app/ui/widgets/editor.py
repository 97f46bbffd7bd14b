"""The config editor: a TextInput that wraps (no sideways scrolling that hides the
indentation), keeps the indentation on Enter, and a gutter with the line numbers of the
YAML (a wrapped line keeps one number)."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import ColorProperty, ObjectProperty
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

_NEW_LINE = 0x01  # kivy.uix.textinput.FL_IS_LINEBREAK: the row starts a line of the text


class CodeEditor(TextInput):
    """A wrapping, auto-indenting editor that can put the cursor on a line of the text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("do_wrap", True)
        kwargs.setdefault("auto_indent", True)
        super().__init__(**kwargs)

    def line_starts(self) -> list[int]:
        """For each row on screen, the number of the text line it shows (1-based), or 0
        for the continuation of a wrapped line."""
        flags = getattr(self, "_lines_flags", [])
        numbers, line = [], 0
        for row, flag in enumerate(flags):
            if row == 0 or flag & _NEW_LINE:
                line += 1
                numbers.append(line)
            else:
                numbers.append(0)
        return numbers

    def row_of_line(self, line: int) -> int:
        """The row where text line ``line`` (1-based) starts."""
        for row, number in enumerate(self.line_starts()):
            if number == line:
                return row
        return max(0, len(getattr(self, "_lines", [])) - 1)

    def go_to(self, line: int, column: int = 0) -> None:
        self.focus = True
        # Setting the cursor also scrolls the editor so that the line is visible.
        self.cursor = (max(0, column - 1), self.row_of_line(line))


class LineNumbers(Widget):
    """Draws the line numbers of ``editor`` beside it, following its scrolling."""

    editor = ObjectProperty(None, allownone=True)
    color = ColorProperty([0.45, 0.45, 0.5, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._trigger = Clock.create_trigger(self._redraw, 0)
        self.bind(pos=self._trigger, size=self._trigger, editor=self._watch)

    def _watch(self, *_args: Any) -> None:
        if self.editor is not None:
            self.editor.bind(
                text=self._trigger,
                scroll_y=self._trigger,
                size=self._trigger,
                pos=self._trigger,
                line_height=self._trigger,
                cursor=self._trigger,
            )
        self._trigger()

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        editor = self.editor
        if editor is None:
            return
        _left, pad_top, _right, pad_bottom = editor.padding
        dy = editor.line_height + editor.line_spacing
        top = editor.top - pad_top + editor.scroll_y
        bottom, ceiling = editor.y + pad_bottom, editor.top - pad_top
        with self.canvas:
            for row, number in enumerate(editor.line_starts()):
                row_top = top - row * dy
                if row_top - editor.line_height > ceiling:
                    continue
                if row_top < bottom:
                    break
                if not number:
                    continue
                label = CoreLabel(text=str(number), font_size=sp(12), color=list(self.color))
                label.refresh()
                texture = label.texture
                y = row_top - editor.line_height + (editor.line_height - texture.height) / 2
                if y < bottom - dp(2) or y + texture.height > ceiling + dp(2):
                    continue
                Color(1, 1, 1, 1)
                Rectangle(
                    texture=texture,
                    size=texture.size,
                    pos=(self.right - texture.width - dp(6), y),
                )
