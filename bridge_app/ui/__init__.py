"""The KivyMD app. Kivy is imported only below this package, and only when a window opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge_app.runtime import AppPaths, Redactor


def run_app(*, paths: AppPaths, redactor: Redactor, kiosk: bool = False) -> None:
    from bridge_app.ui._app import run

    run(paths=paths, redactor=redactor, kiosk=kiosk)


def load_window_modules() -> None:
    """Import every module the window needs, without opening it (the bundle's self-test:
    Kivy, KivyMD and the screens load, and a window provider is found)."""
    import bridge_app.ui._main  # noqa: F401


__all__ = ["load_window_modules", "run_app"]
