"""The KivyMD app. Kivy is imported only below this package, and only when a window opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge_app.runtime import AppPaths, Redactor


def run_app(*, paths: AppPaths, redactor: Redactor, kiosk: bool = False) -> None:
    from bridge_app.ui._app import run

    run(paths=paths, redactor=redactor, kiosk=kiosk)


__all__ = ["run_app"]
