"""Password rules, hashing cost and login throttling: injectable so tests can be fast,
with production defaults that follow RFC 9106 and common guidance (NIST SP 800-63B)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from bridge_app.auth._common_passwords import COMMON_PASSWORDS
from bridge_app.auth._errors import PasswordPolicyError
from bridge_app.crypto import KdfParams

MAX_PASSWORD_LENGTH = 1024  # argon2 is happy with more; this only bounds the work per login


def normalize_password(password: str) -> str:
    """NFC (RFC 8265 OpaqueString): the same visible password typed on another keyboard
    or OS still matches."""
    return unicodedata.normalize("NFC", password)


@dataclass(frozen=True)
class PasswordPolicy:
    """What a new password must satisfy, and what hashing it costs.

    ``kdf`` is used both for the stored argon2id hash and for deriving the key that wraps
    the account's data key. The default is RFC 9106's second recommended option.
    """

    min_length: int = 10
    kdf: KdfParams = field(default_factory=KdfParams)
    common_passwords: frozenset[str] = COMMON_PASSWORDS

    def check(self, password: str, *, username: str, display_name: str = "") -> None:
        if not isinstance(password, str) or not password:
            raise PasswordPolicyError("The password is empty.")
        password = normalize_password(password)
        if len(password) < self.min_length:
            raise PasswordPolicyError(
                f"The password is too short: use at least {self.min_length} characters "
                "(a few unrelated words work well)."
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise PasswordPolicyError(
                f"The password is too long (at most {MAX_PASSWORD_LENGTH} characters)."
            )
        folded = password.casefold()
        for name in {username.casefold(), display_name.strip().casefold()}:
            if name and name in folded:
                raise PasswordPolicyError("The password must not contain the username.")
        if folded in self.common_passwords:
            raise PasswordPolicyError(
                "This password is on the list of commonly used passwords: choose another."
            )


@dataclass(frozen=True)
class ThrottlePolicy:
    """Failed logins per account: a growing pause after each failure and, after
    ``max_failures`` in a row, a lock of ``lock_seconds`` (kept in the database)."""

    max_failures: int = 5
    lock_seconds: float = 15 * 60
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 4.0

    def delay_after(self, failures: int) -> float:
        if failures <= 0 or self.base_delay_seconds <= 0:
            return 0.0
        return float(min(self.base_delay_seconds * 2 ** (failures - 1), self.max_delay_seconds))
