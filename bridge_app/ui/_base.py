"""What every screen shares: the context, async work with a busy flag, outcomes shown in
the screen's status line, dialogs that keep their input and show their own errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.button import MDButton, MDButtonText
from kivymd.uix.dialog import (
    MDDialog,
    MDDialogButtonContainer,
    MDDialogContentContainer,
    MDDialogHeadlineText,
    MDDialogSupportingText,
)
from kivymd.uix.label import MDLabel
from kivymd.uix.screen import MDScreen
from kivymd.uix.selectioncontrol import MDCheckbox
from kivymd.uix.textfield import MDTextField, MDTextFieldHintText
from kivymd.uix.widget import MDWidget

from bridge_app.ui import strings as S
from bridge_app.ui._async import describe_error, run_async
from bridge_app.ui._context import UiContext
from bridge_app.ui.widgets import PlainDialog, describe_test

if TYPE_CHECKING:
    from bridge_app.services import Services

T = TypeVar("T")
log = logging.getLogger(__name__)


#: Where a message goes when the widget meant to show it failed to draw (the app points
#: this at the status line of the screen on show).
_fallback: list[Callable[[str, str], None]] = []


def set_fallback(show: Callable[[str, str], None]) -> None:
    _fallback[:] = [show]


def fallback(text: str, kind: str = "error") -> None:
    """Show ``text`` in the plain status line of the screen on show (and log it)."""
    log.info("message shown in the status line: %s", text)
    for show in _fallback:
        show(text, kind)


def open_dialog(dialog: MDDialog, what: str) -> MDDialog:
    """Open ``dialog``; if it cannot be drawn (FBO failures on some OpenGL drivers) its
    content moves into a ``PlainDialog`` that draws everywhere, and the failure is logged."""
    try:
        dialog.open()
    except Exception:
        log.exception("could not draw the dialog %r: showing it as a plain window", what)
        _undo_open(dialog)
        try:
            PlainDialog(dialog).open()
        except Exception:
            log.exception("could not show the dialog %r at all", what)
            fallback(f"{what}: this window could not be drawn on this graphics driver.")
    return dialog


def _undo_open(dialog: MDDialog) -> None:
    """Whatever a failed ``open`` already put on the window (its scrim, the dialog)."""
    from kivy.core.window import Window

    for widget in (getattr(dialog, "_scrim", None), dialog):
        if widget is not None and widget.parent is Window:
            Window.remove_widget(widget)
    dialog._is_open = False


def dialog_error(dialog: MDDialog, text: str) -> None:
    """Show (or, with "", clear) the error of a dialog inside the dialog itself."""
    label = getattr(dialog, "error_label", None)
    if label is None:
        fallback(text)
        return
    label.text = text


def button(text: str, on_release: Callable[[], Any], *, style: str = "text") -> MDButton:
    btn = MDButton(MDButtonText(text=text), style=style, height=dp(48))
    btn.bind(on_release=lambda *_: on_release())
    return btn


def text_field(hint: str, *, text: str = "", password: bool = False) -> MDTextField:
    field = MDTextField(MDTextFieldHintText(text=hint), text=text, password=password)
    field.size_hint_y = None
    field.height = dp(56)
    return field


def check_row(label: str) -> tuple[MDBoxLayout, MDCheckbox]:
    """A 48 dp checkbox with its label beside it (the label is part of the touch row)."""
    box = MDCheckbox(size_hint=(None, None), size=(dp(48), dp(48)))
    row = MDBoxLayout(box, size_hint_y=None, height=dp(48), spacing=dp(8))
    text = MDLabel(text=label, valign="center")
    text.bind(size=lambda widget, size: setattr(widget, "text_size", size))
    row.add_widget(text)
    return row, box


def form_dialog(
    title: str,
    fields: list[MDTextField | MDWidget | Any],
    on_ok: Callable[[MDDialog], None],
    *,
    ok_text: str = S.OK,
    supporting: str = "",
) -> MDDialog:
    """A dialog with fields; ``on_ok(dialog)`` decides whether to dismiss it. Its
    ``error_label`` (see ``dialog_error``) shows a refusal under the fields, which keep
    what was typed."""
    content = MDBoxLayout(orientation="vertical", spacing=dp(8), adaptive_height=True)
    for widget in fields:
        content.add_widget(widget)
    error_label = wrapped_label("", error=True)
    content.add_widget(error_label)
    parts: list[Any] = [MDDialogHeadlineText(text=title)]
    if supporting:
        parts.append(MDDialogSupportingText(text=supporting))
    parts.append(MDDialogContentContainer(content))
    dialog: MDDialog
    buttons = MDDialogButtonContainer(
        MDWidget(),
        button(S.CANCEL, lambda: dialog.dismiss()),
        button(ok_text, lambda: on_ok(dialog), style="filled"),
        spacing=dp(8),
    )
    parts.append(buttons)
    dialog = MDDialog(*parts)
    dialog.error_label = error_label
    return open_dialog(dialog, title)


def wrapped_label(text: str, *, error: bool = False, mono: bool = False) -> MDLabel:
    """A label that wraps to its width and grows with its text (never cut)."""
    label = MDLabel(text=text, size_hint_y=None)
    if error:
        label.theme_text_color = "Custom"
        label.text_color = label.theme_cls.errorColor
    if mono:
        label.font_name = "RobotoMono-Regular"
        label.font_size = dp(13)

    def fit(widget: MDLabel, *_args: Any) -> None:
        widget.text_size = (widget.width, None)
        widget.height = widget.texture_size[1] if widget.text else 0

    label.bind(width=fit, text=fit, texture_size=fit)
    return label


def confirm(title: str, text: str, on_yes: Callable[[], None], *, yes: str = S.OK) -> MDDialog:
    def ok(dialog: MDDialog) -> None:
        dialog.dismiss()
        on_yes()

    return form_dialog(title, [], ok, ok_text=yes, supporting=text)


class BridgeScreen(MDScreen):
    """A screen with the services; ``busy`` shows a progress indicator in its KV."""

    busy = BooleanProperty(False)
    error = StringProperty("")
    #: The outcome shown in the status line (until dismissed or superseded) and its kind:
    #: "error", "success" or "info".
    notice = StringProperty("")
    notice_kind = StringProperty("info")
    admin_only = False

    def __init__(self, *, ctx: UiContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx

    @property
    def services(self) -> Services:
        return self.ctx.services

    def allowed(self) -> bool:
        session = self.ctx.session
        return session is not None and (session.is_admin or not self.admin_only)

    def on_pre_enter(self, *args: Any) -> None:
        if self.allowed():
            self.refresh()

    def refresh(self) -> None:
        """Reload what the screen shows (subclasses)."""

    def tell(self, text: str, kind: str = "success") -> None:
        """Show an outcome in the screen's status line; it replaces the previous one."""
        self.notice_kind = kind
        self.notice = ""  # the same message again is still news: re-announce it
        self.notice = text

    def clear_notice(self) -> None:
        self.notice = ""

    def submit(
        self,
        dialog: MDDialog,
        name: str,
        job: Callable[[], T],
        done: Callable[[T], None] | None = None,
    ) -> None:
        """Run a dialog's action: on success close it and call ``done``; on refusal keep
        it open with what was typed and the reason inside it."""
        dialog_error(dialog, "")

        def ok(result: T) -> None:
            dialog.dismiss()
            if done is not None:
                done(result)

        self.work(name, job, ok, failed=lambda message: dialog_error(dialog, message))

    def work(
        self,
        name: str,
        job: Callable[[], T],
        done: Callable[[T], None] | None = None,
        *,
        failed: Callable[[str], None] | None = None,
    ) -> None:
        """Run ``job`` off the UI thread with ``busy`` set; errors go to ``error`` (or
        ``failed``), never into the Kivy loop."""
        self.busy = True
        self.error = ""

        def ok(result: T) -> None:
            self.busy = False
            if done is not None:
                done(result)

        def bad(exc: BaseException) -> None:
            self.busy = False
            message = describe_error(exc)
            if failed is not None:
                failed(message)
            else:
                self.error = message
                self.tell(message, "error")

        run_async(name, job, ok, bad)


class IamScreen(BridgeScreen):
    """A screen with the IAM settings form: a test login shows its outcome in
    ``iam_result`` (``iam_failed`` when refused)."""

    iam_result = StringProperty("")
    iam_failed = BooleanProperty(False)

    def run_iam_test(self, settings: Callable[[], Any], employee: str, password: str) -> None:
        """One login with the settings as typed: the IAM's answer (tokens masked), nothing
        stored."""
        session = self.ctx.require_session()

        def job() -> tuple[Any, Any]:
            typed = settings()
            return typed, self.ctx.core.test_iam(session, typed, employee, password)

        def done(result: tuple[Any, Any]) -> None:
            self.iam_failed = False
            self.iam_result = describe_test(*result)

        self.iam_result = ""
        self.work("iam-test", job, done, failed=self.iam_refused)

    def iam_refused(self, message: str) -> None:
        self.iam_failed = True
        self.iam_result = message
