"""Copy a secret to the Windows clipboard without it landing in clipboard history.

Windows 10/11 keep every copied text in the clipboard history (Win+V) and may sync it to
the cloud clipboard, so a copied token would outlive the app's 30-second clear. Clipboard
managers and the history honour three registered formats placed next to the text:
``ExcludeClipboardContentFromMonitorProcessing`` (present: skip it entirely),
``CanIncludeInClipboardHistory`` = 0 and ``CanUploadToCloudClipboard`` = 0.
Kivy's clipboard cannot add formats, hence this small ctypes writer (Windows only).
"""

from __future__ import annotations

import struct
import sys

CF_UNICODETEXT = 13
EXCLUDE_FROM_MONITORING = "ExcludeClipboardContentFromMonitorProcessing"
CAN_INCLUDE_IN_HISTORY = "CanIncludeInClipboardHistory"
CAN_UPLOAD_TO_CLOUD = "CanUploadToCloudClipboard"
_GMEM_MOVEABLE = 0x0002


def secret_clipboard_formats(text: str) -> list[tuple[int | str, bytes]]:
    """What goes on the clipboard for a secret: the text (UTF-16, NUL-terminated) and the
    three formats that keep it out of history, monitoring and cloud sync."""
    no = struct.pack("<I", 0)  # a DWORD 0
    return [
        (CF_UNICODETEXT, (text + "\0").encode("utf-16-le")),
        (EXCLUDE_FROM_MONITORING, no),
        (CAN_INCLUDE_IN_HISTORY, no),
        (CAN_UPLOAD_TO_CLOUD, no),
    ]


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    from bridge_app.runtime._win32 import user32 as _user32

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _user32.GetActiveWindow.restype = wintypes.HWND
    _user32.OpenClipboard.argtypes = (wintypes.HWND,)
    _user32.OpenClipboard.restype = wintypes.BOOL
    _user32.EmptyClipboard.restype = wintypes.BOOL
    _user32.CloseClipboard.restype = wintypes.BOOL
    _user32.SetClipboardData.argtypes = (wintypes.UINT, wintypes.HANDLE)
    _user32.SetClipboardData.restype = wintypes.HANDLE
    _user32.RegisterClipboardFormatW.argtypes = (wintypes.LPCWSTR,)
    _user32.RegisterClipboardFormatW.restype = wintypes.UINT
    _kernel32.GlobalAlloc.argtypes = (wintypes.UINT, ctypes.c_size_t)
    _kernel32.GlobalAlloc.restype = wintypes.HGLOBAL
    _kernel32.GlobalLock.argtypes = (wintypes.HGLOBAL,)
    _kernel32.GlobalLock.restype = ctypes.c_void_p
    _kernel32.GlobalUnlock.argtypes = (wintypes.HGLOBAL,)
    _kernel32.GlobalUnlock.restype = wintypes.BOOL
    _kernel32.GlobalFree.argtypes = (wintypes.HGLOBAL,)
    _kernel32.GlobalFree.restype = wintypes.HGLOBAL

    def _put(fmt: int, data: bytes) -> bool:
        handle = _kernel32.GlobalAlloc(_GMEM_MOVEABLE, len(data))
        if not handle:
            return False
        pointer = _kernel32.GlobalLock(handle)
        if not pointer:
            _kernel32.GlobalFree(handle)
            return False
        ctypes.memmove(pointer, data, len(data))
        _kernel32.GlobalUnlock(handle)
        if not _user32.SetClipboardData(fmt, handle):
            _kernel32.GlobalFree(handle)  # still ours: the clipboard did not take it
            return False
        return True

    _HWND_MESSAGE = -3  # parent of a message-only window

    def _copy_secret_windows(text: str) -> bool:
        # The clipboard needs an owner window: with OpenClipboard(NULL), EmptyClipboard
        # leaves no owner and SetClipboardData fails. The app's window when it is active,
        # else a message-only window (its data stays on the clipboard after it is gone).
        owner = _user32.GetActiveWindow()
        temporary = None
        if not owner:
            temporary = _user32.CreateWindowExW(
                0, "STATIC", None, 0, 0, 0, 0, 0, _HWND_MESSAGE, None, None, None
            )
            owner = temporary
        try:
            if not owner or not _user32.OpenClipboard(owner):
                return False
            try:
                if not _user32.EmptyClipboard():
                    return False
                for fmt, data in secret_clipboard_formats(text):
                    number = fmt if isinstance(fmt, int) else _user32.RegisterClipboardFormatW(fmt)
                    if not number or not _put(number, data):
                        return False
                return True
            finally:
                _user32.CloseClipboard()
        finally:
            if temporary:
                _user32.DestroyWindow(temporary)


def copy_secret_windows(text: str) -> bool:
    """Put ``text`` on the Windows clipboard, excluded from history; False when this is not
    Windows or the clipboard is busy (the caller falls back to its usual copy)."""
    if sys.platform == "win32":
        return _copy_secret_windows(text)
    return False
