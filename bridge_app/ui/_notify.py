"""Desktop notifications for things the user must act on while looking elsewhere (a
blocked token refresh). Best effort: the same message is always on screen too."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from typing import Protocol

log = logging.getLogger(__name__)


class Notifier(Protocol):
    def notify(self, title: str, message: str) -> bool: ...


def desktop_notify(title: str, message: str, *, tray: Notifier | None = None) -> bool:
    """Show a notification: through the tray icon where it can (pystray: a Windows
    notification from the app's own icon), else on Linux with notify-send. Blocking for up
    to a few seconds: call it off the UI thread. ``message`` must hold no secret."""
    if tray is not None and tray.notify(title, message):
        return True
    if sys.platform == "win32":
        log.info("no tray icon for the notification: %s", title)
        return False
    tool = shutil.which("notify-send")
    if tool is None:
        return False
    try:
        subprocess.run(
            [tool, "--app-name=LiteLLM Bridge", "--urgency=critical", title, message],
            timeout=5,
            check=False,
            capture_output=True,
        )
    except (OSError, subprocess.SubprocessError):
        log.info("no desktop notification: %s", title)
        return False
    return True
