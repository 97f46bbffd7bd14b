from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.screen import MDScreen

from bridge_app.services import Session
from bridge_app.ui._async import describe_error, run_async
from bridge_app.ui._context import UiContext


class LockScreen(MDScreen):
    """The idle lock: the proxy keeps running; the password opens the session again."""

    who = StringProperty("")
    error = StringProperty("")
    busy = BooleanProperty(False)

    def __init__(self, *, ctx: UiContext, on_unlocked: Callable[[], None], **kw: Any):
        super().__init__(**kw)
        self.ctx = ctx
        self._on_unlocked = on_unlocked
        self._session: Session | None = None

    def prepare(self, session: Session) -> None:
        self._session = session
        self.who = session.display_name or session.username
        self.error = ""
        self.ids.password.text = ""

    def unlock(self) -> None:
        session = self._session
        if session is None or self.busy:
            return
        password = self.ids.password.text
        self.busy = True
        run_async("unlock", lambda: session.unlock(password), self._ok, self._bad)

    def _ok(self, _result: object) -> None:
        self.busy = False
        self.ids.password.text = ""
        self._on_unlocked()

    def _bad(self, exc: BaseException) -> None:
        self.busy = False
        self.ids.password.text = ""
        self.error = describe_error(exc)
