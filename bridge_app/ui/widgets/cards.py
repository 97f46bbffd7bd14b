"""Cards, chips and copyable blocks: plain widgets that show a fact in full."""

from __future__ import annotations

from kivy.core.clipboard import Clipboard
from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.boxlayout import MDBoxLayout


class InfoChip(MDBoxLayout):
    """A short fact about something ("Installed", "Verified"), green when it holds."""

    text = StringProperty("")
    good = BooleanProperty(False)


class ToolCardView(MDBoxLayout):
    """One CLI tool: its name, status chips, details and action buttons (filled by the
    Tools screen). A box with a drawn outline, not an ``MDCard``: the card's ripple needs
    an FBO, which software OpenGL cannot always create."""

    title = StringProperty("")
    details = StringProperty("")


class CopyBlock(MDBoxLayout):
    """A snippet, URL or key shown in full (wrapped, never cut) with a Copy button."""

    title = StringProperty("")
    text = StringProperty("")
    copied = StringProperty("")

    def copy(self) -> None:
        Clipboard.copy(self.text)
        self.copied = self.text
