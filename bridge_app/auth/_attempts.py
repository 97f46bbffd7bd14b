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

from sqlalchemy import Connection, delete, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge_app.auth._policy import ThrottlePolicy
from bridge_app.store import Database, tables

_attempts = tables["login_attempts"]
_users = tables["users"]
_FORGET_AFTER_S = 24 * 3600  # an unlocked name's count is dropped after a quiet day


@dataclass(frozen=True)
class Failure:
    failures: int  # this one included
    locked: bool  # this failure locked the name


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
        now = self._clock()
        limit = self._throttle.max_failures
        with self._db.transaction() as conn:
            row = conn.execute(
                select(_attempts.c.failures, _attempts.c.locked_until).where(
                    _attempts.c.name == name
                )
            ).first()
            failures = (int(row.failures) if row is not None else 0) + 1
            locks = failures >= limit
            locked_until = now + self._throttle.lock_seconds if locks else None
            kept = 0 if locks else failures
            stmt = sqlite_insert(_attempts).values(
                name=name, failures=kept, locked_until=locked_until, updated_at=now
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[_attempts.c.name],
                    set_={"failures": kept, "locked_until": locked_until, "updated_at": now},
                )
            )
            # Matches no row for an unknown name: the same work either way.
            conn.execute(
                update(_users)
                .where(_users.c.username == name)
                .values(failed_logins=kept, locked_until=locked_until)
            )
            conn.execute(
                delete(_attempts).where(
                    _attempts.c.updated_at < now - _FORGET_AFTER_S,
                    or_(_attempts.c.locked_until.is_(None), _attempts.c.locked_until < now),
                )
            )
        return Failure(failures, locks)

    @staticmethod
    def clear(conn: Connection, name: str) -> None:
        """After a successful login, an admin reset, or when an account gets the name."""
        conn.execute(delete(_attempts).where(_attempts.c.name == name))
