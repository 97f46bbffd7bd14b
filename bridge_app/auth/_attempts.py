"""Failed logins per *name*, whether or not an account has that name.

Keeping the count per name (table ``login_attempts``), for known and unknown names alike
and in the database every process on the data folder shares, means throttling and
locking tell an attacker nothing about which accounts exist, and a lock holds across
restarts and across the window, ``serve`` and one-off commands. The account's own
``users.failed_logins`` / ``locked_until`` columns are kept in step for display (user
list); the statements run are the same whether or not the account exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, case, delete, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge_app.auth._policy import ThrottlePolicy
from bridge_app.store import Database, tables

_attempts = tables["login_attempts"]
_users = tables["users"]
_FORGET_AFTER_S = 24 * 3600  # an unlocked name's count is dropped after a quiet day


@dataclass(frozen=True)
class Failure:
    failures: int  # this one included (0 while the name is locked)
    locked: bool  # this failure locked the name
    locked_for: float | None = None  # seconds the name stays locked, whoever locked it


class LoginAttempts:
    def __init__(
        self, *, db: Database, throttle: ThrottlePolicy, clock: Callable[[], float]
    ) -> None:
        self._db = db
        self._throttle = throttle
        self._clock = clock

    def locked_for(self, name: str) -> float | None:
        """Seconds the name stays locked, or None."""
        now = self._clock()
        with self._db.reading() as conn:
            until = conn.execute(
                select(_attempts.c.locked_until).where(_attempts.c.name == name)
            ).scalar_one_or_none()
        return until - now if until is not None and until > now else None

    def record_failure(self, name: str) -> Failure:
        """Count one failure in ONE statement, so that failures recorded at the same time
        by other processes (several logins checked in parallel) can only ever keep or set
        a lock, never clear one: while the name is locked, a failure changes nothing."""
        now = self._clock()
        limit = self._throttle.max_failures
        lock_until = now + self._throttle.lock_seconds
        row = _attempts.c
        still_locked = row.locked_until > now
        counted = row.failures + 1
        insert = sqlite_insert(_attempts).values(
            name=name,
            failures=0 if limit <= 1 else 1,
            locked_until=lock_until if limit <= 1 else None,
            updated_at=now,
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[row.name],
            set_={
                "failures": case(
                    (still_locked, row.failures), (counted >= limit, 0), else_=counted
                ),
                "locked_until": case(
                    (still_locked, row.locked_until), (counted >= limit, lock_until), else_=None
                ),
                "updated_at": now,
            },
        ).returning(_attempts.c.failures, _attempts.c.locked_until)
        with self._db.transaction() as conn:
            kept, until = conn.execute(stmt).one()
            # Matches no row for an unknown name: the same work either way.
            conn.execute(
                update(_users)
                .where(_users.c.username == name)
                .values(failed_logins=kept, locked_until=until)
            )
            conn.execute(
                delete(_attempts).where(
                    _attempts.c.updated_at < now - _FORGET_AFTER_S,
                    or_(_attempts.c.locked_until.is_(None), _attempts.c.locked_until < now),
                )
            )
        locked_now = until is not None and until == lock_until
        remaining = until - now if until is not None and until > now else None
        return Failure(limit if locked_now else int(kept), locked_now, remaining)

    @staticmethod
    def clear(conn: Connection, name: str) -> None:
        """After a successful login, an admin reset, or when an account gets the name."""
        conn.execute(delete(_attempts).where(_attempts.c.name == name))
