from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.config import Config
from kivy.core.window import Window
from kivy.lang import Builder
from kivymd.app import MDApp
from kivymd.uix.screenmanager import MDScreenManager

import bridge_app
from bridge_app.runtime import (
    AppPaths,
    Redactor,
    collector_paused,
    pause_collector,
    resource_path,
)
from bridge_app.services import Session, Topic
from bridge_app.ui import strings as S
from bridge_app.ui._app import kv_file
from bridge_app.ui._async import closing, describe_error, opening, run_async
from bridge_app.ui._context import UiContext, compose
from bridge_app.ui._exits import WindowExits
from bridge_app.ui._gl import remember_renderer
from bridge_app.ui._notify import desktop_notify
from bridge_app.ui.screens import SCREEN_KV, SHARED_KV
from bridge_app.ui.screens.loading import LoadingScreen

if TYPE_CHECKING:
    from bridge_app.ui.screens.main import MainScreen

log = logging.getLogger(__name__)

#: How often (seconds) a thread holding the interpreter lock hands it over when another
#: thread waits for it, while the window runs.
UI_SWITCH_INTERVAL_S = 0.001


class BridgeApp(WindowExits, MDApp):
    """The window. Services are built once, off the UI thread, then handed to screens
    through their constructors."""

    def __init__(self, *, paths: AppPaths, redactor: Redactor, kiosk: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.paths = paths
        self.redactor = redactor
        self.kiosk = kiosk
        self.ctx: UiContext | None = None
        self._pending_notices: list[tuple[str, str]] = []
        self._geometry_restored = False
        self._end_gc_pause: Callable[[], None] = lambda: None
        self._stopped = False
        self.title = f"{bridge_app.APP_NAME} {bridge_app.__version__}"
        icon = resource_path("assets", "icon.png")
        if icon.exists():
            self.icon = str(icon)

    # -- start-up ---------------------------------------------------------------------

    def build(self) -> MDScreenManager:
        opening()
        # Until every page is built, no full collections over the new widgets on the UI
        # thread (80-180 ms each; runtime/_gc.py).
        self._end_gc_pause = pause_collector()
        self.theme_cls.theme_style = "Light"
        self.theme_cls.primary_palette = "Indigo"
        import bridge_app.ui.widgets  # registers the shared widgets for KV

        bridge_app.ui.widgets.make_ripples_on_first_touch()  # before any button is made

        # The loading screen first; the other layouts load one per frame behind it.
        for name in (*SHARED_KV, "loading"):
            _load_kv_once(name)
        self._kv_pending = [n for n in SCREEN_KV if n != "loading"]
        self._kv_event = Clock.schedule_interval(lambda _dt: self._load_kv(1), 0)
        manager = MDScreenManager()
        manager.add_widget(LoadingScreen(name="loading"))
        Window.bind(on_request_close=self._on_request_close)
        Window.bind(on_touch_down=self._on_activity, on_key_down=self._on_activity)
        return manager

    def on_start(self) -> None:
        # The window shares the interpreter lock with the embedded proxy's threads; with
        # Python's 5 ms switch interval a frame waits up to 5 ms each time it asks for the
        # lock back. 1 ms took the frame p95 under 32 streaming clients from about 52 ms to
        # 30-38 ms here, without fewer requests served (benchmarks/RESULTS.md).
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
        self._remember_renderer()
        # A second start of the app asks this window to come forward (ui/_app.py).
        Clock.schedule_interval(self._check_show_request, 0.5)
        # The first frame (with its progress indicator) is on screen before the store opens.
        loading = self.root.get_screen("loading")
        loading.message = S.LOADING
        run_async("compose", self._compose, self._composed, self._compose_failed)

    def _remember_renderer(self) -> None:
        from kivy.graphics.opengl import GL_RENDERER, glGetString

        try:
            raw = glGetString(GL_RENDERER)
        except Exception as exc:  # a driver that cannot say: start anyway, Kivy's default
            log.info("OpenGL: GL_RENDERER not readable: %s", exc)
            return
        name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        remember_renderer(self.paths.cache_dir, name, Config.getint("graphics", "multisamples"))

    def _compose(self) -> UiContext:
        # Off the UI thread, behind the first frame: the screens' modules (they import the
        # domain packages) and the store. The collector is paused meanwhile: its full
        # collections over the imports' objects would stop the loading screen's frames.
        with collector_paused():
            import bridge_app.ui.screens.lock
            import bridge_app.ui.screens.login
            import bridge_app.ui.screens.main
            import bridge_app.ui.screens.wizard  # noqa: F401

            return compose(self.paths, self.redactor, kiosk=self.kiosk)

    def _load_kv(self, count: int | None = None) -> None:
        while self._kv_pending and (count is None or count > 0):
            _load_kv_once(self._kv_pending.pop(0))
            count = None if count is None else count - 1
        if not self._kv_pending:
            self._kv_event.cancel()

    def _compose_failed(self, exc: BaseException) -> None:
        self._end_gc_pause()
        loading = self.root.get_screen("loading")
        loading.failed = True
        loading.message = f"{S.LOAD_FAILED}:\n{describe_error(exc)}"

    def _composed(self, ctx: UiContext) -> None:
        self._load_kv()  # whatever has not loaded yet
        self.ctx = ctx
        ctx.preferences_changed = self.apply_preferences
        # Settings changed by another process (the CLI, another window) apply here too.
        ctx.services.live.on(Topic.SETTINGS, lambda: Clock.schedule_once(self._settings_changed))
        settings = ctx.services.settings
        self.kiosk = ctx.kiosk = (
            self.kiosk
            or bool(settings.get("ui.kiosk", False))
            or bool(ctx.services.policy.policy().kiosk)  # the company policy's ui.kiosk
        )
        self.apply_preferences()
        manager = self.root
        from bridge_app.ui.screens.login import LoginScreen

        on_quit = self.ask_to_quit if self.kiosk else None
        manager.add_widget(
            LoginScreen(name="login", ctx=ctx, on_login=self._logged_in, on_quit=on_quit)
        )
        # The main screen (every page) is built after the first screen is on show.
        manager.get_screen("loading").message = S.LOADING_WARM
        self._start_tray(ctx)
        self._autostart_wanted = bool(self.kiosk or settings.get("proxy.autostart"))
        self._autostart(None)
        self._lock_check = Clock.schedule_interval(self._check_idle, 1.0)
        # A blocked token refresh: tell the user even when the window is in the background.
        ctx.services.tokens.add_notifier(self._notify)
        # IT's alerts (quota, proxy failure, ...) reach the person at the machine too.
        ctx.core.on_alert(self._notify)
        run_async("has-admin", ctx.services.auth.has_admin, self._first_screen)

    def _check_show_request(self, _dt: float) -> None:
        request = self.paths.show_request_file
        if request.exists():
            request.unlink(missing_ok=True)
            log.info("started again: bringing the window forward")
            self.show_window()

    def _notify(self, title: str, message: str) -> None:
        tray = getattr(self, "tray", None)
        run_async("notify", lambda: desktop_notify(title, message, tray=tray))

    # -- autostart ----------------------------------------------------------------------

    def _autostart(self, session: Session | None) -> None:
        """Start the proxy when the app opens (kiosk, ``proxy.autostart``). A config that
        needs a person's own entries waits for the login, and a start that failed before
        the login is tried again after it."""
        ctx = self.ctx
        if ctx is None or not getattr(self, "_autostart_wanted", False):
            return
        supervisor = ctx.supervisor
        if supervisor.state.value in ("running", "degraded", "starting", "restarting"):
            return

        def job() -> str:
            if session is None:
                missing = ctx.services.entries_missing_before_login()
                if missing:
                    return (
                        "The proxy starts after you log in: the config needs your entries "
                        + ", ".join(missing)
                        + "."
                    )
            ctx.core.start_proxy()
            return ""

        def done(waiting: str) -> None:
            if waiting:
                self._dashboard_tell(waiting, "info")
            elif session is not None:
                self._dashboard_tell(f"Proxy started at {supervisor.url}.", "success")

        def failed(exc: BaseException) -> None:
            self._dashboard_tell("The proxy did not start: " + describe_error(exc), "error")

        run_async("autostart", job, done, failed)

    def _dashboard_tell(self, text: str, kind: str) -> None:
        if not self.root.has_screen("main"):
            self._pending_notices.append((text, kind))
            return
        self.root.get_screen("main").ids.pages.get_screen("dashboard").tell(text, kind)

    def _first_screen(self, has_admin: bool) -> None:
        if has_admin:
            self._show_first("login")
            return
        # First run only: the wizard is not built otherwise. Shown on the next frame:
        # building it and drawing it for the first time (each ~150 ms on software
        # OpenGL) would otherwise be one frozen frame.
        assert self.ctx is not None
        from bridge_app.ui.screens.wizard import WizardScreen

        wizard = WizardScreen(name="wizard", ctx=self.ctx, on_finished=self._logged_in)
        self.root.add_widget(wizard)
        Clock.schedule_once(lambda _dt: self._show_first("wizard"), 0)

    def _show_first(self, name: str) -> None:
        self.root.current = name
        # Then, while the person reads and types: the pages, and LiteLLM's import.
        Clock.schedule_once(lambda _dt: self.main_screen(), 0.3)
        ctx = self.ctx
        if ctx is not None:
            Clock.schedule_once(lambda _dt: ctx.supervisor.warm_up(), 1.0)

    def main_screen(self) -> MainScreen:
        """The screen of a logged-in person, built on first use."""
        manager = self.root
        if not manager.has_screen("main"):
            assert self.ctx is not None
            from bridge_app.ui.screens.main import MainScreen

            quit_kiosk = self.ask_to_quit if self.kiosk else None
            manager.add_widget(
                MainScreen(
                    name="main",
                    ctx=self.ctx,
                    on_logout=self.logout,
                    on_quit=quit_kiosk,
                    on_built=self._end_gc_pause,
                )
            )
            for text, kind in self._pending_notices:
                self._dashboard_tell(text, kind)
            self._pending_notices.clear()
        screen: MainScreen = manager.get_screen("main")
        return screen

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
        main = self.main_screen()
        main.session_changed()
        self.root.current = "main"
        self._autostart(session)
        # Where the policy decides whether the app opens at login, each login applies it
        # (an entry removed by hand comes back): on a kiosk the next boot opens the kiosk.
        core = self.ctx.core
        run_async("start-at-login", lambda: core.start_at_login(session))

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
            if not self.root.has_screen("lock"):
                assert self.ctx is not None
                from bridge_app.ui.screens.lock import LockScreen

                lock = LockScreen(name="lock", ctx=self.ctx, on_unlocked=self._unlocked)
                self.root.add_widget(lock)
            self.root.get_screen("lock").prepare(session)
            self.root.current = "lock"

    def on_stop(self) -> None:
        # Kivy can dispatch on_stop twice (SIGTERM while the window is also asked to
        # close): the second time the store is already closed.
        if self._stopped:
            return
        self._stopped = True
        closing()
        self._end_gc_pause()
        tray = getattr(self, "tray", None)
        if tray is not None:
            tray.stop()
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


def _load_kv_once(name: str) -> None:
    """Builder keeps rules for the life of the process: a second window in the same
    process (tests, a restart of the app object) must not apply each rule twice."""
    path = str(kv_file(name))
    if path not in Builder.files:
        Builder.load_file(path)
