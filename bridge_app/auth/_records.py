"""Rows of the users table as values, and the key material written with a password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from bridge_app.auth._hashing import PasswordHashing
from bridge_app.crypto import derive_wrapping_key, new_salt, wrap_data_key
from bridge_app.store import tables

users = tables["users"]


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class UserInfo:
    """What an admin screen may show about an account (never a hash or a key)."""

    id: int
    username: str
    display_name: str
    role: str
    enabled: bool
    must_change_password: bool
    failed_logins: int
    locked_until: float | None  # wall clock (time.time()), or None
    created_at: str
    last_login_at: str | None

    def is_locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @classmethod
    def from_row(cls, row: Any) -> UserInfo:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            enabled=bool(row.enabled),
            must_change_password=bool(row.must_change_password),
            failed_logins=row.failed_logins,
            locked_until=row.locked_until,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
        )


@dataclass(frozen=True)
class ResetResult:
    """What an admin password reset did. The old data key is gone, so the account's
    stored secrets and personal env entries could no longer be opened: they were deleted
    and ``notice`` says so in words to show the admin."""

    username: str
    removed_secrets: int
    removed_env_entries: int

    @property
    def notice(self) -> str:
        if not (self.removed_secrets or self.removed_env_entries):
            return (
                f"{self.username} must choose a new password at the next login. "
                "They had no stored secrets."
            )
        return (
            f"{self.username} must choose a new password at the next login. Their stored "
            f"secrets could no longer be decrypted and were deleted: {self.removed_secrets} "
            f"secret(s) (tokens, credentials) and {self.removed_env_entries} personal "
            "environment entr(y/ies). They must enter or fetch them again."
        )


def fetch_user(conn: Connection, normalized: str) -> Any:
    return conn.execute(select(users).where(users.c.username == normalized)).first()


def count_enabled_admins(conn: Connection, *, excluding: int | None = None) -> int:
    stmt = (
        select(func.count()).select_from(users).where(users.c.role == "admin", users.c.enabled == 1)
    )
    if excluding is not None:
        stmt = stmt.where(users.c.id != excluding)
    return int(conn.execute(stmt).scalar_one())


def key_material(
    hashing: PasswordHashing, password: str, *, user_id: int, data_key: bytes
) -> dict[str, Any]:
    """A fresh hash plus the data key wrapped with the same argon2 cost (see _hashing)."""
    salt = new_salt()
    wrapping = derive_wrapping_key(password, salt, hashing.params)
    return {
        "password_hash": hashing.hash(password),
        "key_salt": salt,
        "wrapped_data_key": wrap_data_key(wrapping, data_key, user_id=user_id),
    }
