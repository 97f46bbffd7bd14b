"""Diagnostics export: one archive a support desk can read, with no secret of any kind."""

from bridge_app.diagnostics._scrub import LeakError
from bridge_app.diagnostics._service import DiagnosticsService, ExportResult, Part

__all__ = ["DiagnosticsService", "ExportResult", "LeakError", "Part"]
