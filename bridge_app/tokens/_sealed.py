"""The internal token's rows in the store: the token, the OAuth refresh token and the
remembered password of one person, each sealed with that person's key; metadata (expiry,
lifetime, the last refresh error) beside the token. Every write moves the ``token``
change counter in the same transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from bridge_app.envvars import SessionLike
from bridge_app.runtime import Redactor
from bridge_app.store import Database, Topic, tables
from bridge_app.tokens._grant import TokenGrant

_secrets = tables["secrets"]
TOKEN_KIND = "iam-token"  # noqa: S105 - a row kind, not a token
PASSWORD_KIND = "iam-password"  # noqa: S105 - a row kind, not a password
REFRESH_KIND = "iam-refresh-token"


class SealedRows:
    def __init__(self, *, db: Database, redactor: Redactor) -> None:
        self._db = db
        self._redactor = redactor

    def store(
        self, session: SessionLike, grant: TokenGrant, employee_id: str, password: str | None
    ) -> None:
        """Call inside a transaction."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        meta = {
            "employee_id": employee_id,
            "expires_at": grant.expires_at,
            "lifetime_s": grant.lifetime_s,
            "refresh_blocked": False,
            "last_error": None,
        }
        rows: list[dict[str, Any]] = [
            {
                "kind": TOKEN_KIND,
                "label": employee_id,
                "value": session.seal(grant.token.encode(), f"{TOKEN_KIND}:{session.user_id}"),
                "meta": json.dumps(meta),
                "expires_at": grant.expires_at,
            }
        ]
        kinds = [TOKEN_KIND, REFRESH_KIND]
        if grant.refresh_token is not None:
            rows.append(self._secret_row(session, REFRESH_KIND, employee_id, grant.refresh_token))
        if password is not None:
            rows.append(self._secret_row(session, PASSWORD_KIND, employee_id, password))
            kinds.append(PASSWORD_KIND)
        with self._db.transaction() as conn:
            self._db.changed(Topic.TOKEN)
            conn.execute(
                delete(_secrets).where(
                    and_(_secrets.c.owner_id == session.user_id, _secrets.c.kind.in_(kinds))
                )
            )
            for row in rows:
                conn.execute(
                    insert(_secrets).values(
                        owner_id=session.user_id, created_at=now, updated_at=now, **row
                    )
                )

    @staticmethod
    def _secret_row(session: SessionLike, kind: str, label: str, value: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "label": label,
            "value": session.seal(value.encode(), f"{kind}:{session.user_id}"),
            "meta": "{}",
            "expires_at": None,
        }

    def update_meta(self, session: SessionLike, changes: dict[str, Any]) -> None:
        with self._db.transaction() as conn:
            row = conn.execute(
                select(_secrets.c.id, _secrets.c.meta).where(_mine(session, TOKEN_KIND))
            ).first()
            if row is None:
                return
            meta = json.loads(row.meta) | changes
            conn.execute(
                update(_secrets).where(_secrets.c.id == row.id).values(meta=json.dumps(meta))
            )

    def load(self, session: SessionLike, kind: str) -> tuple[str, dict[str, Any]] | None:
        with self._db.reading() as conn:
            row = conn.execute(
                select(_secrets.c.value, _secrets.c.meta).where(_mine(session, kind))
            ).first()
        if row is None:
            return None
        value = session.open(row.value, f"{kind}:{session.user_id}").decode()
        self._redactor.register(value)
        return value, json.loads(row.meta)

    def has(self, session: SessionLike, kind: str) -> bool:
        with self._db.reading() as conn:
            return (
                conn.execute(select(_secrets.c.id).where(_mine(session, kind))).first() is not None
            )

    def delete(self, session: SessionLike, kind: str) -> None:
        with self._db.transaction() as conn:
            self._db.changed(Topic.TOKEN)
            conn.execute(delete(_secrets).where(_mine(session, kind)))


def _mine(session: SessionLike, kind: str) -> Any:
    """The row of ``kind`` that belongs to the session's user."""
    return and_(_secrets.c.owner_id == session.user_id, _secrets.c.kind == kind)
