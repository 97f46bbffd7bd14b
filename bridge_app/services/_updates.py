"""The update switch at start, which runs before the database is opened."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bridge_app.runtime import AppPaths, InstanceLock, InstanceLockedError
from bridge_app.store import SCHEMA_VERSION
from bridge_app.updates import HEALTH_CHECK_ENV, UpdateService

LAUNCHED_ENV = "BRIDGE_UPDATE_LAUNCHED"  # set when a build handed over to its update


def _early(paths: AppPaths) -> UpdateService:
    # No audit hook and no source: the database stays closed (the version under test may
    # upgrade it, and a failed one is put back byte for byte). What happened is recorded
    # in the audit log by Services.updates.flush_audit() once the database is open.
    return UpdateService(paths=paths, source=lambda: None, schema=SCHEMA_VERSION)


def update_pending(paths: AppPaths) -> bool:
    return _early(paths).has_pending()


def finish_pending_rollback(paths: AppPaths, *, lock_held: bool = False) -> str | None:
    """Bring back the database copy a rollback by hand asked for, now that this process has
    the database closed (None: nothing to do). Without ``lock_held`` it takes the instance
    lock first; while a window or `serve` runs, that one does it when it closes."""
    early = _early(paths)
    if not early.restore_pending():
        return None
    if lock_held:
        return early.finish_restore()
    lock = InstanceLock(paths.lock_file)
    try:
        lock.acquire()
    except InstanceLockedError as exc:
        return (
            f"{exc.message.rstrip('.')}: the database goes back when it closes "
            "(or at the next start)."
        )
    try:
        return early.finish_restore()
    finally:
        lock.release()


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
