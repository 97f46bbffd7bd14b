from __future__ import annotations

import logging
import os
from pathlib import Path

from bridge_app.runtime import AppPaths, InstanceLock, Redactor, resource_path
from bridge_app.ui._gl import prepare_gl_backend

log = logging.getLogger(__name__)


def _prepare_kivy(paths: AppPaths) -> None:
    # Kivy writes its own config and logs under ~/.kivy unless told otherwise; keep them
    # with the rest of the app's state, and keep its console chatter out of the terminal.
    kivy_home = paths.cache_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    prepare_gl_backend()  # Windows: ANGLE when desktop OpenGL is older than 2.0


def run(*, paths: AppPaths, redactor: Redactor, kiosk: bool = False) -> None:
    paths.ensure()
    lock = InstanceLock(paths.lock_file)
    lock.acquire()
    from bridge_app.services import switch_pending_update, update_pending

    if update_pending(paths):
        # Before the window and the database open: the installed update's health check
        # runs that version's own serve on this data folder (see `serve`).
        lock.release()
        log.warning("checking the installed update before switching to it")
        log.warning("update: %s", switch_pending_update(paths))
        lock.acquire()
    try:
        _prepare_kivy(paths)
        from bridge_app.ui._main import BridgeApp

        BridgeApp(paths=paths, redactor=redactor, kiosk=kiosk).run()
    finally:
        lock.release()


def kv_file(name: str) -> Path:
    return resource_path("kv", f"{name}.kv")
