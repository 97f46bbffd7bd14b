from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from bridge_app.runtime._redact import RedactingFilter, Redactor

APP_LOG_NAME = "app.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


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
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8", delay=True
    )
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
