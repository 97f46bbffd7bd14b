"""Where a dialog goes when it cannot be drawn.

``MDDialog`` draws through elevation and shadow effects that can fail on some OpenGL
drivers (the "FBO Initialization failed" family on Mesa llvmpipe, VMs, remote desktops).
When opening one raises, its own parts (headline, text, fields, error line, buttons) move
into this overlay, made only of plain rectangles and labels, so the person still reads
the dialog, types into it and taps its buttons; ``dismiss`` of the original dialog
closes this one."""

from __future__ import annotations

from typing import Any

from kivy.uix.floatlayout import FloatLayout

#: The containers of an ``MDDialog`` whose children are the dialog's content, in order.
PARTS = ("headline_container", "supporting_text_container", "content_container", "button_container")


class PlainDialog(FloatLayout):
    """Holds the parts of ``dialog`` over a dimmed window; touches never reach below it."""

    def __init__(self, dialog: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dialog = dialog
        body = self.ids.body
        for name in PARTS:
            container = dialog.ids[name]
            for child in list(reversed(container.children)):
                container.remove_widget(child)
                body.add_widget(child)
        dialog.dismiss = self.dismiss  # the dialog's own callers close it as usual

    def open(self) -> PlainDialog:
        from kivy.core.window import Window

        Window.add_widget(self)
        return self

    def dismiss(self, *_args: Any) -> None:
        if self.parent is not None:
            self.parent.remove_widget(self)
            self.dialog.dispatch("on_dismiss")

    def on_touch_down(self, touch: Any) -> bool:
        super().on_touch_down(touch)
        return True  # modal: the screen below does not react

    def on_touch_move(self, touch: Any) -> bool:
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        super().on_touch_up(touch)
        return True
