"""The tray icon with a real tray host (Debian's trayer) on the test display: it shows the
proxy's state, starts it, and closing the window keeps the app and its proxy running
unless Settings says otherwise. Without a host there is no icon (the other GUI modules)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from bridge_app.runtime import AppPaths
from tests.gui.conftest import Driver

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(sys.platform == "win32", reason="X11: Xvfb, xdotool and an X tray host"),
]

ADMIN, ADMIN_PW = "erin", "Amber-Lantern-Meadow-64"


@pytest.fixture(scope="module")
def gui_home(gui_home: AppPaths) -> Iterator[AppPaths]:
    trayer = shutil.which("trayer")
    if trayer is None:
        pytest.fail("trayer is missing: scripts/setup.sh installs it")
    host = subprocess.Popen(
        [trayer, "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "64"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    from bridge_app.ui._tray import tray_host_present

    deadline = time.monotonic() + 30
    while not tray_host_present():
        assert time.monotonic() < deadline, "trayer did not take the tray selection"
        time.sleep(0.2)
    from bridge_app.services import build_services

    services = build_services(gui_home)
    services.auth.create_first_admin(ADMIN, ADMIN_PW)
    services.close()
    yield gui_home
    host.terminate()
    host.wait(timeout=10)


def test_the_tray_shows_the_state_and_starts_the_proxy(gui: Driver) -> None:
    gui.log_in(ADMIN, ADMIN_PW)
    tray = gui.app.tray
    gui.wait(lambda: tray.available, what="the tray icon")
    assert tray.menu_texts() == ["Proxy stopped", "Start the proxy", "Open", "Quit"]
    tray.activate("Start the proxy")
    gui.wait(lambda: gui.app.ctx.supervisor.state.value == "running", timeout=180, what="start")
    gui.wait(lambda: "Stop the proxy" in tray.menu_texts(), what="the menu to follow")
    assert tray.menu_texts()[0] == "Proxy running"


def test_closing_the_window_keeps_the_proxy_in_the_tray_unless_settings_say_no(
    gui: Driver,
) -> None:
    from kivy.core.window import Window

    assert Window.dispatch("on_request_close") is True  # hidden, not closed
    gui.pump(10)
    assert gui.app.ctx.supervisor.state.value == "running"
    gui.app.tray.activate("Open")
    gui.pump(10)
    # The person chooses otherwise in Settings: closing the window quits again.
    assert gui.main.show("settings")
    settings = gui.page("settings")
    gui.idle()
    assert settings.ids.close_to_tray.active
    settings.ids.close_to_tray.active = False
    gui.press(settings.ids.save_button)
    gui.idle()
    assert "Settings saved." in gui.main.ids.banner.text
    assert not Window.dispatch("on_request_close")  # nothing keeps the window: it closes


def test_docking_in_the_tray_never_grabs_the_x_server(gui_home: AppPaths) -> None:
    """pystray's X11 backend grabs the server while its thread waits for the GIL, and Kivy's
    UI thread holds the GIL in a GL call waiting for that server: a deadlock that froze
    about one start in six. The icon the app uses docks with no grab at all."""
    import pystray
    from PIL import Image
    from Xlib import X
    from Xlib.display import Display

    from bridge_app.runtime import resource_path
    from bridge_app.ui._tray import _icon_class

    icon = _icon_class(pystray.Icon)(
        "grab-check", Image.open(resource_path("assets", "icon.png")), "grab check"
    )
    grabs: list[str] = []
    real_grab = icon._display.grab_server

    def counting_grab(*args: object, **kwargs: object) -> None:
        grabs.append("grab")
        real_grab(*args, **kwargs)

    icon._display.grab_server = counting_grab
    before = set(threading.enumerate())
    icon.run_detached()  # from this (main, non-daemon) thread, as a plain script would
    try:
        deadline = time.monotonic() + 30
        while icon._systray_manager is None:
            assert time.monotonic() < deadline, "the icon did not dock in trayer"
            time.sleep(0.1)
        display = Display()
        try:
            atom = display.intern_atom(f"_NET_SYSTEM_TRAY_S{display.get_default_screen()}")
            owner = display.get_selection_owner(atom)
            assert owner != X.NONE
            assert icon._systray_manager.id == owner.id  # docked in trayer, the owner
        finally:
            display.close()
        assert grabs == []
    finally:
        icon.stop()
    # Nothing of the icon's is left that would keep the process from exiting.
    deadline = time.monotonic() + 10
    while left := [t for t in set(threading.enumerate()) - before if not t.daemon]:
        assert time.monotonic() < deadline, f"threads that block the exit: {left}"
        time.sleep(0.1)
