"""What `token status`, the Token screen and the Dashboard say of the internal token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bridge_app.tokens._inject import Project

TokenState = Literal["none", "valid", "expiring", "expired", "failed"]


@dataclass(frozen=True)
class TokenStatus:
    state: TokenState
    employee_id: str | None
    expires_at: float | None
    seconds_left: int | None
    remembered: bool  # the employee password is stored, so refresh is automatic
    refresh_blocked: bool  # the IAM rejected the password: waiting for the user
    last_error: str | None
    project: Project | None
    refresh: str = "off"  # how it renews: "refresh token", "password", "service account", "off"
    next_refresh_at: float | None = None  # when the next automatic refresh is due
    action: str | None = None  # what the user should do, when something is wrong

    def describe(self) -> str:
        if self.refresh_blocked:
            return f"Automatic refresh is blocked: {self.last_error}"
        if self.state == "none":
            return "No internal token yet."
        if self.state == "failed":
            return f"Token request failed: {self.last_error}"
        if self.state == "expired":
            return "The internal token has expired: log in again."
        assert self.seconds_left is not None
        minutes, seconds = divmod(self.seconds_left, 60)
        hours, minutes = divmod(minutes, 60)
        left = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"
        soon = " (expiring soon)" if self.state == "expiring" else ""
        retry = f"; the last refresh failed: {self.last_error}" if self.last_error else ""
        return f"Valid for {left}{soon}{retry}"

    def to_json(self) -> dict[str, Any]:
        """What `token status --json` prints (never the token)."""
        data = {k: v for k, v in self.__dict__.items() if k != "project"}
        return data | {"project": self.project.project_id if self.project else None}
