"""WPAD: the PAC file found by the machine's own DNS name (``wpad.<its domain>``), as
browsers do when "Automatically detect settings" is on.

The search is pypac's (``proxy_urls_from_dns``: from ``wpad.sub.corp.example`` up to
``wpad.corp.example``, never past the organisation's domain by the Public Suffix List);
the first candidate that answers with a PAC file wins. Windows' own switch is read from
the per-user connection settings (the flag byte of ``DefaultConnectionSettings``)."""

from __future__ import annotations

import logging
import socket
import sys

log = logging.getLogger(__name__)

#: The value of the PROXY_PAC_URL entry that asks for discovery instead of an address.
WPAD = "wpad"
_AUTO_DETECT_FLAG = 0x08  # byte 8 of DefaultConnectionSettings: "Automatically detect"


def candidates(hostname: str | None = None) -> tuple[list[str], str]:
    """(the URLs to try, in order; the machine name they come from)."""
    from pypac.wpad import proxy_urls_from_dns

    name = hostname or socket.getfqdn()
    return list(proxy_urls_from_dns(name)), name


def windows_auto_detect() -> bool:
    """Whether Windows' "Automatically detect settings" is on for this user."""
    if sys.platform != "win32":
        return False
    import winreg

    path = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections"
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path) as key:
            value, _kind = winreg.QueryValueEx(key, "DefaultConnectionSettings")
    except OSError as exc:  # no key: the switch was never touched (off)
        log.debug("no DefaultConnectionSettings: %s", exc)
        return False
    return isinstance(value, bytes) and len(value) > 8 and bool(value[8] & _AUTO_DETECT_FLAG)
