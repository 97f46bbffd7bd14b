"""An 800x480 panel, with and without a window manager (Debian's matchbox): the window
covers the screen from (0, 0) (kiosk) or fits on it (plain), a real tap at the place a
control is drawn activates it, and SIGTERM stops the window and its proxy."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gui.conftest import free_port

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(sys.platform == "win32", reason="X11: Xvfb, xdotool and an X tray host"),
]

ROOT = Path(__file__).parents[2]
SCREEN = (800, 480)
ARTIFACTS = Path(os.environ.get("BRIDGE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
ADMIN_PW = "Granite-Willow-Ferry-29"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: scripts/setup.sh installs it")
    return path


class Display:
    def __init__(
        self, number: str, processes: list[subprocess.Popen[bytes]], label: str = ""
    ) -> None:
        self.name = f":{number}"
        self.processes = processes
        self.label = label  # "no-wm" or "matchbox"

    def env(self, home: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DISPLAY=self.name,
            BRIDGE_HOME=str(home),
            PYTHONPATH=str(ROOT),
            KIVY_NO_ARGS="1",
            LITELLM_LOCAL_MODEL_COST_MAP="True",
        )
        env.pop("KIVY_HOME", None)
        return env

    def xdotool(self, *args: str) -> str:
        return subprocess.run(
            [_need("xdotool"), *args],
            env={**os.environ, "DISPLAY": self.name},
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout


@pytest.fixture(params=["no-wm", "matchbox"])
def display(request: pytest.FixtureRequest) -> Iterator[Display]:
    xvfb = subprocess.Popen(
        [
            _need("Xvfb"),
            "-displayfd",
            "1",
            "-screen",
            "0",
            f"{SCREEN[0]}x{SCREEN[1]}x24",
            "-nolisten",
            "tcp",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert xvfb.stdout is not None
    number = xvfb.stdout.readline().decode().strip()
    processes = [xvfb]
    if request.param == "matchbox":
        wm = subprocess.Popen(
            [_need("matchbox-window-manager"), "-use_titlebar", "no"],
            env={**os.environ, "DISPLAY": f":{number}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.insert(0, wm)
        time.sleep(1)
    yield Display(number, processes, request.param)
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def _window(display: Display) -> dict[str, int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            ids = display.xdotool("search", "--onlyvisible", "--class", ".").split()
        except subprocess.CalledProcessError:  # none visible (yet)
            ids = []
        for wid in ids:
            shell = display.xdotool("getwindowgeometry", "--shell", wid)
            geo = dict(line.split("=", 1) for line in shell.split())
            if int(geo["WIDTH"]) > 100:
                return {k: int(v) for k, v in geo.items()}
        time.sleep(0.5)
    raise AssertionError("the window never became visible")


def _start_child(display: Display, home: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "gui" / "_tap_child.py"), mode],
        env=display.env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.mark.parametrize("mode", ["kiosk", "plain"])
def test_the_window_fits_800x480_and_a_tap_lands_on_the_control_drawn_there(
    display: Display, mode: str, tmp_path: Path
) -> None:
    child = _start_child(display, tmp_path / "home", mode)
    try:
        line = _child_line(child)
        assert line, "the window did not open"
        report = json.loads(line)
        geo = _window(display)
        # The taskbar knows it as the app, not as the interpreter ("python3.11").
        assert str(geo["WINDOW"]) in display.xdotool("search", "--class", "^LiteLLM Bridge$")
        if mode == "kiosk":
            assert (geo["X"], geo["Y"], geo["WIDTH"], geo["HEIGHT"]) == (0, 0, *SCREEN)
        else:
            assert geo["X"] >= 0 and geo["Y"] >= 0, geo
            assert geo["X"] + geo["WIDTH"] <= SCREEN[0], geo
            assert geo["Y"] + geo["HEIGHT"] <= SCREEN[1], geo
        assert report["size"] == [geo["WIDTH"], geo["HEIGHT"]]
        assert min(report["next_size"]) >= 48  # a touch target
        x, y = geo["X"] + report["next"][0], geo["Y"] + report["next"][1]
        assert 0 <= x < SCREEN[0] and 0 <= y < SCREEN[1], "Next is on the screen"
        display.xdotool("mousemove", str(x), str(y), "click", "1")
        assert _child_line(child) == "pressed"
    finally:
        child.kill()
        child.wait(timeout=30)


@pytest.mark.parametrize("mode", ["kiosk", "window"])
def test_sigterm_stops_the_window_and_its_proxy(
    display: Display, tmp_path: Path, mode: str
) -> None:
    home = tmp_path / "home"
    env = display.env(home)
    port = _kiosk_home(env, home, autostart=True)
    app = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", *(["--kiosk"] if mode == "kiosk" else [])],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not _listening(port):
            assert app.poll() is None, app.stderr.read() if app.stderr else ""
            assert time.monotonic() < deadline, "the kiosk never started its proxy"
            time.sleep(0.5)
        app.send_signal(signal.SIGTERM)
        code = app.wait(timeout=90)
        stderr = app.stderr.read() if app.stderr else ""
        assert code == 0, stderr
        assert "Traceback" not in stderr, stderr
        assert not _listening(port), "the proxy stopped with the window"
        # Nothing failed on the way out (the window once closed its store twice).
        logged = (home / "logs" / "app.log").read_text(encoding="utf-8")
        assert not [line for line in logged.splitlines() if " ERROR " in line], logged[-3000:]
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(timeout=30)


def _kiosk_home(
    env: dict[str, str],
    home: Path,
    admin: tuple[str, str] | None = None,
    *,
    autostart: bool = False,
) -> int:
    """A data folder with its default config, a free proxy port (returned) and, when
    given, an admin account; ``autostart`` starts the proxy with the window (a kiosk
    always does)."""
    port = free_port()
    subprocess.run(
        [sys.executable, "-m", "bridge_app", "config", "show"],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    from bridge_app.runtime import AppPaths
    from bridge_app.services import build_services

    old = os.environ.get("BRIDGE_HOME")
    os.environ["BRIDGE_HOME"] = str(home)
    try:
        services = build_services(AppPaths.from_environment())
        services.settings.set("proxy.port", port)
        if autostart:
            services.settings.set("proxy.autostart", True)
        if admin is not None:
            services.auth.create_first_admin(*admin)
        services.close()
    finally:
        if old is None:
            os.environ.pop("BRIDGE_HOME", None)
        else:
            os.environ["BRIDGE_HOME"] = old
    return port


def test_kiosk_quit_needs_an_admin_password_typed_into_the_dialog(
    display: Display, tmp_path: Path
) -> None:
    """Esc never quits the kiosk: it asks for an admin's password, as the login screen's
    "Quit kiosk" button does (a touch screen has no Esc). A wrong one is refused
    in the dialog (the window and the proxy stay); the right one quits both."""
    home = tmp_path / "home"
    env = display.env(home)
    env["BRIDGE_TEST_ARTIFACTS"] = str(ARTIFACTS)
    env["TAP_CHILD_LABEL"] = display.label
    port = _kiosk_home(env, home, admin=("root", ADMIN_PW))
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "gui" / "_kiosk_child.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        login = json.loads(_child_line(child).removeprefix("login "))
        deadline = time.monotonic() + 180
        while not _listening(port):  # the kiosk starts its proxy on its own
            assert child.poll() is None and time.monotonic() < deadline, "no proxy"
            time.sleep(0.5)
        geo = _window(display)
        assert (geo["X"], geo["Y"], geo["WIDTH"], geo["HEIGHT"]) == (0, 0, *SCREEN)

        def tap(point: list[int]) -> None:
            x, y = geo["X"] + point[0], geo["Y"] + point[1]
            assert 0 <= x < SCREEN[0] and 0 <= y < SCREEN[1], (x, y)
            display.xdotool("mousemove", str(x), str(y), "click", "1")
            time.sleep(0.3)

        display.xdotool("mousemove", "400", "240")
        display.xdotool("key", "Escape")
        report = json.loads(_child_line(child).removeprefix("dialog "))
        assert report["count"] == 1
        assert "Quit LiteLLM Bridge?" in report["texts"]
        assert "Kiosk mode: an admin password is needed to quit." in report["texts"]
        display.xdotool("key", "Escape")  # Esc again: still the one dialog, still running
        time.sleep(2)
        assert child.poll() is None and _listening(port)
        # A touch screen has no Esc: the login screen's "Quit kiosk" asks the same.
        tap(report["cancel"])
        time.sleep(1)
        tap(login["quit_kiosk"])
        report = json.loads(_child_line(child).removeprefix("dialog "))
        assert report["count"] == 1
        assert "Kiosk mode: an admin password is needed to quit." in report["texts"]

        tap(report["username"])
        display.xdotool("type", "--delay", "20", "root")
        tap(report["password"])
        display.xdotool("type", "--delay", "20", "not-the-password")
        tap(report["quit"])
        line = _child_line(child)
        assert line.startswith("error "), line
        assert "Wrong username or password" in line
        time.sleep(1)
        assert child.poll() is None, "a wrong password does not quit"
        assert _listening(port), "the proxy keeps running"
        assert _window(display)["WIDTH"] == SCREEN[0]  # the window is still there

        tap(report["password"])
        display.xdotool("key", "ctrl+a", "BackSpace")
        display.xdotool("type", "--delay", "20", ADMIN_PW)
        tap(report["quit"])
        assert _child_line(child) == "stopped"
        assert child.wait(timeout=90) == 0
        assert not _listening(port), "the proxy stopped with the kiosk"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


def _child_line(child: subprocess.Popen[str]) -> str:
    # LiteLLM prints to stdout too: the child marks its own lines.
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("TAP-CHILD "):
            return line.removeprefix("TAP-CHILD ").strip()
    return ""


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_second_start_brings_the_hidden_window_back(display: Display, tmp_path: Path) -> None:
    """A second click on the shortcut while the window sits in the tray (hidden): the
    window comes back, the second start ends at once. It used to exit without a word."""
    home = tmp_path / "home"
    first = subprocess.Popen(
        [sys.executable, "-m", "bridge_app"],
        env=display.env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        window = _window(display)["WINDOW"]
        time.sleep(10)  # the window is up and idle, as when it sits in the tray
        # Hidden as closed to the tray (no window manager), or minimised (one runs).
        hide = "windowunmap" if display.label == "no-wm" else "windowminimize"
        display.xdotool(hide, str(window))
        visible = subprocess.run(
            [_need("xdotool"), "search", "--onlyvisible", "--class", "."],
            env={**os.environ, "DISPLAY": display.name},
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        assert str(window) not in visible
        second = subprocess.run(
            [sys.executable, "-m", "bridge_app"],
            env=display.env(home),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second.returncode == 0, second.stderr
        assert _window(display)["WINDOW"] == window  # the same window, shown again
    finally:
        first.terminate()
        first.wait(timeout=60)


def test_a_start_beside_a_serve_says_why_it_cannot(display: Display, tmp_path: Path) -> None:
    home = tmp_path / "home"
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(free_port())],
        env=display.env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert serve.stdout is not None
        for line in serve.stdout:
            if line.startswith("Press Ctrl+C"):
                break
        window = subprocess.run(
            [sys.executable, "-m", "bridge_app"],
            env=display.env(home),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert window.returncode == 1
        assert "is already running on" in window.stderr
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=60)
