"""The proxy's log lines: redacted, kept in a ring buffer for the UI and a rotating file."""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bridge_app.runtime import Observers, RedactingFilter, Redactor, SharedRotatingFileHandler

PROXY_LOG_NAME = "proxy.log"
LINE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
#: Loggers whose records are the proxy's log (LiteLLM's own and uvicorn's).
PROXY_LOGGERS = (
    "LiteLLM",
    "LiteLLM Proxy",
    "LiteLLM Router",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "bridge_app.proxy",
)


@dataclass(frozen=True)
class LogLine:
    created: float
    level: str
    levelno: int
    logger: str
    text: str  # the formatted line, already redacted


LineObserver = Callable[[LogLine], None]


class _QuietHealthChecks(logging.Filter):
    """The watchdog probes /health/* every few seconds; those lines would bury the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "uvicorn.access" or not isinstance(record.args, tuple):
            return True
        return not any(isinstance(a, str) and a.startswith("/health/") for a in record.args)


class _QuietLifecycle(logging.Filter):
    """Two warnings LiteLLM 1.109 writes on every start and stop of an in-process proxy,
    neither of which asks anything of the user: its gc.freeze() count (the app unfreezes
    right after, ``_server._BridgeLifespan``) and a shutdown budget "exhausted with 0
    unfinished callbacks" (the app delivered them before, ``_deliver_finished_requests``).
    The same warning with callbacks left unfinished still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "LiteLLM Proxy":
            return True
        try:
            text = record.getMessage()  # LiteLLM's own filters may have formatted it already
        except (TypeError, ValueError):
            return True
        if text.startswith("gc.freeze pinned "):
            return False
        return not text.startswith("Success callback shutdown budget exhausted with 0 ")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _PlainText(logging.Filter):
    """LiteLLM colours some messages with ANSI codes; files and the UI want plain text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "\x1b[" in record.msg:
            record.msg = _ANSI.sub("", record.msg)
        return True


class _CaptureHandler(logging.Handler):
    def __init__(self, capture: LogCapture) -> None:
        super().__init__(logging.DEBUG)
        self._capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._capture._accept(record, self.format(record))
        except Exception:
            self.handleError(record)


class LogCapture:
    """Attach once per process; every proxy log record is redacted before it is stored,
    written or handed to an observer (observers run on the logging thread)."""

    def __init__(
        self,
        *,
        log_dir: Path,
        redactor: Redactor,
        capacity: int = 5000,
        level: int = logging.INFO,
        litellm_level: int = logging.WARNING,
    ) -> None:
        self.file = log_dir / PROXY_LOG_NAME
        self._redactor = redactor
        self._lines: deque[LogLine] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._observers: Observers[[LogLine]] = Observers(
            what="log", logger=logging.getLogger(__name__), level=logging.DEBUG
        )
        self._level = level
        # LiteLLM at INFO writes several lines per request: costly, and noise for people.
        self._litellm_level = litellm_level
        self._handlers: list[logging.Handler] = []
        self._attached: list[logging.Logger] = []
        self._names: tuple[str, ...] = ()

    def attach(self, logger_names: Iterable[str] = PROXY_LOGGERS) -> None:
        if self._handlers:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        redacting = RedactingFilter(self._redactor)
        formatter = logging.Formatter(LINE_FORMAT)
        # Shared: the window and `serve` never run together, but `logs -f` and status
        # readers hold the file open, which blocks a rename on Windows.
        file_handler = SharedRotatingFileHandler(
            self.file, max_bytes=5 * 1024 * 1024, backup_count=3
        )
        capture = _CaptureHandler(self)
        handler: logging.Handler
        for handler in (file_handler, capture):
            handler.setLevel(self._level)
            handler.setFormatter(formatter)
            handler.addFilter(_QuietHealthChecks())  # before redaction renders the args
            handler.addFilter(_QuietLifecycle())
            handler.addFilter(redacting)  # nothing below sees raw text
            handler.addFilter(_PlainText())
            self._handlers.append(handler)
        self._names = tuple(logger_names)
        for name in self._names:
            logger = logging.getLogger(name)
            for handler in self._handlers:
                logger.addHandler(handler)
            if name != "bridge_app.proxy":
                logger.propagate = False  # the app log keeps only the app's own lines
            logger.setLevel(self._litellm_level if name.startswith("LiteLLM") else self._level)
            self._attached.append(logger)
        self.sweep()

    def sweep(self) -> None:
        """Remove the console handlers LiteLLM installs (at import and at proxy start):
        they would print unredacted text. Call after each import or start."""
        for logger in self._attached:
            for old in list(logger.handlers):
                if old in self._handlers:
                    continue
                if isinstance(old, logging.StreamHandler) and not isinstance(
                    old, logging.FileHandler
                ):
                    logger.removeHandler(old)
            if logger.name != "bridge_app.proxy":
                logger.propagate = False

    def detach(self) -> None:
        for logger in self._attached:
            for handler in self._handlers:
                logger.removeHandler(handler)
        for handler in self._handlers:
            handler.close()
        self._handlers.clear()
        self._attached.clear()

    def subscribe(self, observer: LineObserver) -> Callable[[], None]:
        return self._observers.subscribe(observer)

    def lines(self, *, min_level: int = logging.NOTSET, grep: str | None = None) -> list[LogLine]:
        with self._lock:
            lines = list(self._lines)
        needle = grep.lower() if grep else None
        return [
            line
            for line in lines
            if line.levelno >= min_level and (needle is None or needle in line.text.lower())
        ]

    def _accept(self, record: logging.LogRecord, text: str) -> None:
        # The filter already redacted the message; a formatter may add exception text.
        line = LogLine(
            record.created,
            record.levelname,
            record.levelno,
            record.name,
            self._redactor.redact(text),
        )
        with self._lock:
            self._lines.append(line)
        self._observers.notify(line)  # an observer must never break logging
