from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from bridge_app.services import LoginStart
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen


class SettingsScreen(BridgeScreen):
    _login_on: bool | None = None  # opening at login as last read (None: unknown)

    """Port, autostart, opening at login, idle lock, theme, on-screen keyboard."""

    managed = StringProperty("")  # set when the company policy locks these settings
    login_managed = BooleanProperty(False)  # the policy decides whether the app opens at login

    def refresh(self) -> None:
        services, session, core = self.services, self.ctx.session, self.ctx.core

        def job() -> tuple[dict[str, Any], bool, LoginStart | None]:
            login = core.start_at_login(session) if session is not None else None
            locked = "settings" in services.policy.locked_areas(session)
            return services.settings.all(), locked, login

        self.work("settings-read", job, self._show)

    def _show(self, result: tuple[dict[str, Any], bool, LoginStart | None]) -> None:
        values, locked, login = result
        self.managed = S.SETTINGS_MANAGED if locked else ""
        ids = self.ids
        self._login_on = login.on if login is not None else None
        self.login_managed = bool(login is not None and login.managed)
        ids.start_at_login.active = bool(login and login.on)
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
        login_on = bool(ids.start_at_login.active)
        login_changed = self._login_on is not None and login_on != self._login_on

        def job() -> dict[str, Any]:
            stored = core.change_settings(session, values)
            if login_changed:
                stored["start_at_login"] = core.set_start_at_login(session, login_on).on
            return stored

        def done(stored: dict[str, Any]) -> None:
            if "start_at_login" in stored:  # what is in effect now, whatever a refresh read
                self._login_on = self.ids.start_at_login.active = stored["start_at_login"]
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
