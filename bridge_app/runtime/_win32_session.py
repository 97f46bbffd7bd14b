"""Logging off and shutting down reach a Windows program that has loaded user32 (as this
one has, through ctypes and its libraries) only as window messages: WM_QUERYENDSESSION,
then WM_ENDSESSION, sent to its top-level windows. The console's CTRL_LOGOFF_EVENT and
CTRL_SHUTDOWN_EVENT never arrive. A hidden window on a thread of its own receives them,
so `serve` stops the proxy cleanly when the session ends. (Windows only.)"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable
from ctypes import wintypes

assert sys.platform == "win32"

WINDOW_CLASS = "LiteLLMBridgeSessionWatch"
#: Asks the window's process to stop as a signal would (wParam: the signal's number): what
#: an older version's executable that handed over to an installed update forwards when it
#: gets Ctrl+C (see ``ask_to_stop``).
STOP_MESSAGE_NAME = "LiteLLMBridgeStop"
WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
#: Windows waits this long for WM_ENDSESSION before it ends the process anyway (5 s).
END_SESSION_GRACE_S = 4.5

_LRESULT = ctypes.c_ssize_t
_WNDPROC = ctypes.WINFUNCTYPE(
    _LRESULT, wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM
)


class _WndClass(ctypes.Structure):
    _fields_ = [
        ("style", wintypes.UINT),
        ("lpfnWndProc", _WNDPROC),
        ("cbClsExtra", ctypes.c_int),
        ("cbWndExtra", ctypes.c_int),
        ("hInstance", wintypes.HINSTANCE),
        ("hIcon", wintypes.HICON),
        ("hCursor", wintypes.HANDLE),
        ("hbrBackground", wintypes.HBRUSH),
        ("lpszMenuName", wintypes.LPCWSTR),
        ("lpszClassName", wintypes.LPCWSTR),
    ]


_user32 = ctypes.WinDLL("user32", use_last_error=True)
_user32.DefWindowProcW.argtypes = (wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)
_user32.DefWindowProcW.restype = _LRESULT
_user32.RegisterClassW.argtypes = (ctypes.POINTER(_WndClass),)
_user32.RegisterClassW.restype = wintypes.ATOM
_user32.CreateWindowExW.argtypes = (
    wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_int,
    ctypes.c_int, ctypes.c_int, ctypes.c_int, wintypes.HWND, wintypes.HMENU,
    wintypes.HINSTANCE, wintypes.LPVOID,
)  # fmt: skip
_user32.CreateWindowExW.restype = wintypes.HWND
_user32.GetMessageW.argtypes = (
    ctypes.POINTER(wintypes.MSG),
    wintypes.HWND,
    wintypes.UINT,
    wintypes.UINT,
)
_user32.GetMessageW.restype = wintypes.BOOL
_user32.TranslateMessage.argtypes = (ctypes.POINTER(wintypes.MSG),)
_user32.DispatchMessageW.argtypes = (ctypes.POINTER(wintypes.MSG),)
_user32.RegisterWindowMessageW.argtypes = (wintypes.LPCWSTR,)
_user32.RegisterWindowMessageW.restype = wintypes.UINT
_ENUM_PROC = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
_user32.EnumWindows.argtypes = (_ENUM_PROC, wintypes.LPARAM)
_user32.GetWindowThreadProcessId.argtypes = (wintypes.HWND, ctypes.POINTER(wintypes.DWORD))
_user32.GetClassNameW.argtypes = (wintypes.HWND, wintypes.LPWSTR, ctypes.c_int)
_user32.PostMessageW.argtypes = (wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)
_user32.PostMessageW.restype = wintypes.BOOL
_kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
_kernel32.GetModuleHandleW.argtypes = (wintypes.LPCWSTR,)
_kernel32.GetModuleHandleW.restype = wintypes.HMODULE


def windows_of(pid: int) -> list[int]:
    """The hidden windows ``watch_session_end`` made in process ``pid``."""
    found: list[int] = []

    def visit(hwnd: int, _lparam: int) -> bool:
        owner = wintypes.DWORD()
        _user32.GetWindowThreadProcessId(hwnd, ctypes.byref(owner))
        if owner.value == pid:
            name = ctypes.create_unicode_buffer(128)
            _user32.GetClassNameW(hwnd, name, 128)
            if name.value == WINDOW_CLASS:
                found.append(hwnd)
        return True

    _user32.EnumWindows(_ENUM_PROC(visit), 0)
    return found


def ask_to_stop(pid: int, signum: int) -> bool:
    """Ask process ``pid`` (this program) to stop as if it got signal ``signum``. A console
    Ctrl+C reaches every process of the console on Windows, but only the one it is sent
    to under Wine, and never one whose console differs. False: it has no such window (a
    command without one, or one that has ended)."""
    message = _user32.RegisterWindowMessageW(STOP_MESSAGE_NAME)
    return any(bool(_user32.PostMessageW(hwnd, message, signum, 0)) for hwnd in windows_of(pid))


def watch_session_end(
    on_end: Callable[[], None],
    finished: threading.Event,
    *,
    on_stop: Callable[[int], None] | None = None,
    timeout: float = 5.0,
) -> bool:
    """Call ``on_end()`` when the session ends (logoff, shutdown, restart), then hold the
    end back until ``finished`` is set (at most END_SESSION_GRACE_S); ``on_stop(signum)``
    when another process asks this one to stop (``ask_to_stop``). True when the hidden
    window exists."""
    ready = threading.Event()
    created: list[bool] = []
    stop_message = _user32.RegisterWindowMessageW(STOP_MESSAGE_NAME)

    def proc(hwnd: int, message: int, wparam: int, lparam: int) -> int:
        if message == stop_message and stop_message and on_stop is not None:
            on_stop(int(wparam))
            return 0
        if message == WM_QUERYENDSESSION:
            return 1  # yes, the session may end; we stop on WM_ENDSESSION
        if message == WM_ENDSESSION:
            if wparam:
                on_end()
                finished.wait(END_SESSION_GRACE_S)
            return 0
        return int(_user32.DefWindowProcW(hwnd, message, wparam, lparam))

    def run() -> None:
        callback = _WNDPROC(proc)  # kept alive by this frame for the thread's lifetime
        instance = _kernel32.GetModuleHandleW(None)
        klass = _WndClass(lpfnWndProc=callback, hInstance=instance, lpszClassName=WINDOW_CLASS)
        hwnd = None
        if _user32.RegisterClassW(ctypes.byref(klass)):
            # A top-level window (never shown): message-only windows get no broadcasts.
            hwnd = _user32.CreateWindowExW(
                0, WINDOW_CLASS, "LiteLLM Bridge", 0, 0, 0, 0, 0, None, None, instance, None
            )
        created.append(bool(hwnd))
        ready.set()
        if not hwnd:
            return
        message = wintypes.MSG()
        while _user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
            _user32.TranslateMessage(ctypes.byref(message))
            _user32.DispatchMessageW(ctypes.byref(message))

    threading.Thread(target=run, name="bridge-session-watch", daemon=True).start()
    ready.wait(timeout)
    return bool(created and created[0])
