from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bridge_app.runtime import (
    AppPaths,
    InstanceLock,
    InstanceLockedError,
    Redactor,
    collector_paused,
    resource_path,
)
from bridge_app.ui._gl import prepare_antialiasing, prepare_gl_backend

log = logging.getLogger(__name__)

#: Kivy's own default window (800x600) does not fit a 800x480 kiosk panel.
DEFAULT_SIZE = (1100, 720)


def screen_size() -> tuple[int, int] | None:
    """The size of the screen the window opens on, asked before Kivy creates its window
    (Kivy has no API for it and its default window can be larger than a small panel)."""
    try:
        if sys.platform == "win32":
            user32 = ctypes.windll.user32  # type: ignore[attr-defined,unused-ignore]
            return int(user32.GetSystemMetrics(0)), int(user32.GetSystemMetrics(1))
        display_name = os.environ.get("DISPLAY")
        name = ctypes.util.find_library("X11")
        if not display_name or not name:
            return None
        x11 = ctypes.CDLL(name)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XDefaultScreen.argtypes = [ctypes.c_void_p]
        x11.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(display_name.encode())
        if not display:
            return None
        try:
            screen = x11.XDefaultScreen(display)
            return int(x11.XDisplayWidth(display, screen)), int(x11.XDisplayHeight(display, screen))
        finally:
            x11.XCloseDisplay(display)
    except Exception:  # no X11 library, Wayland only...: Kivy's defaults then
        log.debug("could not read the screen size", exc_info=True)
        return None


def window_geometry(screen: tuple[int, int] | None, *, kiosk: bool) -> dict[str, str]:
    """Kivy ``graphics`` settings for the first window: a kiosk covers the whole screen from
    (0, 0) as a borderless window (SDL's full screen mode leaves a band and shifts taps
    when no window manager runs); a plain window never opens larger than the screen."""
    if screen is None:
        return {"width": str(DEFAULT_SIZE[0]), "height": str(DEFAULT_SIZE[1])}
    width, height = screen
    if kiosk:
        return {
            "width": str(width),
            "height": str(height),
            "borderless": "1",
            "position": "custom",
            "left": "0",
            "top": "0",
        }
    if width <= DEFAULT_SIZE[0] or height <= DEFAULT_SIZE[1]:
        # A small screen: fill it rather than hang off its edge.
        return {
            "width": str(min(width, DEFAULT_SIZE[0])),
            "height": str(min(height, DEFAULT_SIZE[1])),
            "position": "custom",
            "left": "0",
            "top": "0",
        }
    return {"width": str(DEFAULT_SIZE[0]), "height": str(DEFAULT_SIZE[1])}


#: How the taskbar knows the app: the X11 window class (matches a .desktop file's
#: StartupWMClass) and, on Windows, the explicit AppUserModelID. Without them the taskbar
#: groups the window under the interpreter ("python3.11", "python.exe").
WINDOW_CLASS = "LiteLLM Bridge"
APP_USER_MODEL_ID = "LiteLLMBridge.LiteLLMBridge"


def name_the_app_for_the_taskbar() -> None:
    os.environ.setdefault("SDL_VIDEO_X11_WMCLASS", WINDOW_CLASS)
    if sys.platform == "win32":
        shell32 = ctypes.windll.shell32  # type: ignore[attr-defined,unused-ignore]
        result = shell32.SetCurrentProcessExplicitAppUserModelID(APP_USER_MODEL_ID)
        if result != 0:
            log.info("the AppUserModelID was not set (HRESULT %#x)", result & 0xFFFFFFFF)


def _prepare_kivy(paths: AppPaths, *, kiosk: bool = False) -> None:
    # Kivy writes its own config and logs under ~/.kivy unless told otherwise; keep them
    # with the rest of the app's state, and keep its console chatter out of the terminal.
    kivy_home = paths.cache_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    name_the_app_for_the_taskbar()
    prepare_gl_backend()  # Windows: ANGLE when desktop OpenGL is older than 2.0
    prepare_antialiasing(paths.cache_dir)  # no MSAA on a software renderer
    # KCFG_<SECTION>_<KEY> overrides Kivy's config before its window exists.
    for key, value in window_geometry(screen_size(), kiosk=kiosk).items():
        os.environ[f"KCFG_GRAPHICS_{key.upper()}"] = value


def stop_on_sigterm(app: Any) -> None:
    """SIGTERM (systemd, a session ending, ``kill``) stops the window and the proxy the
    same way as Quit, on the Kivy thread."""

    def handler(_signum: int, _frame: Any) -> None:
        from kivy.clock import Clock

        log.info("SIGTERM: stopping")
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    signal.signal(signal.SIGTERM, handler)


SHOW_WAIT_S = 5.0


def bring_running_window_forward(paths: AppPaths) -> bool:
    """Ask the window that holds the data folder to come forward (it polls for the
    request file); True when it did within a few seconds. False: what holds the folder is
    not a window (a `serve`), or it did not answer."""
    request = paths.show_request_file
    try:
        request.write_text(str(os.getpid()), encoding="ascii")
    except OSError:
        return False
    deadline = time.monotonic() + SHOW_WAIT_S
    while time.monotonic() < deadline:
        if not request.exists():
            return True
        time.sleep(0.1)
    request.unlink(missing_ok=True)
    return False


def tell_without_console(title: str, message: str) -> None:
    """The windowed Windows program has no console for the error: a message box says it."""
    if sys.platform == "win32" and not _has_console():
        mb_iconinformation = 0x40
        ctypes.windll.user32.MessageBoxW(  # type: ignore[attr-defined,unused-ignore]
            None, message, title, mb_iconinformation
        )


def _has_console() -> bool:
    if sys.platform != "win32":
        return True
    return bool(ctypes.windll.kernel32.GetConsoleWindow())  # type: ignore[attr-defined,unused-ignore]


def run(*, paths: AppPaths, redactor: Redactor, kiosk: bool = False) -> None:
    paths.ensure()
    lock = InstanceLock(paths.lock_file)
    try:
        lock.acquire()
    except InstanceLockedError as exc:
        # Started again (a second click on the shortcut): the running window comes
        # forward instead; if a `serve` holds the folder, say so where it can be read.
        if bring_running_window_forward(paths):
            log.info("the window was already open: brought it forward")
            return
        tell_without_console("LiteLLM Bridge", f"{exc.message}\n\n{exc.hint or ''}".strip())
        raise
    from bridge_app.services import finish_pending_rollback, switch_pending_update, update_pending

    restored = finish_pending_rollback(paths, lock_held=True)  # before the store opens
    if restored:
        log.warning("update: %s", restored)
    if update_pending(paths):
        # Before the window and the database open: the installed update's health check
        # runs that version's own serve on this data folder (see `serve`).
        lock.release()
        log.warning("checking the installed update before switching to it")
        log.warning("update: %s", switch_pending_update(paths))
        lock.acquire()
    try:
        _prepare_kivy(paths, kiosk=kiosk)
        with collector_paused():  # Kivy, KivyMD: start-up objects (runtime/_gc.py)
            from bridge_app.ui._main import BridgeApp

        app = BridgeApp(paths=paths, redactor=redactor, kiosk=kiosk)
        stop_on_sigterm(app)
        app.run()
        # The window closed its database (on_stop): a rollback by hand made in it can now
        # bring back the database the previous version reads.
        restored = finish_pending_rollback(paths, lock_held=True)
        if restored:
            log.warning("update: %s", restored)
    finally:
        lock.release()


def kv_file(name: str) -> Path:
    return resource_path("kv", f"{name}.kv")
