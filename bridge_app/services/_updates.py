"""The update switch at start, which runs before the database is opened."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bridge_app.runtime import AppPaths
from bridge_app.updates import HEALTH_CHECK_ENV, UpdateService

LAUNCHED_ENV = "BRIDGE_UPDATE_LAUNCHED"  # set when a build handed over to its update


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


def installed_update_executable(paths: AppPaths) -> Path | None:
    """What a packaged build must run instead of itself: the executable of the installed
    update that is current, when this process is not that one. None for a source checkout,
    for the version under a health check, and once redirected."""
    if not getattr(sys, "frozen", False) or os.environ.get(LAUNCHED_ENV):
        return None
    if os.environ.get(HEALTH_CHECK_ENV):
        return None
    target = _early(paths).current_executable()
    if target is None or not target.exists():
        return None
    if target.resolve() == Path(sys.executable).resolve():
        return None
    return target


def run_installed_update(paths: AppPaths) -> None:
    """Replace this process with the current installed update (returns if there is none)."""
    target = installed_update_executable(paths)
    if target is None:
        return
    os.environ[LAUNCHED_ENV] = "1"  # that version must not redirect again
    os.execv(target, [str(target), *sys.argv[1:]])  # noqa: S606 (verified, installed build)
