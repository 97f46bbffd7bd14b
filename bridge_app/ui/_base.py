"""What every screen shares: the context, async work with a busy flag, messages, dialogs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

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
from kivymd.uix.snackbar import MDSnackbar, MDSnackbarText
from kivymd.uix.textfield import MDTextField, MDTextFieldHintText
from kivymd.uix.widget import MDWidget

from bridge_app.services import Services
from bridge_app.ui import strings as S
from bridge_app.ui._async import describe_error, run_async
from bridge_app.ui._context import UiContext

T = TypeVar("T")
log = logging.getLogger(__name__)


def snackbar(text: str) -> None:
    try:
        MDSnackbar(
            MDSnackbarText(text=text),
            y=dp(24),
            pos_hint={"center_x": 0.5},
            size_hint_x=0.9,
            duration=4,
        ).open()
    except Exception:  # a message must never take the window down (FBO limits on some GLs)
        log.warning("could not show a message: %s", text, exc_info=True)


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
    """A dialog with fields; ``on_ok(dialog)`` decides whether to dismiss it."""
    content = MDBoxLayout(orientation="vertical", spacing=dp(8), adaptive_height=True)
    for widget in fields:
        content.add_widget(widget)
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
    dialog.open()
    return dialog


def confirm(title: str, text: str, on_yes: Callable[[], None], *, yes: str = S.OK) -> MDDialog:
    def ok(dialog: MDDialog) -> None:
        dialog.dismiss()
        on_yes()

    return form_dialog(title, [], ok, ok_text=yes, supporting=text)


class BridgeScreen(MDScreen):
    """A screen with the services; ``busy`` shows a progress indicator in its KV."""

    busy = BooleanProperty(False)
    error = StringProperty("")
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
                snackbar(message.splitlines()[0])

        run_async(name, job, ok, bad)
