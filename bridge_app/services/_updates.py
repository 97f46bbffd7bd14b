"""The update switch at start, which runs before the database is opened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from bridge_app.runtime import AppPaths, InstanceLock, InstanceLockedError, forward_stop
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


def handover_command(own: Path, target: Path) -> tuple[list[str], bool]:
    """What to start instead of ``own`` (this executable): the installed update's
    executable of the same kind — the windowed one for the windowed one — with this
    command line; and whether it is the windowed one (nothing to wait for)."""
    windowed = own.name.lower().endswith("-gui.exe")
    if windowed:
        target = target.with_name(f"{target.stem}-gui{target.suffix}")
    return [str(target), *sys.argv[1:]], windowed


def run_installed_update(paths: AppPaths) -> None:
    """Hand over to the current installed update (returns if there is none)."""
    target = installed_update_executable(paths)
    if target is None:
        return
    os.environ[LAUNCHED_ENV] = "1"  # that version must not redirect again
    args, windowed = handover_command(Path(sys.executable), target)
    if sys.platform != "win32":
        os.execv(args[0], args)  # noqa: S606 (verified, installed build)
    # Windows has no exec: os.execv starts the program and ends this one at once (the
    # console got its prompt back while the update still ran, with unquoted paths). The
    # windowed build starts it and leaves; the console one waits and passes its exit
    # status on.
    if windowed:
        subprocess.Popen(args, close_fds=True)
        sys.exit(0)
    if sys.platform == "win32":
        sys.exit(_wait_forwarding_stops(subprocess.Popen(args)))


if sys.platform == "win32":

    def _wait_forwarding_stops(update: subprocess.Popen[bytes]) -> int:
        """Wait for the update's process, passing Ctrl+C / Ctrl+Break on to it: a console's
        Ctrl+C reaches both processes on Windows (the update stops, this one keeps waiting),
        but only this one under Wine or when sent to this process alone, so it is forwarded
        to the update's window too (twice is the same as once)."""

        def forward(signum: int, _frame: object) -> None:
            forward_stop(update.pid, signum)

        for name in ("SIGINT", "SIGBREAK"):
            signal.signal(getattr(signal, name), forward)
        while True:  # in short waits: a handler runs only between them
            try:
                return update.wait(0.5)
            except subprocess.TimeoutExpired:
                continue
