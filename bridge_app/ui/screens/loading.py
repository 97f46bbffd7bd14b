from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.screen import MDScreen


class LoadingScreen(MDScreen):
    """Shown while the services are built off the UI thread."""

    message = StringProperty("")
    failed = BooleanProperty(False)
    spinning = BooleanProperty(True)

    def on_leave(self, *_args: object) -> None:
        # An animated indicator redraws the window every frame even when nobody sees it.
        self.spinning = False
