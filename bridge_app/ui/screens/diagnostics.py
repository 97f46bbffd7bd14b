from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.clock import mainthread
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivymd.uix.screen import MDScreen

from bridge_app.runtime import AppPaths
from bridge_app.services import DoctorReport, run_doctor
from bridge_app.ui import strings as S
from bridge_app.ui._async import describe_error, on_ui, run_async

if TYPE_CHECKING:
    from bridge_app.ui._context import UiContext

_STATUS_WORD = {"ok": "OK", "warn": "Warning", "fail": "Problem"}


def _row(check: Any) -> dict[str, object]:
    return {
        "headline": f"{_STATUS_WORD[check.status]} · {check.name}",
        "supporting": check.detail + (f"\n{check.hint}" if check.hint else ""),
        "error": check.status == "fail",
    }


def default_export_path() -> Path:
    """Where the archive goes unless the person types another path: Downloads if there is
    one, else the home folder."""
    home = Path.home()
    folder = home / "Downloads" if (home / "Downloads").is_dir() else home
    return folder / f"litellm-bridge-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip"


class DiagnosticsScreen(MDScreen):
    """What `litellm-bridge doctor` says, on screen (the checks run off the UI thread), and
    the diagnostics export with its progress and outcome shown in the screen itself."""

    summary = StringProperty("Checking the installation…")
    busy = BooleanProperty(False)
    exporting = BooleanProperty(False)
    export_progress = NumericProperty(0.0)  # 0..1
    export_message = StringProperty(
        "Export one archive for the support desk (no passwords, keys or tokens in it)."
    )
    export_failed = BooleanProperty(False)

    def __init__(
        self,
        *,
        paths: AppPaths,
        ctx: UiContext | None = None,
        open_updates: Callable[[], object] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._paths = paths
        self._ctx = ctx
        self._open_updates = open_updates
        self.ids.export_path.text = str(default_export_path())

    def updates(self) -> None:
        """Signed updates: check, download, install, roll back (the Updates screen)."""
        if self._open_updates is not None:
            self._open_updates()

    def export(self) -> None:
        if self.exporting or self._ctx is None:
            return
        text = self.ids.export_path.text.strip()
        path = Path(text).expanduser() if text else default_export_path()
        diagnostics, session = self._ctx.services.diagnostics, self._ctx.session
        self.exporting = True
        self.export_failed = False
        self.export_progress = 0.0
        self.export_message = "Collecting…"

        def progress(what: str, fraction: float) -> None:
            on_ui(self._progress, what, fraction)

        run_async(
            "diagnostics-export",
            lambda: diagnostics.export(session, path, progress),
            lambda result: self._exported(result.describe(), failed=False),
            lambda exc: self._exported(
                "The diagnostics were not exported: " + describe_error(exc), failed=True
            ),
        )

    def _progress(self, what: str, fraction: float) -> None:
        if self.exporting:
            self.export_progress = fraction
            self.export_message = f"Collecting {what}… {fraction * 100:.0f}%"

    def _exported(self, message: str, *, failed: bool) -> None:
        self.exporting = False
        self.export_failed = failed
        self.export_progress = 0.0 if failed else 1.0
        self.export_message = message

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
        rows: list[dict[str, object]] = [
            {"headline": label.capitalize(), "supporting": path}
            for label, path in report.paths.items()
        ]
        # The network panel last, under its own heading (what `doctor network` shows).
        local = [c for c in report.checks if not c.network]
        network = [c for c in report.checks if c.network]
        rows += [_row(check) for check in local]
        if network:
            rows.append({"headline": S.NETWORK_PANEL, "supporting": S.NETWORK_PANEL_DETAIL})
            rows += [_row(check) for check in network]
        self.ids.checks.data = rows
