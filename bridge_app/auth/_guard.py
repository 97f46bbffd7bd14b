"""Role checks in the services, whichever front end calls them.

Decorate a service method whose first argument after ``self`` is the caller's Session
with ``@admin_only``; the class must have a ``_guard: AccessGuard`` attribute. The
decorator refuses a non-admin before the method body runs, records the refusal in the
audit log, and registers the method so tests can enumerate every admin operation.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import select

from bridge_app.auth._errors import (
    PasswordChangeRequiredError,
    PermissionDeniedError,
    SessionEndedError,
    SessionLockedError,
)
from bridge_app.auth._session import Session
from bridge_app.store import Database, tables

_users = tables["users"]
_ADMIN_MARK = "__bridge_admin_only__"

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


class AuditRecorder(Protocol):
    """What auth needs from the audit log (bridge_app.audit.AuditLog satisfies it)."""

    def record(
        self, actor: Session | str | None, action: str, target: str, outcome: str, detail: str = ""
    ) -> object: ...


class AccessGuard:
    """Checks a Session against the database on every call, so that a disable, delete or
    demotion takes effect at once, not at the next login."""

    def __init__(self, *, db: Database, audit: AuditRecorder | None = None) -> None:
        self._db = db
        self._audit = audit

    def require(self, session: Session, *, allow_must_change: bool = False) -> None:
        if not isinstance(session, Session) or session.ended:
            raise SessionEndedError("This session has ended: log in again.")
        if session.is_locked():
            raise SessionLockedError()
        with self._db.reading() as conn:
            row = conn.execute(
                select(_users.c.enabled, _users.c.role, _users.c.must_change_password).where(
                    _users.c.id == session.user_id
                )
            ).first()
        if row is None or not row.enabled:
            session._end()
            raise SessionEndedError("This account was disabled or deleted: the session has ended.")
        if row.must_change_password and not session.must_change_password:
            # An admin reset the password: this session holds the replaced data key.
            session._end()
            raise SessionEndedError("An admin reset this account's password: log in again.")
        session.role = "admin" if row.role == "admin" else "user"
        if session.must_change_password and not allow_must_change:
            raise PasswordChangeRequiredError()
        # No session.touch() here: a screen polling a service every few seconds would
        # otherwise keep an unattended session unlocked forever. Input events touch it.

    def require_admin(self, session: Session, *, operation: str) -> None:
        self.require(session)
        if not session.is_admin:
            if self._audit is not None:
                self._audit.record(session, "access.denied", operation, "denied", "admin only")
            raise PermissionDeniedError(operation)


def admin_only(
    method: Callable[Concatenate[S, Session, P], R],
) -> Callable[Concatenate[S, Session, P], R]:
    operation = method.__name__.replace("_", " ")

    @functools.wraps(method)
    def wrapper(self: S, session: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        guard: AccessGuard = getattr(self, "_guard")  # noqa: B009 - documented contract
        guard.require_admin(session, operation=operation)
        return method(self, session, *args, **kwargs)

    setattr(wrapper, _ADMIN_MARK, True)
    return wrapper


def admin_operations(service: object) -> list[str]:
    """Names of every ``@admin_only`` method of a service (or service class)."""
    cls = service if inspect.isclass(service) else type(service)
    return sorted(
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if getattr(member, _ADMIN_MARK, False)
    )


def is_admin_only(func: Any) -> bool:
    return bool(getattr(func, _ADMIN_MARK, False))
