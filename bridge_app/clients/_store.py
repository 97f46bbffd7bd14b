"""What the app remembers about tool configs, in the encrypted store's ``secrets`` table:

* ``tool-backup``: a config file's bytes before the app first changed it (sealed: such files
  often hold the user's own keys), whether it existed, and the hash of what the app wrote
  last, so a later change by the user is noticed;
* ``tool-key``: a per-tool proxy key (sealed: the proxy needs the key itself to check it);
* ``tool-pending``: an apply or revert under way (``_journal.py``), sealed like a backup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select

from bridge_app.clients._journal import Pending
from bridge_app.crypto import open_sealed, seal
from bridge_app.store import Database, Topic, put_shared_secret, tables

BACKUP_KIND = "tool-backup"
KEY_KIND = "tool-key"
PENDING_KIND = "tool-pending"
_secrets = tables["secrets"]


@dataclass(frozen=True)
class Backup:
    tool: str
    file: str
    path: str
    existed: bool
    original: bytes
    mode: int | None
    written_sha256: str | None


class ToolStore:
    def __init__(self, *, db: Database, seal_key: bytes) -> None:
        self._db = db
        self._key = seal_key

    @staticmethod
    def _context(kind: str, label: str) -> str:
        return f"secret:shared:{kind}:{label}"

    def _where(self, kind: str, label: str) -> Any:
        return and_(
            _secrets.c.owner_id.is_(None), _secrets.c.kind == kind, _secrets.c.label == label
        )

    def _put(self, kind: str, label: str, value: bytes, meta: dict[str, Any]) -> None:
        sealed = seal(self._key, value, context=self._context(kind, label))
        with self._db.transaction() as conn:
            self._db.changed(Topic.TOOLS)
            put_shared_secret(conn, kind=kind, label=label, value=sealed, meta=json.dumps(meta))

    def _get(self, kind: str, label: str) -> tuple[bytes, dict[str, Any]] | None:
        with self._db.reading() as conn:
            row = conn.execute(
                select(_secrets.c.value, _secrets.c.meta).where(self._where(kind, label))
            ).first()
        if row is None:
            return None
        return open_sealed(self._key, row[0], context=self._context(kind, label)), json.loads(
            row[1]
        )

    def _delete(self, kind: str, label: str) -> bool:
        with self._db.transaction() as conn:
            self._db.changed(Topic.TOOLS)
            return bool(conn.execute(_secrets.delete().where(self._where(kind, label))).rowcount)

    # -- backups ---------------------------------------------------------------------------

    def backup(self, tool: str, file: str) -> Backup | None:
        found = self._get(BACKUP_KIND, f"{tool}:{file}")
        if found is None:
            return None
        value, meta = found
        return Backup(
            tool=tool,
            file=file,
            path=str(meta["path"]),
            existed=bool(meta["existed"]),
            original=value,
            mode=meta.get("mode"),
            written_sha256=meta.get("written_sha256"),
        )

    def save_backup(self, backup: Backup) -> None:
        meta = {
            "tool": backup.tool,
            "file": backup.file,
            "path": backup.path,
            "existed": backup.existed,
            "mode": backup.mode,
            "written_sha256": backup.written_sha256,
        }
        self._put(BACKUP_KIND, f"{backup.tool}:{backup.file}", backup.original, meta)

    def drop_backup(self, tool: str, file: str) -> None:
        self._delete(BACKUP_KIND, f"{tool}:{file}")

    # -- per-tool proxy keys -----------------------------------------------------------------

    def tool_key(self, tool: str) -> str | None:
        found = self._get(KEY_KIND, tool)
        return None if found is None else found[0].decode()

    def save_tool_key(self, tool: str, key: str) -> None:
        self._put(KEY_KIND, tool, key.encode(), {"tool": tool})

    def drop_tool_key(self, tool: str) -> bool:
        return self._delete(KEY_KIND, tool)

    # -- changes under way (see _journal.py) -------------------------------------------------

    def save_pending(self, pending: Pending) -> None:
        self._put(PENDING_KIND, pending.tool, pending.to_bytes(), {"tool": pending.tool})

    def drop_pending(self, tool: str) -> None:
        self._delete(PENDING_KIND, tool)

    def pending(self) -> list[Pending]:
        with self._db.reading() as conn:
            rows = conn.execute(
                select(_secrets.c.label, _secrets.c.value).where(
                    and_(_secrets.c.owner_id.is_(None), _secrets.c.kind == PENDING_KIND)
                )
            ).all()
        return [
            Pending.from_bytes(
                open_sealed(self._key, value, context=self._context(PENDING_KIND, label))
            )
            for label, value in rows
        ]

    def tool_keys(self) -> dict[str, str]:
        with self._db.reading() as conn:
            rows = conn.execute(
                select(_secrets.c.label, _secrets.c.value).where(
                    and_(_secrets.c.owner_id.is_(None), _secrets.c.kind == KEY_KIND)
                )
            ).all()
        return {
            label: open_sealed(self._key, value, context=self._context(KEY_KIND, label)).decode()
            for label, value in rows
        }
