from __future__ import annotations

import threading
from typing import Any

from kivy.clock import mainthread
from kivy.properties import BooleanProperty, StringProperty
from kivy.utils import escape_markup
from kivymd.uix.list import MDListItem, MDListItemHeadlineText, MDListItemSupportingText
from kivymd.uix.screen import MDScreen

from bridge_app.runtime import AppPaths
from bridge_app.services import DoctorReport, run_doctor

_STATUS_WORD = {"ok": "OK", "warn": "Warning", "fail": "Problem"}


class DiagnosticsScreen(MDScreen):
    """What `litellm-bridge doctor` says, on screen; the checks run off the UI thread."""

    summary = StringProperty("Checking the installation…")
    busy = BooleanProperty(False)

    def __init__(self, *, paths: AppPaths, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._paths = paths

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.summary = "Checking the installation…"
        threading.Thread(target=self._work, name="doctor", daemon=True).start()

    def _work(self) -> None:
        try:
            report = run_doctor(self._paths)
        except Exception as exc:  # shown, never raised into the Kivy loop
            self._show_error(f"The check itself failed: {exc.__class__.__name__}")
            return
        self._show(report)

    @mainthread
    def _show_error(self, message: str) -> None:
        self.busy = False
        self.summary = message

    @mainthread
    def _show(self, report: DoctorReport) -> None:
        self.busy = False
        problems = [c for c in report.checks if c.status == "fail"]
        self.summary = (
            f"LiteLLM Bridge {report.version}: no problems found"
            if not problems
            else f"LiteLLM Bridge {report.version}: {len(problems)} problem(s) found"
        )
        box = self.ids.checks
        box.clear_widgets()
        for label, path in report.paths.items():
            box.add_widget(_item(label.capitalize(), path))
        for check in report.checks:
            text = check.detail + (f"\n{check.hint}" if check.hint else "")
            box.add_widget(_item(f"{_STATUS_WORD[check.status]} · {check.name}", text))


def _item(headline: str, supporting: str) -> MDListItem:
    return MDListItem(
        MDListItemHeadlineText(text=escape_markup(headline)),
        MDListItemSupportingText(text=escape_markup(supporting)),
    )
