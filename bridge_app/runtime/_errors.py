from __future__ import annotations


class BridgeError(Exception):
    """An error a person can act on: one plain sentence plus, where known, a hint.

    Front ends print ``str(err)`` (and ``err.hint``) instead of a traceback; anything that
    is not a BridgeError is a bug and is logged with its traceback.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message
