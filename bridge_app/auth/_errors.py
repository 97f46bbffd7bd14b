from __future__ import annotations

from bridge_app.runtime import BridgeError

FIRST_ADMIN_COMMAND = "litellm-bridge user create --admin"


class AuthError(BridgeError):
    """Base for every refusal from the auth service."""


class NoAdminError(AuthError):
    def __init__(self) -> None:
        super().__init__(
            f"no admin account yet: run `{FIRST_ADMIN_COMMAND}`",
            hint="The first account created on a new installation must be an admin.",
        )


class AuthenticationError(AuthError):
    """Wrong username or password: the same words whichever of the two was wrong."""

    def __init__(self) -> None:
        super().__init__("Wrong username or password.")


class AccountLockedError(AuthError):
    def __init__(self, seconds_left: float) -> None:
        minutes = max(1, round(seconds_left / 60))
        super().__init__(
            f"Too many failed logins: this account is locked for about {minutes} more "
            f"minute{'s' if minutes != 1 else ''}.",
            hint="Wait and try again, or ask an admin to reset the password.",
        )
        self.seconds_left = seconds_left


class AccountDisabledError(AuthError):
    def __init__(self) -> None:
        super().__init__("This account is disabled.", hint="Ask an admin to enable it again.")


class PermissionDeniedError(AuthError):
    def __init__(self, operation: str) -> None:
        super().__init__(
            f"Permission denied: {operation} needs an admin account.",
            hint="Ask an admin to do it, or to give your account the admin role.",
        )
        self.operation = operation


class SessionLockedError(AuthError):
    def __init__(self) -> None:
        super().__init__("The session is locked after being idle: enter your password to continue.")


class SessionEndedError(AuthError):
    """The session was logged out, or its account was disabled or deleted meanwhile."""


class PasswordChangeRequiredError(AuthError):
    def __init__(self) -> None:
        super().__init__(
            "You must change your password before doing anything else.",
            hint="Run `litellm-bridge user passwd` or use the Change password screen.",
        )


class PasswordPolicyError(AuthError):
    pass


class UsernameError(AuthError):
    pass


class UserExistsError(AuthError):
    pass


class UserNotFoundError(AuthError):
    pass


class LastAdminError(AuthError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"Cannot {what}: it is the last enabled admin account.",
            hint="Create or enable another admin first.",
        )
