"""Local accounts: argon2id hashes, roles, login throttling, sessions and idle lock."""

from bridge_app.auth._errors import (
    FIRST_ADMIN_COMMAND,
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    AuthError,
    LastAdminError,
    NoAdminError,
    PasswordChangeRequiredError,
    PasswordPolicyError,
    PermissionDeniedError,
    SessionEndedError,
    SessionLockedError,
    UserExistsError,
    UsernameError,
    UserNotFoundError,
)
from bridge_app.auth._guard import (
    AccessGuard,
    AuditRecorder,
    admin_only,
    admin_operations,
    is_admin_only,
)
from bridge_app.auth._names import MAX_USERNAME_LENGTH, normalize_username, validate_username
from bridge_app.auth._policy import PasswordPolicy, ThrottlePolicy
from bridge_app.auth._records import ResetResult, UserInfo
from bridge_app.auth._service import AuthService
from bridge_app.auth._session import Role, Session

__all__ = [
    "FIRST_ADMIN_COMMAND",
    "MAX_USERNAME_LENGTH",
    "AccessGuard",
    "AccountDisabledError",
    "AccountLockedError",
    "AuditRecorder",
    "AuthError",
    "AuthService",
    "AuthenticationError",
    "LastAdminError",
    "NoAdminError",
    "PasswordChangeRequiredError",
    "PasswordPolicy",
    "PasswordPolicyError",
    "PermissionDeniedError",
    "ResetResult",
    "Role",
    "Session",
    "SessionEndedError",
    "SessionLockedError",
    "ThrottlePolicy",
    "UserExistsError",
    "UserInfo",
    "UserNotFoundError",
    "UsernameError",
    "admin_only",
    "admin_operations",
    "is_admin_only",
    "normalize_username",
    "validate_username",
]
