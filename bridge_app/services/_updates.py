"""The update switch at start, which runs before the database is opened."""

from __future__ import annotations

from bridge_app.runtime import AppPaths
from bridge_app.updates import UpdateService


def _early(paths: AppPaths) -> UpdateService:
    # No audit hook and no source: the database stays closed (the version under test may
    # upgrade it, and a failed one is put back byte for byte). What happened is recorded
    # in the audit log by Services.updates.flush_audit() once the database is open.
    return UpdateService(paths=paths, source=lambda: None)


def update_pending(paths: AppPaths) -> bool:
    return _early(paths).has_pending()


def switch_pending_update(paths: AppPaths) -> str | None:
    """Health-check an installed update and switch to it, or roll back (see UpdateService).
    Call with no database connection open and no other instance running."""
    return _early(paths).at_start()
