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
