from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivymd.uix.button import MDButton, MDButtonIcon, MDButtonText
from kivymd.uix.screen import MDScreen

from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen, set_fallback
from bridge_app.ui._context import UiContext
from bridge_app.ui.screens.audit import AuditScreen
from bridge_app.ui.screens.config import ConfigScreen
from bridge_app.ui.screens.dashboard import DashboardScreen
from bridge_app.ui.screens.diagnostics import DiagnosticsScreen
from bridge_app.ui.screens.environment import EnvironmentScreen
from bridge_app.ui.screens.logs import LogsScreen
from bridge_app.ui.screens.policy import PolicyScreen
from bridge_app.ui.screens.remote import RemoteScreen
from bridge_app.ui.screens.settings import SettingsScreen
from bridge_app.ui.screens.tokens import TokensScreen
from bridge_app.ui.screens.tools import ToolsScreen
from bridge_app.ui.screens.updates import UpdatesScreen
from bridge_app.ui.screens.usage import UsageScreen
from bridge_app.ui.screens.users import UsersScreen

_SLOW_FRAME_S = 0.05
_MAX_LATE_FRAMES = 5  # slow frames in a row a page waits for at most
_SCREENS: dict[str, type[BridgeScreen]] = {
    "dashboard": DashboardScreen,
    "config": ConfigScreen,
    "environment": EnvironmentScreen,
    "tokens": TokensScreen,
    "tools": ToolsScreen,
    "remote": RemoteScreen,
    "logs": LogsScreen,
    "usage": UsageScreen,
    "policy": PolicyScreen,
    "users": UsersScreen,
    "audit": AuditScreen,
    "settings": SettingsScreen,
    "updates": UpdatesScreen,  # opened from Diagnostics (the rail holds what fits 800 px)
}


