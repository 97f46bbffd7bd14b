"""The status line every screen and dialog shows its outcome in.

It is made of plain widgets (a coloured rectangle, a label, icon buttons): nothing in it
draws through an FBO, so it shows on software OpenGL (llvmpipe, VMs, remote desktops)
where overlays such as ``MDSnackbar`` fail. The message stays until the person dismisses
it or a newer outcome replaces it, wraps instead of being cut, and can be copied."""

from __future__ import annotations

from typing import Any

from kivy.core.clipboard import Clipboard
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivymd.uix.boxlayout import MDBoxLayout

#: Lines shown before "Show all" (the rest is one tap away, never cut with an ellipsis).
COLLAPSED_LINES = 4

ICONS = {"error": "alert-circle", "success": "check-circle", "info": "information"}


class StatusBanner(MDBoxLayout):
    """``text`` and ``kind`` ("error", "success", "info"); hidden while ``text`` is empty.
    Dispatches ``on_dismiss`` when the person closes it."""

    text = StringProperty("")
    kind = StringProperty("info")
    expanded = BooleanProperty(False)
    hidden_lines = NumericProperty(0)
    shown_text = StringProperty("")

    __events__ = ("on_dismiss",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(text=self._reflow, expanded=self._reflow)

    def on_kv_post(self, base_widget: Any) -> None:
        # "Show all" takes room only when there is more to show.
        self._expand = self.ids.expand_button.__self__  # a strong reference: ids are weak
        self.remove_widget(self._expand)

    def _reflow(self, *_args: Any) -> None:
        lines = self.text.splitlines() or [""]
        if len(lines) > COLLAPSED_LINES and not self.expanded:
            self.hidden_lines = len(lines) - COLLAPSED_LINES
            self.shown_text = "\n".join(lines[:COLLAPSED_LINES])
        else:
            self.hidden_lines = 0 if len(lines) <= COLLAPSED_LINES else -1
            self.shown_text = self.text
        expand = getattr(self, "_expand", None)
        if expand is not None:
            if self.hidden_lines and expand.parent is None:
                self.add_widget(expand, index=2)
            elif not self.hidden_lines and expand.parent is self:
                self.remove_widget(expand)

    def on_text(self, *_args: Any) -> None:
        self.expanded = False

    def toggle(self) -> None:
        self.expanded = not self.expanded

    def copy(self) -> None:
        Clipboard.copy(self.text)

    def dismiss(self) -> None:
        self.dispatch("on_dismiss")

    def on_dismiss(self) -> None:
        """Default handler: the owner clears ``text``."""


class StateChip(MDBoxLayout):
    """The proxy's state as a coloured chip (plain widgets: it draws on any OpenGL)."""

    proxy_state = StringProperty("")
