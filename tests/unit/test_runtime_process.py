"""Process liveness, stop requests and bounded child processes (bridge_app/runtime/_process.py).

The Windows-only branches (OpenProcess, SetConsoleCtrlHandler, taskkill) are type-checked
with `mypy --platform win32` in the test command; what is shared is exercised here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.clients._detect import find_tool
from bridge_app.runtime import StopRequest, forward_stop, pid_alive, run_captured
from bridge_app.runtime._process import stop_signals

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

posix_only = pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX signals and #! scripts; Windows has its own branch"
)


def _really_alive(pid: int) -> bool:
    """pid_alive, but a zombie nobody reaps yet counts as dead (PID 1 here may not reap)."""
    if not pid_alive(pid):
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_dead(pid: int) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not _really_alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def saved_handlers() -> Iterator[None]:
    numbers = [signal.SIGINT, signal.SIGTERM, signal.SIGUSR1]
    before = {n: signal.getsignal(n) for n in numbers}
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


def test_pid_alive_tells_a_running_process_from_a_finished_one() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)
    assert pid_alive(os.getpid())
    assert not pid_alive(0)


@posix_only
def test_a_forwarded_stop_is_the_signal_itself_here() -> None:
    """POSIX: the signal is sent (Windows uses the hidden window: test_proxy_cli.py)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert forward_stop(child.pid, signal.SIGTERM)
        assert child.wait(30) == -signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not forward_stop(child.pid, signal.SIGTERM)  # reaped: nothing to ask


@posix_only
def test_without_sigbreak_serve_stops_on_sigint_and_sigterm_only() -> None:
    assert not hasattr(signal, "SIGBREAK")
    assert stop_signals() == (signal.SIGINT, signal.SIGTERM)


@posix_only
def test_sigbreak_is_handled_where_the_signal_exists(
    monkeypatch: pytest.MonkeyPatch, saved_handlers: None
) -> None:
    # Linux has no SIGBREAK: stand SIGUSR1 in for it, as Windows' C runtime would deliver it.
    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR1, raising=False)
    stop = StopRequest()
    handled = stop.install()
    assert signal.SIGUSR1.name in handled and "SIGINT" in handled and "SIGTERM" in handled
    assert not stop.requested
    os.kill(os.getpid(), signal.SIGUSR1)
    assert stop.wait(10)
    assert stop.reason == "SIGUSR1"


def _fake_tool(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


@posix_only
def test_a_hanging_probe_is_killed_with_the_child_that_holds_its_pipe(tmp_path: Path) -> None:
    """Like an npm shim: the tool starts node, which keeps stdout open, and never answers."""
    pid_file = tmp_path / "grandchild.pid"
    bin_dir = tmp_path / "bin"
    _fake_tool(
        bin_dir,
        "slowtool",
        "import pathlib, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))\n"
        "time.sleep(300)\n",
    )
    installed = find_tool(("slowtool",), search_path=str(bin_dir), timeout=2.0)
    assert installed.binary == str(bin_dir / "slowtool")
    assert installed.version is None  # found, version unknown: it did not answer
    grandchild = int(pid_file.read_text())
    assert _wait_dead(grandchild), "the probe's child outlived the timeout"


@posix_only
def test_probe_output_is_read_as_utf8_with_replacement(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake_tool(
        bin_dir,
        "tool",
        "import sys\n"
        "out = b'caf\\xc3\\xa9 tool \\xff\\xfe 2.4.1 (build \\xe2\\x9c\\x93)\\n'\n"
        "sys.stdout.buffer.write(out)\n",
    )
    assert find_tool(("tool",), search_path=str(bin_dir), timeout=30).version == "2.4.1"
    done = run_captured([str(bin_dir / "tool")], timeout=30)
    assert done.returncode == 0
    assert done.stdout.startswith("café tool \ufffd\ufffd 2.4.1 (build ✓)")


@pytest.mark.skipif(sys.platform != "win32", reason="Windows console control events")
def test_closing_the_console_asks_serve_to_stop_and_waits_for_it() -> None:
    """Closing the console window (and, without user32, logoff and shutdown) reaches the
    handler as CTRL_CLOSE_EVENT; Windows ends the process once the handler returns, so it
    waits until the command says it has finished. Wine never delivers the event: the
    handler Windows would call is called here."""
    import threading

    stop = StopRequest()
    saved = {sig: signal.getsignal(sig) for sig in stop_signals()}
    try:
        handled = stop.install()
    finally:
        for sig, handler in saved.items():  # pytest's own Ctrl+C handling stays
            signal.signal(sig, handler)
    assert "console-close" in handled and "session-end" in handled
    returned: list[bool] = []
    caller = threading.Thread(target=lambda: returned.append(stop._console_handler(2)))
    caller.start()
    assert stop.wait(5) and stop.reason == "console closed"
    assert caller.is_alive()  # still holding the close back while serve cleans up
    stop.finished()
    caller.join(5)
    assert returned == [True]
