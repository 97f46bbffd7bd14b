from __future__ import annotations

import logging
import threading
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivymd.app import MDApp
from kivymd.uix.screenmanager import MDScreenManager

import bridge_app
from bridge_app.runtime import AppPaths, Redactor, resource_path
from bridge_app.ui._app import kv_file
from bridge_app.ui.screens.diagnostics import DiagnosticsScreen

log = logging.getLogger(__name__)


class BridgeApp(MDApp):
    """The window. Screens receive services through their constructors."""

    def __init__(self, *, paths: AppPaths, redactor: Redactor, kiosk: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.paths = paths
        self.redactor = redactor
        self.kiosk = kiosk
        self.title = f"{bridge_app.APP_NAME} {bridge_app.__version__}"
        icon = resource_path("assets", "icon.png")
        if icon.exists():
            self.icon = str(icon)

    def build(self) -> MDScreenManager:
        self.theme_cls.theme_style = "Light"
        self.theme_cls.primary_palette = "Indigo"
        Builder.load_file(str(kv_file("diagnostics")))
        if self.kiosk:
            Window.fullscreen = "auto"
        manager = MDScreenManager()
        manager.add_widget(DiagnosticsScreen(name="diagnostics", paths=self.paths))
        return manager

    def on_start(self) -> None:
        # The first frame is on screen before any disk work starts.
        Clock.schedule_once(lambda _dt: self.root.get_screen("diagnostics").refresh(), 0)

    def run_in_background(self, name: str, work: Any) -> threading.Thread:
        thread = threading.Thread(target=work, name=name, daemon=True)
        thread.start()
        return thread
