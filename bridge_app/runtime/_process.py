"""Processes and stop requests that behave the same on Windows and POSIX.

- ``pid_alive``: on Windows ``os.kill(pid, 0)`` does not probe, it *terminates* the
  process (any signal other than CTRL_C/CTRL_BREAK means TerminateProcess); the Windows
  API (OpenProcess + GetExitCodeProcess) answers instead.
- ``StopRequest``: Ctrl+C (SIGINT), SIGTERM, Ctrl+Break (SIGBREAK, Windows only) and, on
  Windows, closing the console window, logging off or shutting down all ask a long-running
  command to stop cleanly. Windows ends the process as soon as the console handler
  returns, so that handler waits (briefly) until the command says it has finished.
- ``run_captured``: a child with a timeout that kills the child's whole process tree
  (npm ``.cmd`` shims start node, which may start more) and decodes UTF-8 leniently.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

STILL_ACTIVE = 259  # GetExitCodeProcess's answer for a running process
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_ERROR_ACCESS_DENIED = 5
# Console control events Windows sends besides Ctrl+C (0) and Ctrl+Break (1), which the C
# runtime turns into SIGINT / SIGBREAK.
_CTRL_CLOSE_EVENT = 2
_CTRL_LOGOFF_EVENT = 5
_CTRL_SHUTDOWN_EVENT = 6
#: Windows gives a console-close handler 5 s before it ends the process anyway.
CONSOLE_CLOSE_GRACE_S = 4.5

if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    _kernel32.OpenProcess.restype = wintypes.HANDLE
    _kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    _kernel32.GetExitCodeProcess.restype = wintypes.BOOL
    _kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    _kernel32.CloseHandle.restype = wintypes.BOOL
    _HandlerRoutine = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)
    _kernel32.SetConsoleCtrlHandler.argtypes = (_HandlerRoutine, wintypes.BOOL)
    _kernel32.SetConsoleCtrlHandler.restype = wintypes.BOOL
    _kernel32.GetConsoleMode.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    _kernel32.GetConsoleMode.restype = wintypes.BOOL

    def _windows_pid_alive(pid: int) -> bool:
        handle = _kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            # Access denied: it exists and belongs to someone else. Anything else: gone.
            return ctypes.get_last_error() == _ERROR_ACCESS_DENIED
        try:
            code = wintypes.DWORD()
            if not _kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == STILL_ACTIVE
        finally:
            _kernel32.CloseHandle(handle)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs now (a process of another user counts)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by someone else
        return True
    return True


def forward_stop(pid: int, signum: int) -> bool:
    """Ask process ``pid`` (this program) to stop as on signal ``signum``. Windows: through
    its hidden session window (``_win32_session.ask_to_stop``: a console Ctrl+C reaches only
    the process it is sent to under Wine); elsewhere the signal itself. False: nothing to ask."""
    if sys.platform == "win32":
        from bridge_app.runtime._win32_session import ask_to_stop

        return ask_to_stop(pid, signum)
    try:
        os.kill(pid, signum)
    except OSError:
        return False
    return True


def stop_signals() -> tuple[signal.Signals, ...]:
    """The signals that mean "stop" here: SIGBREAK only exists on Windows."""
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    return tuple(getattr(signal, name) for name in names if hasattr(signal, name))


class StopRequest:
    """Set when the user or the system asks the process to stop; see the module doc."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._finished = threading.Event()
        self.reason: str | None = None
        self._console_handler: Any = None  # ctypes keeps no reference of its own

    def install(self) -> tuple[str, ...]:
        """Install the handlers (main thread only); returns what is handled, for tests and
        the log."""
        handled = []
        for sig in stop_signals():
            signal.signal(sig, self._on_signal)
            handled.append(sig.name)
        if sys.platform == "win32":

            def on_console_event(event: int) -> bool:
                if event not in (_CTRL_CLOSE_EVENT, _CTRL_LOGOFF_EVENT, _CTRL_SHUTDOWN_EVENT):
                    return False  # Ctrl+C / Ctrl+Break: the C runtime raises the signal
                self.request("console closed")
                self._finished.wait(CONSOLE_CLOSE_GRACE_S)
                return True

            self._console_handler = _HandlerRoutine(on_console_event)
            if _kernel32.SetConsoleCtrlHandler(self._console_handler, True):
                handled.append("console-close")
            from bridge_app.runtime._win32_session import watch_session_end

            if watch_session_end(
                lambda: self.request("session ending"), self._finished, on_stop=self._on_asked
            ):
                handled.append("session-end")
        return tuple(handled)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.request(signal.Signals(signum).name)

    def _on_asked(self, signum: int) -> None:
        """Another process forwarded a stop signal (Windows: ``ask_to_stop``)."""
        try:
            self.request(signal.Signals(signum).name)
        except ValueError:
            self.request("asked to stop")

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self._stop.set()

    def wait(self, timeout: float) -> bool:
        return self._stop.wait(timeout)

    @property
    def requested(self) -> bool:
        return self._stop.is_set()

    def finished(self) -> None:
        """The command has cleaned up: a waiting console-close handler may return."""
        self._finished.set()


