"""Copying from the window. A secret (a value, a key, a snippet that holds a key) is kept
out of Windows' clipboard history and cloud clipboard, and cleared after a while if it is
still what the clipboard holds; anything else is an ordinary copy."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.core.clipboard import Clipboard

from bridge_app.runtime import copy_secret_windows

CLIPBOARD_SECONDS = 30


def copy_text(value: str, *, secret: bool) -> None:
    if not secret:
        Clipboard.copy(value)
        return
    # The 30 s clear cannot reach copies in the history or the cloud: on Windows the copy
    # is marked so that neither keeps it.
    if not copy_secret_windows(value):
        Clipboard.copy(value)
    Clock.schedule_once(lambda _dt: _clear(value), CLIPBOARD_SECONDS)


def _clear(value: str) -> None:
    # Only clear what we put there: the user may have copied something else since.
    # Kivy's public copy() ignores an empty string (so "cleared after 30 s" never
    # cleared anything); its _copy() is what copy() calls for any other text.
    if Clipboard.paste() == value:
        Clipboard._copy("")
