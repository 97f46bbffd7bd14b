"""Login, logout, password change and idle unlock; the admin operations live in _admin."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn

from sqlalchemy import update

from bridge_app.auth._admin import UserAdminMixin
from bridge_app.auth._attempts import LoginAttempts
from bridge_app.auth._errors import (
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    AuthError,
    NoAdminError,
    PasswordPolicyError,
    SessionEndedError,
)
from bridge_app.auth._guard import AccessGuard, AuditRecorder
from bridge_app.auth._hashing import PasswordHashing, kdf_params_of
from bridge_app.auth._names import validate_display_name, validate_username
from bridge_app.auth._policy import (
    MAX_PASSWORD_LENGTH,
    PasswordPolicy,
    ThrottlePolicy,
    normalize_password,
)
from bridge_app.auth._records import (
    UserInfo,
    count_enabled_admins,
    fetch_user,
    key_material,
    users,
    utc_now_iso,
)
from bridge_app.auth._session import Session
from bridge_app.crypto import CryptoError, derive_wrapping_key, unwrap_data_key
from bridge_app.settings import SettingsService
from bridge_app.store import Database

_UNKNOWN_TARGET = "(unknown account)"


class AuthService(UserAdminMixin):
    """Local accounts: first admin, login with throttling, sessions, password changes, and
    (from UserAdminMixin) the admin operations.

    Login does not reveal which accounts exist: a name that does not exist goes through
    the same steps as a wrong password for one that does (one argon2 verification, against
    a dummy hash of the same cost; the same database statements; the same pause, lock
    and words), and its failures are counted per name in the shared database
    (``LoginAttempts``), so the lock holds across processes.
    """

    def __init__(
        self,
        *,
        db: Database,
        audit: AuditRecorder,
        settings: SettingsService,
        policy: PasswordPolicy | None = None,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = db
        self._audit = audit
        self._settings = settings
        self._policy = policy or PasswordPolicy()
        self._throttle = throttle or ThrottlePolicy()
        self._hashing = PasswordHashing(self._policy.kdf)
        self._clock = clock
        self._sleep = sleep
        self._guard = AccessGuard(db=db, audit=audit)
        self._attempts = LoginAttempts(db=db, throttle=self._throttle, clock=clock)

    @property
    def guard(self) -> AccessGuard:
        """For other services: ``auth.guard.require(session)`` before personal work."""
        return self._guard

    @property
    def policy(self) -> PasswordPolicy:
        return self._policy

    # -- first run ---------------------------------------------------------------------

    def has_admin(self) -> bool:
        with self._db.reading() as conn:
            return count_enabled_admins(conn) > 0

    def require_admin_exists(self) -> None:
        if not self.has_admin():
            raise NoAdminError()

    def create_first_admin(
        self, username: str, password: str, *, display_name: str | None = None
    ) -> UserInfo:
        """Only while no admin exists: the bootstrap of a new installation."""
        normalized, display = validate_username(username)
        display = validate_display_name(display_name, display)
        password = normalize_password(password)
        self._policy.check(password, username=normalized, display_name=display)
        with self._db.transaction() as conn:
            if count_enabled_admins(conn) > 0:
                raise AuthError(
                    "An admin account already exists.",
                    hint="Log in as that admin to create more accounts.",
                )
            info = self._insert_user(conn, normalized, display, password, "admin", False)
        self._audit.record(normalized, "user.create", normalized, "ok", "first admin")
        return info

    # -- login / logout ------------------------------------------------------------------

    def login(self, username: str, password: str) -> Session:
        self.require_admin_exists()
        row, password = self._authenticate(username, password, action="auth.login")
        data_key = self._open_data_key(row, password)
        with self._db.transaction() as conn:
            LoginAttempts.clear(conn, row.username)
            values: dict[str, Any] = {
                "failed_logins": 0,
                "locked_until": None,
                "last_login_at": utc_now_iso(),
            }
            if self._hashing.needs_rehash(row.password_hash):
                # New cost: rewrite hash and wrapping together (see _hashing's invariant).
                values.update(
                    key_material(self._hashing, password, user_id=row.id, data_key=data_key)
                )
            conn.execute(
                update(users)
                .where(users.c.id == row.id, users.c.password_hash == row.password_hash)
                .values(**values)
            )
        self._audit.record(row.username, "auth.login", row.username, "ok", "")
        return Session(
            user_id=row.id,
            username=row.username,
            role="admin" if row.role == "admin" else "user",
            must_change_password=bool(row.must_change_password),
            data_key=data_key,
            display_name=row.display_name,
            idle_lock_minutes=self._idle_minutes(),
            _unlocker=self._unlock,
        )

    def logout(self, session: Session) -> None:
        if session.ended:
            return
        session._end()
        self._audit.record(session.username, "auth.logout", session.username, "ok", "")

    def whoami(self, session: Session) -> UserInfo:
        self._guard.require(session, allow_must_change=True)
        with self._db.reading() as conn:
            return UserInfo.from_row(fetch_user(conn, session.username))

    def confirm_password(self, session: Session, password: str) -> None:
        """Prove it is still this person (before revealing a secret): throttled and audited
        like a login; raises AuthenticationError on a wrong password."""
        self._guard.require(session, allow_must_change=True)
        self._unlock(session, password, action="auth.confirm")

    def _unlock(self, session: Session, password: str, action: str = "auth.unlock") -> None:
        row, _ = self._authenticate(session.username, password, action=action)
        if row.id != session.user_id:
            raise AuthenticationError()
        if row.must_change_password and not session.must_change_password:
            session._end()  # reset by an admin meanwhile: the session's data key is stale
            raise SessionEndedError("An admin reset this account's password: log in again.")
        self._audit.record(row.username, action, row.username, "ok", "")

    def change_password(self, session: Session, current_password: str, new_password: str) -> None:
        """Change one's own password; the data key is kept (re-wrapped), so stored secrets
        stay readable. Allowed while the password must be changed."""
        self._guard.require(session, allow_must_change=True)
        new_password = normalize_password(new_password)
        self._policy.check(
            new_password, username=session.username, display_name=session.display_name
        )
        row, current = self._authenticate(
            session.username, current_password, action="auth.password_change"
        )
        if new_password == current:
            raise PasswordPolicyError("The new password must differ from the current one.")
        # The stored key, not the session's: an admin reset may have replaced it meanwhile.
        data_key = self._open_data_key(row, current)
        with self._db.transaction() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(
                    must_change_password=0,
                    updated_at=utc_now_iso(),
                    **key_material(self._hashing, new_password, user_id=row.id, data_key=data_key),
                )
            )
        session.data_key = data_key
        session.must_change_password = False
        self._audit.record(session, "auth.password_change", session.username, "ok", "")

    # -- the checks shared by login, unlock and password change ------------------------

    def _authenticate(self, username: str, password: str, *, action: str) -> tuple[Any, str]:
        # Known and unknown names take the same steps in the same order; only the hash
        # verified differs (the account's, or a dummy of the same cost).
        try:
            normalized, _ = validate_username(username)
        except AuthError:
            normalized = ""  # no account can have such a name: all share one count
        password = normalize_password(password) if isinstance(password, str) else ""
        with self._db.reading() as conn:
            row = fetch_user(conn, normalized) if normalized else None
        locked_for = self._attempts.locked_for(normalized)
        if locked_for is not None:
            self._record_failure_event(row, action, "account locked", outcome="denied")
            raise AccountLockedError(locked_for)
        if not self._verify(row, password) or row is None:
            self._fail(normalized, row, action)
        if not row.enabled:
            self._audit.record(row.username, action, row.username, "denied", "account disabled")
            raise AccountDisabledError()
        return row, password

    def _verify(self, row: Any, password: str) -> bool:
        if len(password) > MAX_PASSWORD_LENGTH:
            return False  # refused before hashing, whoever the name belongs to
        if row is None:
            self._hashing.verify_dummy(password)
            return False
        return self._hashing.verify(row.password_hash, password)

    def _fail(self, normalized: str, row: Any, action: str) -> NoReturn:
        failure = self._attempts.record_failure(normalized)
        limit = self._throttle.max_failures
        if failure.locked:
            detail = (
                f"wrong password ({failure.failures} of {limit}); account locked for "
                f"{round(self._throttle.lock_seconds / 60)} min"
            )
        elif failure.locked_for is not None:  # another login locked it meanwhile
            detail = "wrong password; the account was already locked"
        else:
            detail = f"wrong password ({failure.failures} of {limit})"
        self._record_failure_event(row, action, detail, outcome="failed")
        self._sleep(self._throttle.delay_after(failure.failures or limit))
        if failure.locked_for is not None:
            raise AccountLockedError(failure.locked_for)
        raise AuthenticationError()

    def _record_failure_event(self, row: Any, action: str, detail: str, *, outcome: str) -> None:
        if row is not None:
            self._audit.record(row.username, action, row.username, outcome, detail)
        else:
            # Never the typed name: it is often a password typed into the wrong field.
            detail = detail.replace("wrong password", "no such account")
            self._audit.record("(unknown)", action, _UNKNOWN_TARGET, outcome, detail)

    def _open_data_key(self, row: Any, password: str) -> bytes:
        try:
            wrapping = derive_wrapping_key(password, row.key_salt, kdf_params_of(row.password_hash))
            return unwrap_data_key(wrapping, row.wrapped_data_key, user_id=row.id)
        except (CryptoError, TypeError, ValueError) as exc:
            raise AuthError(
                "Your personal data key cannot be opened: the account's key record is damaged.",
                hint="Ask an admin to reset your password (stored secrets will be lost).",
            ) from exc

    def _idle_minutes(self) -> float:
        try:
            return float(self._settings.get("ui.idle_lock_minutes", 15))
        except (TypeError, ValueError):
            return 15.0
