from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.config import Config
from kivy.core.window import Window
from kivy.lang import Builder
from kivymd.app import MDApp
from kivymd.uix.screenmanager import MDScreenManager

import bridge_app
from bridge_app.runtime import AppPaths, Redactor, resource_path
from bridge_app.services import Session
from bridge_app.ui import strings as S
from bridge_app.ui._app import kv_file
from bridge_app.ui._async import describe_error, run_async
from bridge_app.ui._base import form_dialog, snackbar, text_field
from bridge_app.ui._context import UiContext, compose
from bridge_app.ui._notify import desktop_notify
from bridge_app.ui.screens import SCREEN_KV
from bridge_app.ui.screens.loading import LoadingScreen
from bridge_app.ui.screens.lock import LockScreen
from bridge_app.ui.screens.login import LoginScreen
from bridge_app.ui.screens.main import MainScreen
from bridge_app.ui.screens.wizard import WizardScreen

log = logging.getLogger(__name__)


class BridgeApp(MDApp):
    """The window. Services are built once, off the UI thread, then handed to screens
    through their constructors."""

    def __init__(self, *, paths: AppPaths, redactor: Redactor, kiosk: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.paths = paths
        self.redactor = redactor
        self.kiosk = kiosk
        self.ctx: UiContext | None = None
        self._geometry_restored = False
        self.title = f"{bridge_app.APP_NAME} {bridge_app.__version__}"
        icon = resource_path("assets", "icon.png")
        if icon.exists():
            self.icon = str(icon)

    # -- start-up ---------------------------------------------------------------------

    def build(self) -> MDScreenManager:
        self.theme_cls.theme_style = "Light"
        self.theme_cls.primary_palette = "Indigo"
        for name in SCREEN_KV:
            Builder.load_file(str(kv_file(name)))
        if self.kiosk:
            Window.fullscreen = "auto"
        manager = MDScreenManager()
        manager.add_widget(LoadingScreen(name="loading"))
        Window.bind(on_request_close=self._on_request_close)
        Window.bind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        return manager

    def on_start(self) -> None:
        # The first frame (with its progress indicator) is on screen before the store opens.
        loading = self.root.get_screen("loading")
        loading.message = S.LOADING
        run_async(
            "compose",
            lambda: compose(self.paths, self.redactor, kiosk=self.kiosk),
            self._composed,
            self._compose_failed,
        )

    def _compose_failed(self, exc: BaseException) -> None:
        loading = self.root.get_screen("loading")
        loading.failed = True
        loading.message = f"{S.LOAD_FAILED}:\n{describe_error(exc)}"

    def _composed(self, ctx: UiContext) -> None:
        self.ctx = ctx
        ctx.preferences_changed = self.apply_preferences
        # Settings changed by another process (the CLI, another window) apply here too.
        ctx.services.live.on("settings", lambda: Clock.schedule_once(self._settings_changed))
        settings = ctx.services.settings
        self.kiosk = ctx.kiosk = (
            self.kiosk
            or bool(settings.get("ui.kiosk", False))
            or bool(ctx.services.policy.policy().kiosk)  # the company policy's ui.kiosk
        )
        self.apply_preferences()
        manager = self.root
        manager.add_widget(WizardScreen(name="wizard", ctx=ctx, on_finished=self._logged_in))
        manager.add_widget(LoginScreen(name="login", ctx=ctx, on_login=self._logged_in))
        manager.add_widget(LockScreen(name="lock", ctx=ctx, on_unlocked=self._unlocked))
        manager.add_widget(MainScreen(name="main", ctx=ctx, on_logout=self.logout))
        manager.get_screen("loading").message = S.LOADING_WARM
        if self.kiosk or settings.get("proxy.autostart"):
            run_async("autostart", ctx.core.start_proxy, None, self._autostart_failed)
        self._lock_check = Clock.schedule_interval(self._check_idle, 1.0)
        # A blocked token refresh: tell the user even when the window is in the background.
        ctx.services.tokens.add_notifier(self._notify)
        run_async("has-admin", ctx.services.auth.has_admin, self._first_screen)

    @staticmethod
    def _notify(title: str, message: str) -> None:
        run_async("notify", lambda: desktop_notify(title, message))

    def _autostart_failed(self, exc: BaseException) -> None:
        snackbar(describe_error(exc).splitlines()[0])

    def _first_screen(self, has_admin: bool) -> None:
        self.root.current = "login" if has_admin else "wizard"

    def _settings_changed(self, _dt: float) -> None:
        self.apply_preferences()
        session = self.ctx.session if self.ctx else None
        if session is not None and self.ctx is not None:
            minutes = self.ctx.services.settings.get("ui.idle_lock_minutes")
            session.idle_lock_minutes = float(minutes)

    def apply_preferences(self) -> None:
        """Theme, window geometry and keyboard from settings (also after Settings saves)."""
        assert self.ctx is not None
        settings = self.ctx.services.settings
        theme = str(settings.get("ui.theme", "Light"))
        self.theme_cls.theme_style = "Dark" if theme.lower() == "dark" else "Light"
        mode = "systemanddock" if settings.get("ui.onscreen_keyboard", False) else ""
        if Config.get("kivy", "keyboard_mode") != mode:
            Config.set("kivy", "keyboard_mode", mode)
            Window.configure_keyboards()
        geometry = settings.get("ui.window")
        first, self._geometry_restored = not self._geometry_restored, True
        if first and not self.kiosk and isinstance(geometry, list) and len(geometry) == 4:
            width, height, left, top = (int(v) for v in geometry)
            if width >= 640 and height >= 400:
                Window.size = (width, height)
                Window.left, Window.top = left, top

    # -- sessions ---------------------------------------------------------------------

    def _logged_in(self, session: Session) -> None:
        assert self.ctx is not None
        self.ctx.set_session(session)  # the core applies the policy's limits and idle lock
        main = self.root.get_screen("main")
        main.session_changed()
        self.root.current = "main"

    def _unlocked(self) -> None:
        self.root.current = "main"

    def logout(self) -> None:
        assert self.ctx is not None
        session = self.ctx.session
        self.ctx.set_session(None)
        if session is not None:
            run_async("logout", lambda: self.ctx.core.logout(session))  # type: ignore[union-attr]
        self.root.current = "login"

    def _on_activity(self, *_args: Any) -> None:
        session = self.ctx.session if self.ctx else None
        if session is not None:
            session.touch()

    def _check_idle(self, _dt: float) -> None:
        session = self.ctx.session if self.ctx else None
        if session is not None and self.root.current == "main" and session.is_locked():
            self.root.get_screen("lock").prepare(session)
            self.root.current = "lock"

    # -- closing ----------------------------------------------------------------------

    def _on_request_close(self, *_args: Any, **_kwargs: Any) -> bool:
        if not self.kiosk or self.ctx is None:
            return False
        field = text_field(S.PASSWORD, password=True)
        user = text_field(S.USERNAME)

        def check(dialog: Any) -> None:
            ctx = self.ctx
            assert ctx is not None

            def verify() -> None:
                ctx.core.quit_kiosk(user.text, field.text)

            def failed(exc: BaseException) -> None:
                field.error = True
                snackbar(describe_error(exc).splitlines()[0])

            def quit_now(_result: None) -> None:
                dialog.dismiss()
                self.stop()

            run_async("quit-check", verify, quit_now, failed)

        form_dialog(S.QUIT_TITLE, [user, field], check, ok_text=S.QUIT, supporting=S.QUIT_TEXT)
        return True

    def on_stop(self) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        try:
            if not self.kiosk and not Window.fullscreen:
                ctx.services.settings.set(
                    "ui.window", [Window.size[0], Window.size[1], Window.left, Window.top]
                )
        except Exception:
            log.exception("could not remember the window geometry")
        ctx.services.close()
