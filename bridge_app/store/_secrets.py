"""The one way a machine-wide (owner-less) row of the ``secrets`` table is written: tool
backups and pending tool keys, remote gateways, the proxy master key. Callers seal the
value themselves (each with its own key and context)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, and_, select

from bridge_app.store._schema import tables

_secrets = tables["secrets"]


def put_shared_secret(conn: Connection, *, kind: str, label: str, value: bytes, meta: str) -> None:
    """Insert the shared row ``kind``/``label``, or replace its value and meta (inside the
    caller's transaction). The table has no unique key on owner, kind and label (and
    SQLite's UNIQUE would count every NULL owner as distinct), so the row is looked up
    first rather than upserted with ON CONFLICT."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    where = and_(_secrets.c.owner_id.is_(None), _secrets.c.kind == kind, _secrets.c.label == label)
    exists = conn.execute(select(_secrets.c.id).where(where)).first()
    if exists is None:
        conn.execute(
            _secrets.insert().values(
                owner_id=None,
                kind=kind,
                label=label,
                value=value,
                meta=meta,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        conn.execute(
            _secrets.update()
            .where(_secrets.c.id == exists[0])
            .values(value=value, meta=meta, updated_at=now)
        )
