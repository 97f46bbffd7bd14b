"""Audit exports as CSV or JSON, written atomically: the file appears whole or not at all."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from bridge_app.audit._chain import AuditEvent
from bridge_app.runtime import BridgeError, atomic_write

ExportFormat = Literal["csv", "json"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "json")
FIELDS = ("seq", "ts", "actor", "action", "target", "outcome", "detail", "prev_hash", "hash")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class AuditExportError(BridgeError):
    pass


def render(events: Sequence[AuditEvent], fmt: ExportFormat, meta: dict[str, Any]) -> bytes:
    if fmt == "json":
        doc = {**meta, "count": len(events), "events": [e.to_dict() for e in events]}
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(FIELDS)
        for e in events:
            writer.writerow([_cell(v) for v in (getattr(e, f) for f in FIELDS)])
        return buf.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8
    raise AuditExportError(f"Unknown export format {fmt!r}: use csv or json.")


def _cell(value: object) -> object:
    # A spreadsheet would run "=..." as a formula (CSV injection); JSON keeps the exact
    # text, which is what a hash-chain check of an export should use.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename; on failure nothing is left behind."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise AuditExportError(f"Cannot write the audit export to {target}: it is a folder.")
    folder = target.parent
    if not folder.is_dir():
        raise AuditExportError(
            f"Cannot write the audit export to {target}: the folder {folder} does not exist."
        )
    try:
        atomic_write(target, data, mode=0o600)
    except BridgeError as exc:
        raise AuditExportError(
            f"Cannot write the audit export to {target}: {exc.message}", hint=exc.hint
        ) from exc
