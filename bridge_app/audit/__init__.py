"""Append-only, hash-chained audit events; verify; export CSV/JSON."""

from bridge_app.audit._actions import OUTCOMES
from bridge_app.audit._chain import GENESIS, AuditEvent, VerifyResult, check_chain, event_hash
from bridge_app.audit._export import FORMATS, AuditExportError, ExportFormat
from bridge_app.audit._log import HEAD_SETTING, AuditError, AuditLog, ExportResult

__all__ = [
    "FORMATS",
    "GENESIS",
    "HEAD_SETTING",
    "OUTCOMES",
    "AuditError",
    "AuditEvent",
    "AuditExportError",
    "AuditLog",
    "ExportFormat",
    "ExportResult",
    "VerifyResult",
    "check_chain",
    "event_hash",
]
