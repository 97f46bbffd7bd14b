from __future__ import annotations

from bridge_app.runtime import BridgeError


class IamError(BridgeError):
    """The IAM did not give us a usable token; ``rejected`` means the credentials were
    refused (never retry those automatically: it would lock the employee's account)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        rejected: bool = False,
        reason: str = "",
    ):
        super().__init__(message, hint=hint)
        self.rejected = rejected
        self.reason = reason  # the IAM's own words, when it gave any
