"""One real BridgeApp per test module (Kivy runs one App per process), driven in embedded
mode: the tests dispatch real widget events and pump the Kivy clock themselves."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge_app.runtime import AppPaths, Redactor
from tests.integration._oidc import OidcProvider, oidc_provider

pytestmark = pytest.mark.gui


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Driver:
    """Pumps the real Kivy event loop until something a user would see has happened."""

    def __init__(self, app: Any, artifacts: Path) -> None:
        self.app = app
        self.artifacts = artifacts

    def pump(self, frames: int = 3) -> None:
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    def wait(self, condition: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
        from kivy.base import EventLoop

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            EventLoop.idle()
            result = condition()
            if result:
                return result
            time.sleep(0.01)
        self.shot(f"timeout-{what or 'condition'}")
        raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")

    def idle(self) -> None:
        """Until no background operation of the UI is running."""
        from bridge_app.ui._async import busy_count

        self.wait(lambda: busy_count() == 0, what="background work")
        self.pump(5)

    def log_in(self, username: str, password: str) -> None:
        """Through the login screen, as a person types and taps."""
        self.wait(lambda: self.app.root.current == "login", what="the login screen")
        login = self.app.root.get_screen("login")
        login.ids.username.text, login.ids.password.text = username, password
        self.press(login.ids.submit)
        self.wait(lambda: self.app.root.current == "main", what="the main screen")

    def press(self, widget: Any) -> None:
        assert not widget.disabled, f"{widget} is disabled"
        widget.dispatch("on_release")
        self.pump(2)

    def shot(self, name: str) -> Path:
        self.pump(4)
        path = self.artifacts / f"{name}.png"
        self.app.root.export_to_png(str(path))
        return path

    def window_shot(self, name: str) -> Path:
        """The whole window, dialogs included (they live outside the root widget)."""
        from kivy.core.window import Window

        self.pump(6)
        return Path(Window.screenshot(name=str(self.artifacts / f"{name}.png")))

    def window_pixels(self, name: str) -> Callable[[float, float], tuple[float, ...]]:
        """A ``window_shot``, read as a person sees it: the colour (r, g, b, a; 0-1) at a
        point in Kivy's window coordinates (origin bottom left)."""
        from kivy.core.image import Image as CoreImage
        from kivy.core.window import Window

        image = CoreImage(str(self.window_shot(name)), keep_data=True)
        height = Window.height

        def pixel(x: float, y: float) -> tuple[float, ...]:
            return tuple(image.read_pixel(int(x), int(height - 1 - y)))  # rows run top-down

        return pixel

    def at_size(self, size: tuple[int, int]) -> None:
        from kivy.core.window import Window

        Window.size = size
        self.pump(20)

    @property
    def main(self) -> Any:
        return self.app.main_screen()

    def page(self, name: str) -> Any:
        return self.main.page(name)


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    """A real OpenID Connect provider for the browser sign-in screens."""
    with oidc_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def gui_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppPaths]:
    home = tmp_path_factory.mktemp("gui") / "bridge-home"
    old = os.environ.get("BRIDGE_HOME")
    os.environ["BRIDGE_HOME"] = str(home)
    paths = AppPaths.from_environment()
    paths.ensure()
    # The real proxy listens on a free loopback port of this test run.
    from bridge_app.services import build_services

    services = build_services(paths)
    services.settings.set("proxy.port", free_port())
    services.close()
    yield paths
    if old is None:
        os.environ.pop("BRIDGE_HOME", None)
    else:
        os.environ["BRIDGE_HOME"] = old


@pytest.fixture(scope="module")
def gui(gui_home: AppPaths) -> Iterator[Driver]:
    # Windows and macOS always have a display (CI runs in the runner's desktop session).
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        message = "needs a display: run under xvfb-run (scripts/test.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must never report GUI tests as passed by skipping
        pytest.skip(message)
    from bridge_app.ui._app import _prepare_kivy

    _prepare_kivy(gui_home)
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.base import runTouchApp, stopTouchApp

    from bridge_app.ui._main import BridgeApp

    artifacts = Path(
        os.environ.get("BRIDGE_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
    )
    artifacts.mkdir(parents=True, exist_ok=True)
    app = BridgeApp(paths=gui_home, redactor=Redactor(), kiosk=False)
    app._run_prepare()
    runTouchApp(embedded=True)
    driver = Driver(app, artifacts)
    try:
        yield driver
    finally:
        app.stop()
        stopTouchApp()
