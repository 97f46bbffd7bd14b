from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from bridge_app.runtime import BridgeError, SecretProtector, atomic_write, os_protector

log = logging.getLogger(__name__)

KEYRING_SERVICE = "litellm-bridge"
KEYRING_ENV = "BRIDGE_KEYRING"  # "off" forces the key file (portable installs, tests)
KEY_BYTES = 32

KeySource = Literal["keyring", "key-file"]


class _Default:
    """Marks "protect the key file with what this OS offers" (DPAPI on Windows)."""


_OS_DEFAULT: Final = _Default()


@dataclass(frozen=True, repr=False)
class DatabaseKey:
    raw: bytes
    source: KeySource
    location: str  # keyring entry name or key file path, for doctor
    note: str | None = None  # why the key file was used although a keyring was expected

    def __repr__(self) -> str:  # never let the key reach a log line or a traceback
        return f"DatabaseKey(source={self.source!r}, location={self.location!r})"


class KeyManager:
    """Finds or creates the 256-bit database key.

    Order: an existing key file, then the OS keyring, and only when no database exists
    yet a freshly generated key (stored in the keyring when one works, else in a key
    file). A database whose key cannot be found is never recreated.

    The key file is owner-only (0600) on POSIX; on Windows, where a file mode protects
    nothing, its content is protected with DPAPI for the current user (``protector``),
    and a plain key file left by an older version is protected at the next start.
    Any keyring failure (of any backend: Secret Service, Windows Credential Manager over
    Remote Desktop, macOS) falls back to the key file with a logged note.
    """

    def __init__(
        self,
        *,
        key_file: Path,
        database_file: Path,
        entry_name: str,
        protector: SecretProtector | _Default | None = _OS_DEFAULT,
    ) -> None:
        self._key_file = key_file
        self._database_file = database_file
        self._entry = entry_name
        self._protector: SecretProtector | None = (
            os_protector() if isinstance(protector, _Default) else protector
        )
        self._keyring_failure: str | None = None

    def load_or_create(self) -> DatabaseKey:
        if self._key_file.exists():
            raw = self._read_key_file()
            self._protect_plain_key_file(raw)
            return DatabaseKey(raw, "key-file", str(self._key_file))
        from_keyring = self._keyring_get()
        if from_keyring is not None:
            return DatabaseKey(from_keyring, "keyring", self._keyring_label)
        if self._database_file.exists() and self._database_file.stat().st_size > 0:
            why = (
                f" The OS keyring could not be read here ({self._keyring_failure})."
                if self._keyring_failure
                else ""
            )
            raise BridgeError(
                f"The database {self._database_file} exists but its key was found neither in "
                f"the OS keyring nor in {self._key_file}.{why}",
                hint="Restore the key file (or keyring entry) that belongs to this database; "
                "the database was left untouched.",
            )
        raw = secrets.token_bytes(KEY_BYTES)
        if self._keyring_set(raw):
            return DatabaseKey(raw, "keyring", self._keyring_label)
        self._write_key_file(raw)
        note = None
        if self._keyring_failure:
            note = (
                f"The OS keyring failed ({self._keyring_failure}); the database key is kept "
                f"in the key file {self._key_file} instead."
            )
            log.warning("%s", note)
        return DatabaseKey(raw, "key-file", str(self._key_file), note)

    def key_file_problem(self) -> str | None:
        """A protection problem with the key file, in words, or None."""
        if not self._key_file.exists():
            return None
        if self._protector is not None:
            if not self._is_protected(self._read_text()):
                return (
                    f"The key file {self._key_file} holds the database key unprotected; "
                    f"start the app once to protect it with {self._protector.description}."
                )
            return None
        if sys.platform == "win32":
            return None
        mode = stat.S_IMODE(self._key_file.stat().st_mode)
        if mode & 0o077:
            return (
                f"The key file {self._key_file} is readable by other users "
                f"(mode {mode:o}); run: chmod 600 {self._key_file}"
            )
        return None

    @property
    def _keyring_label(self) -> str:
        return f"{KEYRING_SERVICE} / {self._entry}"

    def _read_text(self) -> str:
        try:
            return self._key_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise BridgeError(
                f"The database key file {self._key_file} cannot be read or is damaged.",
                hint="Restore it from a backup; the database was left untouched.",
            ) from exc

    def _is_protected(self, text: str) -> bool:
        tag, sep, _ = text.partition(":")
        return bool(sep) and tag.isalpha()

    def _unprotect(self, text: str) -> str:
        tag, _, body = text.partition(":")
        if self._protector is None or self._protector.tag != tag:
            raise BridgeError(
                f"The database key file {self._key_file} is protected with {tag.upper()}, "
                "which cannot be opened here.",
                hint="Open this data folder on the Windows account that created it; the "
                "database was left untouched.",
            )
        try:
            return self._protector.unprotect(base64.b64decode(body, validate=True)).decode("ascii")
        except (OSError, binascii.Error, UnicodeDecodeError) as exc:
            raise BridgeError(
                f"The database key file {self._key_file} is protected for another Windows "
                "user or computer (or is damaged), so this account cannot read it.",
                hint="Sign in as the Windows user who set up LiteLLM Bridge on this "
                "computer, or restore the key from a backup; the database was left untouched.",
            ) from exc

    def _read_key_file(self) -> bytes:
        text = self._read_text()
        if self._is_protected(text):
            text = self._unprotect(text)
        try:
            raw = bytes.fromhex(text)
        except ValueError as exc:
            raise BridgeError(
                f"The database key file {self._key_file} cannot be read or is damaged.",
                hint="Restore it from a backup; the database was left untouched.",
            ) from exc
        if len(raw) != KEY_BYTES:
            raise BridgeError(
                f"The database key file {self._key_file} does not hold a 256-bit key.",
                hint="Restore it from a backup; the database was left untouched.",
            )
        return raw

    def _write_key_file(self, raw: bytes) -> None:
        text = raw.hex()
        if self._protector is not None:
            try:
                sealed = self._protector.protect(text.encode("ascii"))
            except OSError as exc:
                raise BridgeError(
                    f"Cannot protect the database key with {self._protector.description}: "
                    f"{exc.strerror or exc}.",
                    hint="Sign in with a full Windows profile (not a temporary one) and try again.",
                ) from exc
            text = f"{self._protector.tag}:{base64.b64encode(sealed).decode('ascii')}"
        atomic_write(self._key_file, text.encode("ascii"), mode=0o600, make_parents=True)

    def _protect_plain_key_file(self, raw: bytes) -> None:
        """An older version (or a copy from Linux) left the key in plain text: protect it."""
        if self._protector is None or self._is_protected(self._read_text()):
            return
        try:
            self._write_key_file(raw)
        except BridgeError as exc:
            log.warning("the key file stays unprotected: %s", exc.message)
            return
        log.info("protected the database key file with %s", self._protector.description)

    def _keyring_enabled(self) -> bool:
        return os.environ.get(KEYRING_ENV, "").strip().lower() not in {"off", "0", "no", "false"}

    def _keyring_get(self) -> bytes | None:
        if not self._keyring_enabled():
            return None
        try:
            import keyring

            value = keyring.get_password(KEYRING_SERVICE, self._entry)
        except Exception as exc:  # any backend's own error type, e.g. win32ctypes' error 1312
            self._keyring_failure = _describe(exc)
            log.info("OS keyring unavailable: %s", self._keyring_failure)
            return None
        if not value:
            return None
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            return None
        return raw if len(raw) == KEY_BYTES else None

    def _keyring_set(self, raw: bytes) -> bool:
        if not self._keyring_enabled():
            return False
        try:
            import keyring

            keyring.set_password(KEYRING_SERVICE, self._entry, raw.hex())
            # Some backends accept writes they cannot return: only trust a read-back.
            if keyring.get_password(KEYRING_SERVICE, self._entry) == raw.hex():
                return True
            self._keyring_failure = "it did not return the key it was given"
            return False
        except Exception as exc:  # any backend's own error type
            self._keyring_failure = _describe(exc)
            return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
