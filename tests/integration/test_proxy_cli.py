"""`serve` in its own process; `status`, `proxy-key` and `logs` from others."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import UNDER_WINE
from tests.integration._serve import NEW_GROUP, Serve, interrupt
from tests.integration._serve import cli as serve_cli
from tests.integration._upstream import free_port
from tests.integration._wire import answer_text, build
from tests.integration.conftest import port_open

pytestmark = [pytest.mark.integration, pytest.mark.windows]  # the Windows leg too
REPO = Path(__file__).resolve().parents[2]


_interrupt = interrupt


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    return env


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def _until_ready(serve: subprocess.Popen[str]) -> list[str]:
    """What `serve` printed up to its "Press Ctrl+C" line (or its end, or 90 s)."""
    assert serve.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = serve.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    return lines


@pytest.mark.skipif(UNDER_WINE, reason="Wine delivers no Ctrl+Break (GenerateConsoleCtrlEvent)")
def test_serve_status_key_request_logs_and_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    assert json.loads(_cli(home, "status", "--json").stdout)["state"] == "stopped"
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        creationflags=NEW_GROUP,
    )
    try:
        assert serve.stdout is not None
        lines = _until_ready(serve)
        assert any(f"http://127.0.0.1:{port}" in ln for ln in lines), lines
        assert any("litellm-bridge proxy-key" in ln for ln in lines)

        status = json.loads(_cli(home, "status", "--json").stdout)
        assert status["state"] == "running"
        assert status["port"] == port and status["ready"] is True

        second = _cli(home, "serve", "--port", str(free_port()))
        assert second.returncode == 1
        assert "already running" in second.stderr

        key_run = _cli(home, "proxy-key")
        assert key_run.returncode == 0
        key = key_run.stdout.strip()
        assert key.startswith("sk-")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False) as c:
            response = c.send(build(c, "chat", key, text="from the cli test"))
            assert response.status_code == 200
            assert "from the cli test" in answer_text("chat", response, stream=False)
            assert c.send(build(c, "chat", "sk-wrong-key-0000000000")).status_code == 401

        time.sleep(1.5)  # one publish interval
        status = json.loads(_cli(home, "status", "--json").stdout)
        assert status["metrics"]["per_model"]["demo"]["requests"] >= 1
        assert key not in json.dumps(status)

        logs = _cli(home, "logs", "--grep", "chat/completions")
        assert logs.returncode == 0
        assert "POST /v1/chat/completions" in logs.stdout
        assert key not in logs.stdout

        _interrupt(serve)
        out, err = serve.communicate(timeout=30)
        assert serve.returncode == 0, err
        assert "Stopped." in out
        assert "Traceback" not in err, err
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert not port_open(port)
    assert json.loads(_cli(home, "status", "--json").stdout)["state"] == "stopped"
    for path in [*home.rglob("*.yaml"), *home.rglob("*.json"), *home.rglob("*.log")]:
        assert key not in path.read_text(encoding="utf-8", errors="replace"), path


def test_serve_as_a_user_logs_in_first_and_refuses_a_wrong_password(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    password = "Admin-Password-42!"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge_app",
            "user",
            "create",
            "root",
            "--admin",
            "--password-stdin",
        ],
        input=f"{password}\n",
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert made.returncode == 0, made.stderr

    wrong = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge_app",
            "serve",
            "--port",
            str(free_port()),
            "--as",
            "root",
            "--password-stdin",
        ],
        input="not-the-password\n",
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert wrong.returncode == 1
    assert "Wrong username or password" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    port = free_port()
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge_app",
            "serve",
            "--port",
            str(port),
            "--as",
            "root",
            "--password-stdin",
        ],
        env=_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        creationflags=NEW_GROUP,
    )
    try:
        assert serve.stdin is not None and serve.stdout is not None
        serve.stdin.write(f"{password}\n")
        serve.stdin.close()
        lines = _until_ready(serve)
        assert any("Serving for root: internal token No internal token" in ln for ln in lines), (
            lines
        )
        assert json.loads(_cli(home, "status", "--json").stdout)["state"] == "running"
    finally:
        _interrupt(serve)
        code = serve.wait(timeout=60)
    assert code == 0 or UNDER_WINE  # Wine: ended, not stopped with Ctrl+Break (see _serve)
    assert not port_open(port)


def test_serve_beyond_loopback_needs_the_admin_setting_and_says_what_it_exposes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from bridge_app.runtime import AppPaths
    from bridge_app.services import build_services

    port = free_port()
    refused = _cli(tmp_path, "serve", "--host", "0.0.0.0", "--port", str(port))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "may not listen on 0.0.0.0" in refused.stderr
    assert "ask an admin to turn on proxy.allow_non_loopback" in refused.stderr
    assert "Traceback" not in refused.stderr and "Starting" not in refused.stdout
    assert not port_open(port)

    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))
    services = build_services(AppPaths.from_environment())
    services.settings.set("proxy.allow_non_loopback", True)
    services.close()
    # Tests listen on loopback only: something already holds the port on 127.0.0.1, so
    # the wildcard bind fails right after serve said what it would expose.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        allowed = _cli(tmp_path, "serve", "--host", "0.0.0.0", "--port", str(port))
    assert "other machines can reach the proxy at" in allowed.stderr, allowed.stderr
    assert f"http://127.0.0.1:{port} (this machine only)" in allowed.stderr
    assert "may not listen" not in allowed.stderr
    assert allowed.returncode == 1  # the port was taken, and it says so
    assert f"Port {port} on 0.0.0.0 is already in use" in allowed.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="stands SIGUSR1 in for SIGBREAK (POSIX)")
def test_serve_stops_cleanly_on_ctrl_break(tmp_path: Path) -> None:
    """Windows' release smoke test stops `serve` with Ctrl+Break (SIGBREAK). Linux has no
    SIGBREAK, so the process is given one (SIGUSR1) before the CLI starts, as Windows would."""
    home = tmp_path / "home"
    port = free_port()
    boot = (
        "import signal, sys; signal.SIGBREAK = signal.SIGUSR1; "
        "from bridge_app.cli import main; sys.argv[0] = 'litellm-bridge'; main()"
    )
    serve = subprocess.Popen(
        [sys.executable, "-c", boot, "serve", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        creationflags=NEW_GROUP,
    )
    try:
        lines = _until_ready(serve)
        assert any(ln.startswith("Press Ctrl+C") for ln in lines), lines
        assert port_open(port)
        serve.send_signal(signal.SIGUSR1)
        out, err = serve.communicate(timeout=30)
        assert serve.returncode == 0, err
        assert "Stopping (SIGUSR1) ..." in out
        assert "Stopped." in out
        assert "Traceback" not in err
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert not port_open(port)
    assert json.loads(_cli(home, "status", "--json").stdout)["state"] == "stopped"


def _ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_serve_on_the_ipv6_loopback(tmp_path: Path) -> None:
    """`serve --host ::1` crashed building its own URL without brackets."""
    home = tmp_path / "home"
    port = free_port()
    serve = Serve(home, port, "--host", "::1")
    try:
        assert any(f"http://[::1]:{port}" in line for line in serve.lines), serve.lines
        key = serve_cli(home, "proxy-key").stdout.strip()
        answer = httpx.post(
            f"http://[::1]:{port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        status = serve_cli(home, "status")
        assert f"http://[::1]:{port}" in status.stdout
    finally:
        serve.stop()


def _serve_stopped_by(home: Path, stop: Callable[[int], None]) -> tuple[str, str, int | None]:
    """`serve` in a console group of its own until ready, ``stop(pid)``, its exit."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(free_port())],
        env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        creationflags=NEW_GROUP,
    )  # fmt: skip
    try:
        assert any(ln.startswith("Press Ctrl+C") for ln in _until_ready(serve))
        stop(serve.pid)
        out, err = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    return out, err, serve.returncode


