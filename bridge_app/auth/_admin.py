"""Admin operations on accounts. Every one is ``@admin_only`` and keeps at least one
enabled admin; each is recorded in the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from bridge_app.auth._attempts import LoginAttempts
from bridge_app.auth._errors import (
    AuthError,
    LastAdminError,
    UserExistsError,
    UserNotFoundError,
)
from bridge_app.auth._guard import admin_only
from bridge_app.auth._names import (
    normalize_username,
    validate_display_name,
    validate_username,
)
from bridge_app.auth._policy import normalize_password
from bridge_app.auth._records import (
    ResetResult,
    UserInfo,
    count_enabled_admins,
    fetch_user,
    key_material,
    users,
    utc_now_iso,
)
from bridge_app.auth._session import Session
from bridge_app.crypto import new_data_key
from bridge_app.store import Topic, tables

if TYPE_CHECKING:
    from bridge_app.auth._guard import AccessGuard, AuditRecorder
    from bridge_app.auth._hashing import PasswordHashing
    from bridge_app.auth._policy import PasswordPolicy
    from bridge_app.store import Database

ROLES = ("admin", "user")


class UserAdminMixin:
    _db: Database
    _audit: AuditRecorder
    _guard: AccessGuard
    _hashing: PasswordHashing
    _policy: PasswordPolicy

    def _insert_user(
        self,
        conn: Connection,
        normalized: str,
        display: str,
        password: str,
        role: str,
        must_change: bool,
    ) -> UserInfo:
        if fetch_user(conn, normalized) is not None:
            raise UserExistsError(
                f"An account named {normalized!r} already exists (names are compared "
                "ignoring upper/lower case and character width)."
            )
        now = utc_now_iso()
        LoginAttempts.clear(conn, normalized)  # failures typed before the account existed
        inserted = conn.execute(
            insert(users).values(
                username=normalized,
                display_name=display,
                role=role,
                password_hash="!",  # noqa: S106 - placeholder, replaced in this transaction
                enabled=1,
                must_change_password=int(must_change),
                failed_logins=0,
                created_at=now,
                updated_at=now,
            )
        )
        user_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
        material = key_material(self._hashing, password, user_id=user_id, data_key=new_data_key())
        conn.execute(update(users).where(users.c.id == user_id).values(**material))
        return UserInfo.from_row(fetch_user(conn, normalized))

    @admin_only
    def list_users(self, session: Session) -> list[UserInfo]:
        with self._db.reading() as conn:
            rows = conn.execute(select(users).order_by(users.c.username)).all()
        return [UserInfo.from_row(r) for r in rows]

    @admin_only
    def create_user(
        self,
        session: Session,
        username: str,
        password: str,
        *,
        role: str = "user",
        display_name: str | None = None,
    ) -> UserInfo:
        """The new account must change this initial password at its first login."""
        _check_role(role)
        normalized, display = validate_username(username)
        display = validate_display_name(display_name, display)
        password = normalize_password(password)
        self._policy.check(password, username=normalized, display_name=display)
        with self._db.transaction() as conn:
            self._db.changed(Topic.USERS)
            info = self._insert_user(conn, normalized, display, password, role, True)
        self._audit.record(session, "user.create", normalized, "ok", f"role {role}")
        return info

    @admin_only
    def disable_user(self, session: Session, username: str) -> UserInfo:
        with self._db.transaction() as conn:
            self._db.changed(Topic.USERS)
            row = _target(conn, username)
            if row.role == "admin" and row.enabled:
                _keep_an_admin(conn, row, "disable this account")
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(enabled=0, updated_at=utc_now_iso())
            )
            info = UserInfo.from_row(fetch_user(conn, row.username))
        self._audit.record(session, "user.disable", row.username, "ok", "")
        return info

    @admin_only
    def enable_user(self, session: Session, username: str) -> UserInfo:
        with self._db.transaction() as conn:
            self._db.changed(Topic.USERS)
            row = _target(conn, username)
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(enabled=1, updated_at=utc_now_iso())
            )
            info = UserInfo.from_row(fetch_user(conn, row.username))
        self._audit.record(session, "user.enable", row.username, "ok", "")
        return info

    @admin_only
    def delete_user(self, session: Session, username: str) -> None:
        """Deletes the account with its secrets, env entries and projects; audit events
        that name it stay."""
        with self._db.transaction() as conn:
            self._db.changed(Topic.USERS)
            row = _target(conn, username)
            if row.role == "admin" and row.enabled:
                _keep_an_admin(conn, row, "delete this account")
            conn.execute(delete(users).where(users.c.id == row.id))
        self._audit.record(session, "user.delete", row.username, "ok", f"role {row.role}")

    @admin_only
    def set_role(self, session: Session, username: str, role: str) -> UserInfo:
        _check_role(role)
        with self._db.transaction() as conn:
            self._db.changed(Topic.USERS)
            row = _target(conn, username)
            if row.role == "admin" and role != "admin" and row.enabled:
                _keep_an_admin(conn, row, "remove the admin role from this account")
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(role=role, updated_at=utc_now_iso())
            )
            info = UserInfo.from_row(fetch_user(conn, row.username))
        self._audit.record(session, "user.role_change", row.username, "ok", f"{row.role} -> {role}")
        return info

    @admin_only
    def reset_password(self, session: Session, username: str, new_password: str) -> ResetResult:
        """Set a temporary password the user must change at the next login.

        The admin cannot know the old password, so the old data key cannot be unwrapped:
        the account gets a new data key, and its secrets and personal env entries (sealed
        with the old key, now unreadable) are deleted. The returned ResetResult says so.
        """
        new_password = normalize_password(new_password)
        with self._db.reading() as conn:
            row = _target(conn, username)
        if row.id == session.user_id:
            raise AuthError(
                "Use Change password for your own account: a reset would delete your "
                "stored secrets."
            )
        self._policy.check(new_password, username=row.username, display_name=row.display_name)
        secrets, env = tables["secrets"], tables["env_entries"]
        with self._db.transaction() as conn:
            self._db.changed(Topic.USERS)
            LoginAttempts.clear(conn, row.username)
            removed_secrets = conn.execute(delete(secrets).where(secrets.c.owner_id == row.id))
            removed_env = conn.execute(delete(env).where(env.c.owner_id == row.id))
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(
                    must_change_password=1,
                    failed_logins=0,
                    locked_until=None,
                    updated_at=utc_now_iso(),
                    **key_material(
                        self._hashing, new_password, user_id=row.id, data_key=new_data_key()
                    ),
                )
            )
        result = ResetResult(row.username, removed_secrets.rowcount, removed_env.rowcount)
        self._audit.record(
            session,
            "user.password_reset",
            row.username,
            "ok",
            f"new data key; removed {result.removed_secrets} secret(s), "
            f"{result.removed_env_entries} env entr(y/ies)",
        )
        return result


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"Unknown role {role!r}: use 'admin' or 'user'.")


def _target(conn: Connection, username: str) -> Any:
    row = fetch_user(conn, normalize_username(username.strip())) if username else None
    if row is None:
        raise UserNotFoundError(f"There is no account named {username.strip()!r}.")
    return row


def _keep_an_admin(conn: Connection, row: Any, what: str) -> None:
    if count_enabled_admins(conn, excluding=row.id) == 0:
        raise LastAdminError(what)
