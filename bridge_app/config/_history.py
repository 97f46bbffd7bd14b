"""Every applied config version, with who applied it and when (table config_versions)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from bridge_app.runtime import BridgeError
from bridge_app.store import Database, tables

_versions = tables["config_versions"]


@dataclass(frozen=True)
class ConfigVersion:
    id: int
    name: str
    author: str
    comment: str
    created_at: str  # ISO 8601, UTC
    applied: bool  # False: it was tried and rolled back
    content: str


class ConfigHistory:
    def __init__(self, *, db: Database) -> None:
        self._db = db

    def record(
        self, *, name: str, content: str, author: str, comment: str = "", applied: bool = True
    ) -> int:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db.transaction() as conn:
            result = conn.execute(
                _versions.insert().values(
                    name=name,
                    content=content,
                    author=author,
                    comment=comment,
                    created_at=now,
                    applied=int(applied),
                )
            )
            key = result.inserted_primary_key
            return int(key[0]) if key else 0

    def mark_rolled_back(self, version_id: int, reason: str) -> None:
        """The proxy refused this version: it stays in history (to fix and apply again),
        no longer counted as applied, with the reason in its comment."""
        with self._db.transaction() as conn:
            row = conn.execute(
                select(_versions.c.comment).where(_versions.c.id == version_id)
            ).first()
            if row is None:
                return
            note = f"rolled back: {reason}"
            comment = f"{row.comment} ({note})" if row.comment else note
            conn.execute(
                _versions.update()
                .where(_versions.c.id == version_id)
                .values(applied=0, comment=comment)
            )

    def list(self, limit: int | None = None) -> list[ConfigVersion]:
        """Newest first."""
        query = select(_versions).order_by(_versions.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._db.reading() as conn:
            return [_row(r) for r in conn.execute(query).mappings()]

    def count(self) -> int:
        with self._db.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(_versions)).scalar_one())

    def get(self, version_id: int) -> ConfigVersion:
        with self._db.reading() as conn:
            row = conn.execute(select(_versions).where(_versions.c.id == version_id)).mappings()
            found = row.first()
        if found is None:
            raise BridgeError(
                f"There is no config version {version_id}.",
                hint="`litellm-bridge config history` lists the versions.",
            )
        return _row(found)

    def latest_applied(self) -> ConfigVersion | None:
        query = (
            select(_versions).where(_versions.c.applied == 1).order_by(_versions.c.id.desc())
        ).limit(1)
        with self._db.reading() as conn:
            found = conn.execute(query).mappings().first()
        return _row(found) if found is not None else None

    def diff(self, old_id: int, new_id: int, *, context: int = 3) -> str:
        """Unified diff from version ``old_id`` to ``new_id`` ("" when identical)."""
        old, new = self.get(old_id), self.get(new_id)
        lines = difflib.unified_diff(
            old.content.splitlines(keepends=True),
            new.content.splitlines(keepends=True),
            fromfile=f"version {old.id} ({old.created_at}, {old.author})",
            tofile=f"version {new.id} ({new.created_at}, {new.author})",
            n=context,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _row(row: object) -> ConfigVersion:
    data = dict(row)  # type: ignore[call-overload]
    return ConfigVersion(
        id=int(data["id"]),
        name=str(data["name"]),
        author=str(data["author"]),
        comment=str(data["comment"]),
        created_at=str(data["created_at"]),
        applied=bool(data["applied"]),
        content=str(data["content"]),
    )


def summarize_change(before: str | None, after: str) -> str:
    """One line for the audit log: which models came and went, how many lines changed."""
    import difflib

    import yaml

    def models(text: str | None) -> set[str]:
        try:
            data = yaml.safe_load(text or "") or {}
        except yaml.YAMLError:
            return set()
        items = data.get("model_list") if isinstance(data, dict) else None
        return {str(m.get("model_name")) for m in items or [] if isinstance(m, dict)}

    if before is None:
        return f"first config: models {', '.join(sorted(models(after))) or 'none'}"
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines())
    changed = sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )
    old, new = models(before), models(after)
    parts = [f"{changed} line(s) changed"]
    if new - old:
        parts.append("added models " + ", ".join(sorted(new - old)))
    if old - new:
        parts.append("removed models " + ", ".join(sorted(old - new)))
    return "; ".join(parts)
