"""GetThreadTimes through ctypes (Windows only): the CPU time of any thread of this
process, for the watchdog (``_threads.thread_cpu_time``)."""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes

assert sys.platform == "win32"

_kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
_kernel32.OpenThread.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
_kernel32.OpenThread.restype = wintypes.HANDLE
_kernel32.GetThreadTimes.argtypes = (wintypes.HANDLE, *(ctypes.POINTER(wintypes.FILETIME),) * 4)
_kernel32.GetThreadTimes.restype = wintypes.BOOL
_kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
_THREAD_QUERY_LIMITED_INFORMATION = 0x0800


def _seconds(value: wintypes.FILETIME) -> float:
    return (value.dwHighDateTime << 32 | value.dwLowDateTime) / 10_000_000  # 100 ns units


def thread_cpu_seconds(native_id: int) -> float | None:
    """User + kernel CPU seconds of the thread with this OS id; None if it is gone."""
    handle = _kernel32.OpenThread(_THREAD_QUERY_LIMITED_INFORMATION, False, native_id)
    if not handle:
        return None
    try:
        creation, exited, kernel, user = (wintypes.FILETIME() for _ in range(4))
        if not _kernel32.GetThreadTimes(
            handle, ctypes.byref(creation), ctypes.byref(exited), ctypes.byref(kernel),
            ctypes.byref(user),
        ):  # fmt: skip
            return None
        return _seconds(kernel) + _seconds(user)
    finally:
        _kernel32.CloseHandle(handle)
