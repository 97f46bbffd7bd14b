from __future__ import annotations

import logging
import re
import threading

MASK = "****"
_MIN_SECRET_LEN = 4  # shorter values would mask ordinary words

# Credentials that look like credentials even when nobody registered them.
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # label=value, "label": "value", label: value. In prose ("refused the password: invalid
    # employee credentials", "token: invalid_grant") an unquoted value after a colon is
    # masked only when it looks like a credential (a digit in it, or 20+ characters).
    re.compile(
        r"(?i)((?:api[_-]?key|x-api-key|x-goog-api-key|authorization|password|passwd|"
        r"secret|token|master[_-]?key)(?:[\"']?\s*=\s*[\"']?|[\"']?\s*:\s*[\"'])"
        r")([^\s\"',}&]{4,})"
    ),
    re.compile(
        r"(?i)((?:api[_-]?key|x-api-key|x-goog-api-key|authorization|password|passwd|"
        r"secret|token|master[_-]?key)\s*:\s*)"
        r"((?=[^\s\"',}&]*[0-9])[^\s\"',}&]{4,}|[^\s\"',}&]{20,})"
    ),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
)


class Redactor:
    """Masks every registered secret value and anything shaped like a credential.

    One instance is built by the composition root; services that learn a secret (env
    values, tokens, the master key) register it, and every log handler filters through it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, *values: str | None) -> None:
        added = False
        with self._lock:
            for value in values:
                if value and len(value) >= _MIN_SECRET_LEN and value not in self._secrets:
                    self._secrets.add(value)
                    added = True
            if added:
                # Longest first so a secret containing another is masked whole.
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def forget(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                self._secrets.discard(value or "")
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for rx in _PATTERNS:
            # A leading group is the label ("Bearer ", "api_key=") and stays readable.
            text = rx.sub((lambda m: m.group(1) + MASK) if rx.groups else (lambda m: MASK), text)
        return text


class RedactingFilter(logging.Filter):
    """Renders the record once, redacted, so no handler ever sees the raw arguments."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            message = str(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self._redactor.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self._redactor.redact(record.exc_text)
        record.exc_info = None
        return True


def mask_secret(value: str | None, *, keep: int = 4) -> str:
    """What a person may see of a secret: its last few characters at most."""
    if not value:
        return ""
    if len(value) <= keep * 3:
        return MASK
    return MASK + value[-keep:]
