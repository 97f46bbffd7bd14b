from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from bridge_app.runtime._errors import BridgeError


class InstanceLockedError(BridgeError):
    pass


class InstanceLock:
    """One running app (GUI or ``serve``) per data directory.

    The OS releases the lock when the process dies, so a crash never leaves a stale lock
    behind; the pid file next to it only makes the message more useful.
    """

    def __init__(self, lock_file: Path) -> None:
        self._path = lock_file
        self._pid_file = lock_file.with_suffix(".pid")
        self._lock = FileLock(str(lock_file), timeout=0)

    def acquire(self) -> None:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            pid = self._read_pid()
            who = f" (pid {pid})" if pid else ""
            raise InstanceLockedError(
                f"Another LiteLLM Bridge{who} is already running on {self._path.parent}.",
                hint="Use that window, stop it first, or set BRIDGE_HOME to another folder.",
            ) from None
        except OSError as exc:
            raise BridgeError(
                f"Cannot create the lock file {self._path}: {exc.strerror or exc}."
            ) from exc
        with contextlib.suppress(OSError):  # the pid is only informational
            self._pid_file.write_text(str(os.getpid()), encoding="ascii")

    def release(self) -> None:
        if self._lock.is_locked:
            with contextlib.suppress(OSError):
                self._pid_file.unlink(missing_ok=True)
            self._lock.release()

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def _read_pid(self) -> int | None:
        try:
            return int(self._pid_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
