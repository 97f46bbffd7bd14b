"""Desktop notifications for things the user must act on while looking elsewhere (a
blocked token refresh). Best effort: the same message is always on screen too."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

log = logging.getLogger(__name__)


def desktop_notify(title: str, message: str) -> bool:
    """Show a notification through the desktop (notify-send on Linux; a PowerShell
    balloon on Windows). Blocking for up to a few seconds: call it off the UI thread.
    ``message`` must hold no secret (it is on the command line)."""
    try:
        if sys.platform == "win32":
            script = (
                "Add-Type -AssemblyName System.Windows.Forms;"
                "$n=New-Object System.Windows.Forms.NotifyIcon;"
                "$n.Icon=[System.Drawing.SystemIcons]::Warning;$n.Visible=$true;"
                "$n.ShowBalloonTip(10000,$args[0],$args[1],'Warning');Start-Sleep 10;$n.Dispose()"
            )
            subprocess.Popen(
                ["powershell", "-NoProfile", "-Command", script, title, message],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            return True
        tool = shutil.which("notify-send")
        if tool is None:
            return False
        subprocess.run(
            [tool, "--app-name=LiteLLM Bridge", "--urgency=critical", title, message],
            timeout=5,
            check=False,
            capture_output=True,
        )
        return True
    except (OSError, subprocess.SubprocessError):
        log.info("no desktop notification: %s", title)
        return False
