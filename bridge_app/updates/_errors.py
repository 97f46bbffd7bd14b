"""What the rest of the updates package shares without importing python-tuf (which, with
securesystemslib and urllib3, costs a noticeable part of every start of every command)."""

from __future__ import annotations

from collections.abc import Callable

from bridge_app.runtime import BridgeError

CHANNEL_TARGET = "channels/stable.json"
Progress = Callable[[int, int], None]  # (bytes so far, total)


class UpdateError(BridgeError):
    pass