@pytest.mark.skipif(sys.platform != "win32", reason="Windows session messages")
def test_serve_stops_cleanly_when_the_windows_session_ends(tmp_path: Path) -> None:
    """Logoff and shutdown reach a program that loaded user32 only as WM_QUERYENDSESSION /
    WM_ENDSESSION to its windows (no console event): `serve` has a hidden window for them,
    stops the proxy and says why, before Windows ends the process."""
    import ctypes
    from ctypes import wintypes

    from bridge_app.runtime._win32_session import WM_ENDSESSION, WM_QUERYENDSESSION, windows_of

    user32 = ctypes.WinDLL("user32", use_last_error=True)
    send = user32.SendMessageTimeoutW
    send.argtypes = (
        wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM, wintypes.UINT,
        wintypes.UINT, ctypes.POINTER(ctypes.c_size_t),
    )  # fmt: skip

    def end_session(pid: int) -> None:
        found = windows_of(pid)
        assert found, "serve has no window for the session messages"
        result = ctypes.c_size_t()
        assert send(found[0], WM_QUERYENDSESSION, 0, 0, 0, 5000, ctypes.byref(result))
        assert result.value == 1  # the session may end
        send(found[0], WM_ENDSESSION, 1, 0, 0, 10000, ctypes.byref(result))

    home = tmp_path / "home"
    out, err, code = _serve_stopped_by(home, end_session)
    assert code == 0, err
    assert "Stopping (session ending) ..." in out and "Stopped." in out
    assert json.loads(_cli(home, "status", "--json").stdout)["state"] == "stopped"


@pytest.mark.skipif(sys.platform != "win32", reason="Windows window messages")
def test_serve_stops_when_the_executable_that_started_it_forwards_a_ctrl_c(tmp_path: Path) -> None:
    """An older version's executable that handed over to an installed update waits for it
    and forwards its own Ctrl+C (services/_updates.py): under Wine, or with a console of its
    own, the update's `serve` never sees the console's. It stops as on Ctrl+C, saying so."""
    from bridge_app.runtime import forward_stop

    asked: list[int] = []

    def forward_ctrl_c(pid: int) -> None:
        assert forward_stop(pid, signal.SIGINT)
        asked.append(pid)

    out, err, code = _serve_stopped_by(tmp_path / "home", forward_ctrl_c)
    assert code == 0, err
    assert "Stopping (SIGINT) ..." in out and "Stopped." in out
    assert not forward_stop(asked[0], signal.SIGINT)  # gone: nothing to ask