class MainScreen(MDScreen):
    """Navigation (a labelled rail on wide windows, icons only when narrow) and the
    screens of a logged-in person."""

    compact = BooleanProperty(False)
    #: Two columns of icons when one column would not fit the height (800x480 panels):
    #: every destination stays on screen, none behind a scroll.
    nav_cols = NumericProperty(1)
    who = StringProperty("")
    #: The status line above the pages shows the outcome of the page on show.
    notice = StringProperty("")
    notice_kind = StringProperty("info")

    def __init__(
        self,
        *,
        ctx: UiContext,
        on_logout: Callable[[], None],
        on_quit: Callable[[], None] | None = None,
        on_built: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self._on_built = on_built  # once, when the last page has been built
        self._on_logout = on_logout
        self._on_quit = on_quit  # kiosk: a touch screen has no Esc key and no title bar
        self._buttons: dict[str, MDButton] = {}
        # The dashboard now, every other page one per frame (or when first asked for):
        # built at once they froze the login screen for a second or more.
        self._unbuilt = [*_SCREENS, "diagnostics"]
        self._late_frames = 0
        self.page("dashboard")
        self._building = Clock.schedule_interval(self._build_one, 0)
        set_fallback(self.tell)
        Window.bind(size=self._resize)
        self._resize(Window, Window.size)

    def page(self, name: str) -> MDScreen:
        """The page called ``name``, built now if it has not been yet."""
        pages = self.ids.pages
        if name in self._unbuilt:
            self._unbuilt.remove(name)
            ctx = self.ctx
            if name == "diagnostics":
                page: MDScreen = DiagnosticsScreen(
                    name=name,
                    paths=ctx.paths,
                    ctx=ctx,
                    open_updates=lambda: self.show("updates"),
                )
            else:
                page = _SCREENS[name](name=name, ctx=ctx)
            if isinstance(page, BridgeScreen):
                page.bind(notice=self._page_notice, notice_kind=self._page_notice)
            pages.add_widget(page)
            if not self._unbuilt and self._on_built is not None:
                self._on_built()
        screen: MDScreen = pages.get_screen(name)
        return screen

    def _build_one(self, dt: float) -> bool:
        # Not right after a slow frame (the first draw of a screen, a busy thread): a page
        # built then would add its 20-150 ms to a frame that is already late. On a machine
        # where every frame is slow, after a few such frames anyway.
        late = dt >= _SLOW_FRAME_S and self._late_frames < _MAX_LATE_FRAMES
        self._late_frames = self._late_frames + 1 if late else 0
        if self._unbuilt and not late:
            self.page(self._unbuilt[0])
        return bool(self._unbuilt)  # False ends the schedule

    def _resize(self, _window: Any, size: tuple[int, int]) -> None:
        self.compact = size[0] < dp(1000)
        rows = len(self._buttons) or len(S.NAV_ITEMS)
        needed = rows * dp(52) + dp(48 + 16) + (0 if self.compact else dp(32))
        self.nav_cols = 2 if self.compact and needed > size[1] else 1
        for name, btn in self._buttons.items():
            self._dress(btn, name)

    def current_page(self) -> BridgeScreen | None:
        page = self.ids.pages.current_screen
        return page if isinstance(page, BridgeScreen) else None

    def _page_notice(self, page: BridgeScreen, *_args: Any) -> None:
        if page is self.current_page():
            self.notice_kind, self.notice = page.notice_kind, page.notice

    def tell(self, text: str, kind: str = "info") -> None:
        """An outcome that belongs to no page in particular (shown on the current one)."""
        page = self.current_page()
        if page is not None:
            page.tell(text, kind)
        else:
            self.notice_kind, self.notice = kind, text

    def dismiss_notice(self) -> None:
        page = self.current_page()
        if page is not None:
            page.clear_notice()
        self.notice = ""

    def session_changed(self) -> None:
        session = self.ctx.session
        self.who = f"{session.display_name or session.username} ({session.role})" if session else ""
        nav = self.ids.nav
        nav.clear_widgets()
        self._buttons.clear()
        for name, icon, label, admin in S.NAV_ITEMS:
            if admin and not (session and session.is_admin):
                continue  # not shown; show() refuses it as well
            btn = MDButton(
                MDButtonIcon(icon=icon), MDButtonText(text=label), style="text", height=dp(48)
            )
            btn.bind(on_release=lambda _b, n=name: self.show(n))
            self._buttons[name] = btn
            self._dress(btn, name)
            nav.add_widget(btn)
        if self._on_quit is not None:
            on_quit = self._on_quit
            btn = MDButton(
                MDButtonIcon(icon="power"),
                MDButtonText(text=S.QUIT_KIOSK),
                style="text",
                height=dp(48),
            )
            btn.bind(on_release=lambda _b: on_quit())
            self._buttons["quit"] = btn
            self._dress(btn, "quit")
            nav.add_widget(btn)
        self._resize(Window, Window.size)
        if session is not None and session.must_change_password:
            return
        self.show("dashboard")

    def _dress(self, btn: MDButton, name: str) -> None:
        text = next(c for c in btn.children if isinstance(c, MDButtonText))
        text.opacity = 0 if self.compact else 1
        labels = {n: lbl for n, _i, lbl, _a in S.NAV_ITEMS} | {"quit": S.QUIT_KIOSK}
        text.text = "" if self.compact else labels[name]
        btn.style = "tonal" if self.ids.pages.current == name else "text"

    def show(self, name: str) -> bool:
        """Go to a screen; a screen the session may not use is refused here too."""
        pages = self.ids.pages
        screen = self.page(name)
        if isinstance(screen, BridgeScreen) and not screen.allowed():
            self.tell(S.ADMIN_ONLY, "error")
            return False
        pages.current = name
        page = self.current_page()
        self.notice_kind = page.notice_kind if page else "info"
        self.notice = page.notice if page else ""
        for key, btn in self._buttons.items():
            btn.style = "tonal" if key == name else "text"
        return True

    def lock_now(self) -> None:
        if self.ctx.session is not None:
            self.ctx.session.lock()

    def logout(self) -> None:
        self._on_logout()
