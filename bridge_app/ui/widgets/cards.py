"""Cards, chips and copyable blocks: plain widgets that show a fact in full."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.boxlayout import MDBoxLayout

from bridge_app.ui._clipboard import copy_text


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
    """A snippet, URL or key shown in full (wrapped, never cut) with a Copy button. A
    secret block (the default: snippets carry the tool's key) is copied out of the
    clipboard history and cleared after 30 s."""

    title = StringProperty("")
    text = StringProperty("")
    copied = StringProperty("")
    secret = BooleanProperty(True)

    def copy(self) -> None:
        copy_text(self.text, secret=self.secret)
        self.copied = self.text
