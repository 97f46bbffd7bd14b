from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen


class SettingsScreen(BridgeScreen):
    """Port, autostart, idle lock, theme, on-screen keyboard."""

    managed = StringProperty("")  # set when the company policy locks these settings

    def refresh(self) -> None:
        services, session = self.services, self.ctx.session

        def job() -> tuple[dict[str, Any], bool]:
            return services.settings.all(), "settings" in services.policy.locked_areas(session)

        self.work("settings-read", job, self._show)

    def _show(self, result: tuple[dict[str, Any], bool]) -> None:
        values, locked = result
        self.managed = S.SETTINGS_MANAGED if locked else ""
        ids = self.ids
        ids.port.text = str(values.get("proxy.port", 4000))
        ids.autostart.active = bool(values.get("proxy.autostart"))
        ids.idle.text = str(values.get("ui.idle_lock_minutes", 15))
        ids.dark.active = str(values.get("ui.theme", "Light")).lower() == "dark"
        ids.keyboard.active = bool(values.get("ui.onscreen_keyboard", False))
        ids.close_to_tray.active = bool(values.get("ui.close_to_tray", True))

    def save(self) -> None:
        ids = self.ids
        # The core validates every value and decides who may change what.
        values = {
            "proxy.port": ids.port.text,
            "proxy.autostart": bool(ids.autostart.active),
            "ui.idle_lock_minutes": ids.idle.text,
            "ui.theme": "Dark" if ids.dark.active else "Light",
            "ui.onscreen_keyboard": bool(ids.keyboard.active),
            "ui.close_to_tray": bool(ids.close_to_tray.active),
        }
        core, session = self.ctx.core, self.ctx.require_session()

        def job() -> dict[str, Any]:
            return core.change_settings(session, values)

        def done(stored: dict[str, Any]) -> None:
            port = int(stored["proxy.port"])
            session.idle_lock_minutes = float(stored["ui.idle_lock_minutes"])
            if self.ctx.preferences_changed is not None:
                self.ctx.preferences_changed()
            restart = port != self.ctx.supervisor.port
            self.tell(
                S.SETTINGS_SAVED
                + (" The new port applies after a restart of the app." if restart else "")
            )

        self.work("settings-save", job, done)