@dataclass(frozen=True)
class Captured:
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` and everything it started (it must lead its own group/session)."""
    if sys.platform == "win32":
        system_root = os.environ.get("SYSTEMROOT", r"C:\Windows")  # never a taskkill on PATH
        taskkill = os.path.join(system_root, "System32", "taskkill.exe")
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [taskkill, "/F", "/T", "/PID", str(process.pid)],
                capture_output=True,
                timeout=15,
                check=False,
                creationflags=subprocess.CREATE_NO_WINDOW,
            )
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


def run_captured(
    args: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Captured:
    """Run ``args`` with no stdin (and, on Windows, no console window of its own); after
    ``timeout`` seconds kill its whole tree (on Windows a job object holds the tree).

    Output is decoded as UTF-8 with replacement characters (tools print UTF-8; Windows'
    ANSI code page would garble or refuse it). Raises OSError when it cannot start.
    """
    options: dict[str, Any] = {}
    job: Any = None
    if sys.platform == "win32":
        from bridge_app.runtime._win32_jobs import CREATE_SUSPENDED, ProcessJob

        options["creationflags"] = (
            subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW | CREATE_SUSPENDED
        )
        job = ProcessJob()
    else:
        options["start_new_session"] = True  # its own process group, for killpg
    try:
        process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            **options,
        )
    except BaseException:
        if job is not None:
            job.close()
        raise
    if job is not None and not job.adopt(process):
        job.close()  # the system refused the job: taskkill walks the tree instead
        job = None
    returncode: int | None
    try:
        out, err = process.communicate(timeout=timeout)
        returncode = process.returncode
    except subprocess.TimeoutExpired:
        if job is not None:
            job.kill()
        kill_tree(process)
        returncode = None
        try:
            out, err = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            # Something outside the tree still holds the pipes: stop reading them.
            out, err = b"", b""
            for pipe in (process.stdout, process.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
    finally:
        if job is not None:
            job.close()
    return Captured(
        returncode,
        (out or b"").decode("utf-8", errors="replace"),
        (err or b"").decode("utf-8", errors="replace"),
    )


def stdin_is_terminal() -> bool:
    """Whether a person can answer a prompt on standard input. On Windows ``isatty()`` is
    also true for NUL (a service, a scheduled task, ``< nul``), and a hidden prompt reads
    the console, not standard input: only a real console counts there."""
    stream = sys.stdin
    if stream is None or stream.closed:
        return False
    try:
        if not stream.isatty():
            return False
        if sys.platform == "win32":
            import msvcrt

            mode = wintypes.DWORD()
            handle = msvcrt.get_osfhandle(stream.fileno())
            return bool(_kernel32.GetConsoleMode(handle, ctypes.byref(mode)))
    except (OSError, ValueError):
        return False
    return True
