"""What the app hands the Windows clipboard when it copies a secret (the ctypes calls that
hand it over only run on Windows and are type-checked with `mypy --platform win32`)."""

from __future__ import annotations

import struct
import sys

import pytest

from bridge_app.runtime import copy_secret_windows
from bridge_app.runtime._clipboard import CF_UNICODETEXT, secret_clipboard_formats

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


def test_a_copied_secret_is_marked_for_no_history_no_monitoring_no_cloud() -> None:
    formats = dict(secret_clipboard_formats("sk-bridge-ünï-1234"))
    assert formats[CF_UNICODETEXT] == "sk-bridge-ünï-1234\0".encode("utf-16-le")
    assert "ExcludeClipboardContentFromMonitorProcessing" in formats
    assert formats["CanIncludeInClipboardHistory"] == struct.pack("<I", 0)
    assert formats["CanUploadToCloudClipboard"] == struct.pack("<I", 0)


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows it writes the real clipboard")
def test_elsewhere_the_caller_uses_its_own_clipboard() -> None:
    assert copy_secret_windows("sk-bridge-x") is False


@pytest.mark.skipif(sys.platform != "win32", reason="writes the Windows clipboard")
def test_on_windows_the_copy_carries_the_no_history_formats() -> None:
    """Read back as a clipboard history (Win+V) or a cloud sync would see it."""
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.WinDLL("user32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    user32.RegisterClipboardFormatW.argtypes = (wintypes.LPCWSTR,)
    user32.RegisterClipboardFormatW.restype = wintypes.UINT
    user32.GetClipboardData.restype = wintypes.HANDLE
    kernel32.GlobalLock.argtypes = (wintypes.HGLOBAL,)
    kernel32.GlobalLock.restype = ctypes.c_void_p
    kernel32.GlobalUnlock.argtypes = (wintypes.HGLOBAL,)

    assert copy_secret_windows("sk-bridge-clipboard-test")
    assert user32.OpenClipboard(None)
    try:
        handle = user32.GetClipboardData(CF_UNICODETEXT)
        pointer = kernel32.GlobalLock(handle)
        assert ctypes.wstring_at(pointer) == "sk-bridge-clipboard-test"
        kernel32.GlobalUnlock(handle)
        for name in ("CanIncludeInClipboardHistory", "CanUploadToCloudClipboard"):
            fmt = user32.RegisterClipboardFormatW(name)
            assert user32.IsClipboardFormatAvailable(fmt), name
            data = user32.GetClipboardData(fmt)
            pointer = kernel32.GlobalLock(data)
            assert ctypes.string_at(pointer, 4) == struct.pack("<I", 0), name
            kernel32.GlobalUnlock(data)
        excluded = user32.RegisterClipboardFormatW("ExcludeClipboardContentFromMonitorProcessing")
        assert user32.IsClipboardFormatAvailable(excluded)
    finally:
        user32.EmptyClipboard()
        user32.CloseClipboard()
