from __future__ import annotations

from typing import Any

from bridge_app.runtime import BridgeError
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen


class SettingsScreen(BridgeScreen):
    """Port, autostart, idle lock, theme, on-screen keyboard."""

    def refresh(self) -> None:
        self.work("settings-read", self.services.settings.all, self._show)

    def _show(self, values: dict[str, Any]) -> None:
        ids = self.ids
        ids.port.text = str(values.get("proxy.port", 4000))
        ids.autostart.active = bool(values.get("proxy.autostart"))
        ids.idle.text = str(values.get("ui.idle_lock_minutes", 15))
        ids.dark.active = str(values.get("ui.theme", "Light")).lower() == "dark"
        ids.keyboard.active = bool(values.get("ui.onscreen_keyboard", False))
        ids.close_to_tray.active = bool(values.get("ui.close_to_tray", True))

    def save(self) -> None:
        ids = self.ids
        try:
            port = int(ids.port.text)
            idle = float(ids.idle.text)
        except ValueError:
            self.error = "Port and idle minutes must be numbers."
            self.tell(self.error, "error")
            return
        values = {
            "proxy.port": port,
            "proxy.autostart": bool(ids.autostart.active),
            "ui.idle_lock_minutes": idle,
            "ui.theme": "Dark" if ids.dark.active else "Light",
            "ui.onscreen_keyboard": bool(ids.keyboard.active),
            "ui.close_to_tray": bool(ids.close_to_tray.active),
        }
        settings = self.services.settings

        def job() -> None:
            if not 1024 <= port <= 65535:
                raise BridgeError(
                    f"Not saved: the port must be between 1024 and 65535 (not {port}).",
                    hint="Nothing was changed.",
                )
            for key, value in values.items():
                settings.set(key, value)

        def done(_r: None) -> None:
            session = self.ctx.session
            if session is not None:
                session.idle_lock_minutes = idle
            if self.ctx.preferences_changed is not None:
                self.ctx.preferences_changed()
            restart = port != self.ctx.supervisor.port
            self.tell(
                S.SETTINGS_SAVED
                + (" The new port applies after a restart of the app." if restart else "")
            )

        self.work("settings-save", job, done)
