"""The window's ways out and back: the tray (Start/Stop, Open, Quit), closing the window
(to the tray, or a question on Esc) and the kiosk's admin-password quit. Mixed into
BridgeApp, which provides ``ctx``, ``kiosk``, ``title``, ``stop`` and ``_dashboard_tell``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.core.window import Window

from bridge_app.ui import strings as S
from bridge_app.ui._async import describe_error, run_async
from bridge_app.ui._base import confirm, dialog_error, form_dialog, text_field

if TYPE_CHECKING:
    from bridge_app.ui._context import UiContext


class WindowExits:
    ctx: UiContext | None
    kiosk: bool
    title: str
    tray: Any

    if TYPE_CHECKING:

        def stop(self, *largs: Any) -> None: ...

        def _dashboard_tell(self, text: str, kind: str) -> None: ...

    # -- tray ---------------------------------------------------------------------------

    def _start_tray(self, ctx: UiContext) -> None:
        from bridge_app.ui._tray import Tray

        supervisor = ctx.supervisor

        def on_ui_thread(action: Any) -> Any:
            return lambda: Clock.schedule_once(lambda _dt: action(), 0)

        def toggle() -> None:
            job = ctx.core.stop_proxy if self.tray_running() else ctx.core.start_proxy
            run_async(
                "tray-toggle",
                job,
                None,
                lambda exc: self._dashboard_tell(describe_error(exc), "error"),
            )

        self.tray = Tray(
            title=self.title,
            state=lambda: f"Proxy {supervisor.state.value}",
            running=self.tray_running,
            toggle=on_ui_thread(toggle),
            open_window=on_ui_thread(self.show_window),
            quit_app=on_ui_thread(self.quit),
        )
        if not self.kiosk:
            run_async("tray", self.tray.start)
        supervisor.subscribe(lambda *_a: self.tray.refresh())

    def tray_running(self) -> bool:
        assert self.ctx is not None
        return self.ctx.supervisor.state.value in ("running", "degraded")

    def show_window(self) -> None:
        Window.show()
        Window.restore()  # from minimised
        Window.raise_window()

    # -- closing ----------------------------------------------------------------------

    def _on_request_close(self, *_args: Any, **kwargs: Any) -> bool:
        if self._quitting:
            return False
        if self._asking is not None:
            return True  # the question is on screen already (Esc pressed again)
        if not self.kiosk or self.ctx is None:
            if kwargs.get("source") == "keyboard":
                # Esc is "go back" on touch screens, never "quit": ask.
                self._ask(confirm(S.QUIT_TITLE, S.QUIT_DESKTOP_TEXT, self.quit, yes=S.QUIT))
                return True
            tray = getattr(self, "tray", None)
            if (
                self.ctx is not None
                and tray is not None
                and tray.available
                and self.ctx.services.settings.get("ui.close_to_tray", True)
            ):
                Window.hide()  # the proxy keeps serving; the tray's Open brings it back
                return True
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
                dialog_error(dialog, describe_error(exc))

            def quit_now(_result: None) -> None:
                dialog.dismiss()
                self.quit()

            run_async("quit-check", verify, quit_now, failed)

        self._ask(
            form_dialog(S.QUIT_TITLE, [user, field], check, ok_text=S.QUIT, supporting=S.QUIT_TEXT)
        )
        return True

    _quitting = False
    _asking: Any = None  # the quit question on screen, if any

    def ask_to_quit(self) -> None:
        """The kiosk's Quit button: the same admin-password question as Esc."""
        self._on_request_close(source="button")

    def _ask(self, dialog: Any) -> None:
        self._asking = dialog
        dialog.bind(on_dismiss=lambda *_a: setattr(self, "_asking", None))

    def quit(self) -> None:
        self._quitting = True
        self.stop()
