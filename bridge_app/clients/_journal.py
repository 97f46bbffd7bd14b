"""A tool's config files are changed outside the database, so an apply or revert is
journalled: before any file is written, what is about to change (each file's bytes
before, the hash of what will be written, who asked, a new tool key) is committed as a
*pending* record; the files are written; then the backups' hashes, the key, the settings
and the audit event commit in ONE transaction that also drops the record. A process
killed between the two leaves the record; the next start of any front end finishes the
change when every file was written, and otherwise puts back each file it had written —
so the change and its audit event are both there or both absent, and no stored hash ever
disagrees with the file (which would make the next apply or revert refuse)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["apply", "revert"]


@dataclass(frozen=True)
class PendingFile:
    file_id: str
    path: str
    before: bytes | None  # the file's bytes before the change (None: there was no file)
    after_sha256: str | None  # the hash of what the change writes (None: it removes it)
    mode: int | None = None  # the mode a revert restores


@dataclass(frozen=True)
class Pending:
    tool: str
    action: Action
    actor: str | None
    detail: str
    pid: int
    files: tuple[PendingFile, ...]
    fresh: tuple[str, ...] = ()  # backups this apply made (they go if it is undone)
    key: str | None = None  # a tool key this apply introduces (kept only if it is done)
    settings: dict[str, str] = field(default_factory=dict)  # kept only if it is done

    def to_bytes(self) -> bytes:
        files = [
            {
                "file_id": f.file_id,
                "path": f.path,
                "before": None if f.before is None else base64.b64encode(f.before).decode(),
                "after_sha256": f.after_sha256,
                "mode": f.mode,
            }
            for f in self.files
        ]
        body: dict[str, Any] = {
            "tool": self.tool,
            "action": self.action,
            "actor": self.actor,
            "detail": self.detail,
            "pid": self.pid,
            "files": files,
            "fresh": list(self.fresh),
            "key": self.key,
            "settings": self.settings,
        }
        return json.dumps(body).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Pending:
        body = json.loads(data)
        files = tuple(
            PendingFile(
                file_id=str(f["file_id"]),
                path=str(f["path"]),
                before=None if f["before"] is None else base64.b64decode(f["before"]),
                after_sha256=f["after_sha256"],
                mode=f.get("mode"),
            )
            for f in body["files"]
        )
        return cls(
            tool=str(body["tool"]),
            action=body["action"],
            actor=body.get("actor"),
            detail=str(body.get("detail") or ""),
            pid=int(body["pid"]),
            files=files,
            fresh=tuple(body.get("fresh") or ()),
            key=body.get("key"),
            settings=dict(body.get("settings") or {}),
        )
