from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivymd.uix.button import MDButton, MDButtonText
from kivymd.uix.screen import MDScreen

from bridge_app.services import AccountLockedError, Session
from bridge_app.ui import strings as S
from bridge_app.ui._async import describe_error, run_async
from bridge_app.ui._context import UiContext


class LoginScreen(MDScreen):
    """Username + password; a must-change-password account gets the change form first."""

    error = StringProperty("")
    busy = BooleanProperty(False)
    changing = BooleanProperty(False)  # the change-password form is shown
    locked_seconds = NumericProperty(0)

    def __init__(
        self,
        *,
        ctx: UiContext,
        on_login: Callable[[Session], None],
        on_quit: Callable[[], None] | None = None,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.ctx = ctx
        self._on_login = on_login
        if on_quit is not None:  # kiosk: quitting (admin password) from the login screen
            quit_button = MDButton(MDButtonText(text=S.QUIT_KIOSK), style="text", height=dp(48))
            quit_button.bind(on_release=lambda *_a: on_quit())
            self.ids.actions.add_widget(quit_button, index=len(self.ids.actions.children))
            self.ids["quit_kiosk"] = quit_button
        self._pending: Session | None = None
        self._tick: Any = None

    def on_pre_enter(self, *_args: Any) -> None:
        self.error = ""
        self.changing = False
        self.ids.password.text = ""

    def login(self) -> None:
        if self.busy or self.locked_seconds > 0:
            return
        username, password = self.ids.username.text.strip(), self.ids.password.text
        if not username or not password:
            self.error = "Enter your username and password."
            return
        self.busy = True
        self.error = ""
        run_async("login", lambda: self.ctx.core.login(username, password), self._ok, self._bad)

    def _ok(self, session: Session) -> None:
        self.busy = False
        self.ids.password.text = ""
        if session.must_change_password:
            self._pending = session
            self.changing = True
            self.error = S.MUST_CHANGE
            return
        self._on_login(session)

    def _bad(self, exc: BaseException) -> None:
        self.busy = False
        self.ids.password.text = ""
        self.error = describe_error(exc)
        if isinstance(exc, AccountLockedError):
            self.locked_seconds = int(exc.seconds_left) + 1
            if self._tick is None:
                self._tick = Clock.schedule_interval(self._count_down, 1)

    def _count_down(self, _dt: float) -> None:
        self.locked_seconds = max(0, self.locked_seconds - 1)
        if self.locked_seconds == 0 and self._tick is not None:
            self._tick.cancel()
            self._tick = None
            self.error = ""

    def change_password(self) -> None:
        session = self._pending
        if session is None or self.busy:
            return
        current = self.ids.current.text
        new, again = self.ids.new.text, self.ids.again.text
        if new != again:
            self.error = S.PASSWORDS_DIFFER
            return
        self.busy = True

        def work() -> Session:
            self.ctx.core.change_password(session, current, new)
            session.must_change_password = False
            return session

        run_async("change-password", work, self._changed, self._bad)

    def _changed(self, session: Session) -> None:
        self.busy = False
        self._pending = None
        self.changing = False
        for name in ("current", "new", "again"):
            self.ids[name].text = ""
        self._on_login(session)
