from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import shutil
import sys
from pathlib import Path

from filelock import FileLock, Timeout

from bridge_app.runtime._files import is_sharing_violation
from bridge_app.runtime._redact import RedactingFilter, Redactor

APP_LOG_NAME = "app.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A size-rotated log that several processes (the window, `serve`, one-off commands,
    `logs -f`) write and read at the same time.

    - One process rotates at a time (a lock file next to the log), and only if the file is
      still big once it holds the lock: two processes never rotate the same lines twice.
    - Renaming the live file is how rotation works on POSIX; other writers notice that the
      name now points at a new file and reopen it, so their lines land in the backup until
      then, never nowhere.
    - Windows refuses to rename a file another process holds open (WinError 32). Then the
      file is copied to the first backup and truncated in place instead; every writer opens
      it in append mode, so their next lines go to the (now short) file, and on Windows
      each write holds the same lock, so no line falls between the copy and the truncation.
    - A rotation that fails leaves the lines in the big file rather than losing them.
    """

    def __init__(self, filename: Path, *, max_bytes: int, backup_count: int) -> None:
        super().__init__(
            filename, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8", delay=True
        )
        self._rotation_lock = FileLock(f"{self.baseFilename}.lock")

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is not None and self._renamed_away():
            self.stream.close()
            self.stream = None  # reopened by the next write
        if sys.platform == "win32":
            # Copy-and-truncate would drop a line another process appends between the copy
            # and the truncation: on Windows every write takes the rotation lock too.
            try:
                with self._rotation_lock.acquire(timeout=2):
                    super().emit(record)
                return
            except Timeout:
                pass  # a stuck lock must not silence logging
        super().emit(record)

    def _renamed_away(self) -> bool:
        # Windows cannot rename a file this handler holds open (and its stat/fstat ids need
        # not agree): there rotation truncates in place and the file never moves.
        if self.stream is None or sys.platform == "win32":
            return False
        try:
            disk = os.stat(self.baseFilename)
            own = os.fstat(self.stream.fileno())
        except FileNotFoundError:
            return True
        except (OSError, ValueError):
            return False
        return (disk.st_dev, disk.st_ino) != (own.st_dev, own.st_ino)

    def doRollover(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        try:
            with self._rotation_lock.acquire(timeout=5):
                if self._size() >= self.maxBytes // 2:  # else another process just rotated
                    self._rotate()
        except (Timeout, OSError):
            pass  # keep writing to the long file: a big log beats a lost line
        if not self.delay:
            self.stream = self._open()

    def _size(self) -> int:
        try:
            return os.stat(self.baseFilename).st_size
        except OSError:
            return 0

    def _rotate(self) -> None:
        base = self.baseFilename
        for index in range(self.backupCount - 1, 0, -1):
            older = f"{base}.{index}"
            if os.path.exists(older):
                os.replace(older, f"{base}.{index + 1}")
        first = f"{base}.1"
        try:
            os.replace(base, first)
        except OSError as exc:
            if not is_sharing_violation(exc):
                raise
            shutil.copyfile(base, first)
            with open(base, "r+b") as live:
                live.truncate(0)
        with contextlib.suppress(OSError):
            os.chmod(first, 0o600)


def configure_logging(
    log_dir: Path, redactor: Redactor, *, console_level: int | None = logging.WARNING
) -> Path:
    """Route every log record through the redactor into a rotating file (and the console).

    Returns the file's path so error messages can point people at it.
    """
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_file = log_dir / APP_LOG_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_bridge_owned", False):
            root.removeHandler(handler)
            handler.close()
    redacting = RedactingFilter(redactor)
    file_handler = SharedRotatingFileHandler(log_file, max_bytes=5 * 1024 * 1024, backup_count=5)
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    file_handler.addFilter(redacting)
    file_handler._bridge_owned = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if console_level is not None:
        console = logging.StreamHandler()
        console.setLevel(console_level)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console.addFilter(redacting)
        console._bridge_owned = True  # type: ignore[attr-defined]
        root.addHandler(console)
    root.setLevel(logging.INFO)
    return log_file
