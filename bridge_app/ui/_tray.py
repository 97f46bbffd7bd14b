"""The system tray icon (pystray): the proxy's state, Start/Stop, Open, Quit.

Closing the window only hides it while a tray shows the icon, so that the proxy keeps
serving the tools. Where no tray can show it (no tray host on X11, Wayland without the
protocol, headless test displays) there is no icon and closing the window quits as
before: a hidden window with no way back would be worse than quitting."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from bridge_app.runtime import resource_path

log = logging.getLogger(__name__)

STOP_WAIT_S = 5.0


def tray_host_present() -> bool:
    """Whether something will show a tray icon: always on Windows; on X11 only when a
    tray host owns the freedesktop system-tray selection."""
    if sys.platform == "win32":
        return True
    display_name = os.environ.get("DISPLAY")
    if not display_name:
        return False
    try:
        from Xlib import X
        from Xlib.display import Display

        display = Display(display_name)
        try:
            screen = display.get_default_screen()
            atom = display.intern_atom(f"_NET_SYSTEM_TRAY_S{screen}")
            return bool(display.get_selection_owner(atom) != X.NONE)
        finally:
            display.close()
    except Exception:
        log.debug("no X11 tray host", exc_info=True)
        return False


def _icon_class(base: Any) -> Any:
    """pystray's icon class, made safe beside Kivy on X11.

    pystray's X11 backend grabs the whole X server while its thread waits, in Python, for
    the tray selection's owner. Kivy's UI thread meanwhile holds the GIL inside a GL call
    that waits for the same server (Mesa's XGetGeometry under glClear): the reply cannot
    come while the server is grabbed, and the grab cannot end without the GIL, so the app
    froze for good about one start in six under Xvfb (seen with gdb: the main thread in
    glClear -> XGetGeometry -> xcb_wait_for_reply, the tray thread in sock_recv waiting
    for the GIL). The grab only guards against the owner changing between two requests;
    one request needs no guard, so this class asks without grabbing.

    Two more of that backend's races are closed here: ``run_detached`` started a second
    setup thread that waited forever (a process that started the icon from its main
    thread never exited), and the setup thread could ask for the loop thread before the
    loop had recorded it (the icon then never docked)."""
    if getattr(base, "__module__", "") != "pystray._xorg":
        return base

    class Icon(base):
        def _run_detached(self) -> None:
            threading.Thread(target=self._run, name="tray-x11", daemon=True).start()

        def _run(self) -> None:
            self._thread = threading.current_thread()
            super()._run()

        def _get_systray_manager(self) -> Any:
            from Xlib import X

            owner = self._display.get_selection_owner(self._net_system_tray_sx)
            if owner == X.NONE:
                return None
            return self._display.create_resource_object("window", owner.id)

    return Icon


class Tray:
    """``state()`` gives the text of the first line; the callbacks run on the tray's own
    thread, so they must hand their work to the UI thread themselves."""

    def __init__(
        self,
        *,
        title: str,
        state: Callable[[], str],
        running: Callable[[], bool],
        toggle: Callable[[], None],
        open_window: Callable[[], None],
        quit_app: Callable[[], None],
    ) -> None:
        self._title = title
        self._state = state
        self._running = running
        self._toggle = toggle
        self._open = open_window
        self._quit = quit_app
        self._icon: Any = None

    @property
    def available(self) -> bool:
        return self._icon is not None

    def start(self) -> bool:
        if not tray_host_present():
            log.info("no system tray here: closing the window quits the app")
            return False
        try:
            import pystray
            from PIL import Image

            image = Image.open(resource_path("assets", "icon.png"))
            menu = pystray.Menu(
                pystray.MenuItem(lambda _item: self._state(), None, enabled=False),
                pystray.MenuItem(
                    lambda _item: "Stop the proxy" if self._running() else "Start the proxy",
                    lambda _icon, _item: self._toggle(),
                ),
                pystray.MenuItem("Open", lambda _icon, _item: self._open(), default=True),
                pystray.MenuItem("Quit", lambda _icon, _item: self._quit()),
            )
            icon = _icon_class(pystray.Icon)("litellm-bridge", image, self._title, menu)
            icon.run_detached()
        except Exception:
            log.warning("the system tray icon could not be shown", exc_info=True)
            return False
        self._icon = icon
        return True

    def notify(self, title: str, message: str) -> bool:
        """A notification from the tray icon (Windows: the app's own toast or balloon),
        where the tray's backend can show one."""
        icon = self._icon
        if icon is None or not getattr(icon, "HAS_NOTIFICATION", False):
            return False
        try:
            icon.notify(message, title)
        except Exception:
            log.info("the tray could not show a notification", exc_info=True)
            return False
        return True

    def menu_texts(self) -> list[str]:
        """What the tray menu shows now, top to bottom."""
        if self._icon is None:
            return []
        return [str(item.text) for item in self._icon.menu.items]

    def activate(self, text: str) -> None:
        """Run the menu entry that shows ``text`` (what a click on it does)."""
        item = next(i for i in self._icon.menu.items if str(i.text) == text)
        item(self._icon)

    def refresh(self) -> None:
        """Re-read the menu's texts (after a state change)."""
        if self._icon is not None:
            try:
                self._icon.update_menu()
            except Exception:
                log.debug("tray menu update failed", exc_info=True)

    def stop(self) -> None:
        """Remove the icon. pystray's stop waits, without a limit, for its own thread to
        answer; a quit must never hang on the tray, so the wait is bounded."""
        icon, self._icon = self._icon, None
        if icon is None:
            return

        def stop_icon() -> None:
            try:
                icon.stop()
            except Exception:
                log.debug("tray stop failed", exc_info=True)

        stopper = threading.Thread(target=stop_icon, name="tray-stop", daemon=True)
        stopper.start()
        stopper.join(STOP_WAIT_S)
        if stopper.is_alive():
            log.warning("the tray icon did not go away within %s s; quitting anyway", STOP_WAIT_S)
