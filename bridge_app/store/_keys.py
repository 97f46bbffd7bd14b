from __future__ import annotations

import logging
import os
import secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bridge_app.runtime import BridgeError, atomic_write

log = logging.getLogger(__name__)

KEYRING_SERVICE = "litellm-bridge"
KEYRING_ENV = "BRIDGE_KEYRING"  # "off" forces the key file (portable installs, tests)
KEY_BYTES = 32

KeySource = Literal["keyring", "key-file"]


@dataclass(frozen=True, repr=False)
class DatabaseKey:
    raw: bytes
    source: KeySource
    location: str  # keyring entry name or key file path, for doctor

    def __repr__(self) -> str:  # never let the key reach a log line or a traceback
        return f"DatabaseKey(source={self.source!r}, location={self.location!r})"


class KeyManager:
    """Finds or creates the 256-bit database key.

    Order: an existing key file, then the OS keyring, and only when no database exists
    yet a freshly generated key (stored in the keyring when one works, else in a 0600 key
    file). A database whose key cannot be found is never recreated.
    """

    def __init__(self, *, key_file: Path, database_file: Path, entry_name: str) -> None:
        self._key_file = key_file
        self._database_file = database_file
        self._entry = entry_name

    def load_or_create(self) -> DatabaseKey:
        if self._key_file.exists():
            return DatabaseKey(self._read_key_file(), "key-file", str(self._key_file))
        from_keyring = self._keyring_get()
        if from_keyring is not None:
            return DatabaseKey(from_keyring, "keyring", self._keyring_label)
        if self._database_file.exists() and self._database_file.stat().st_size > 0:
            raise BridgeError(
                f"The database {self._database_file} exists but its key was found neither in "
                f"the OS keyring nor in {self._key_file}.",
                hint="Restore the key file (or keyring entry) that belongs to this database; "
                "the database was left untouched.",
            )
        raw = secrets.token_bytes(KEY_BYTES)
        if self._keyring_set(raw):
            return DatabaseKey(raw, "keyring", self._keyring_label)
        self._write_key_file(raw)
        return DatabaseKey(raw, "key-file", str(self._key_file))

    def key_file_problem(self) -> str | None:
        """A permission problem with the key file, in words, or None."""
        if sys.platform == "win32" or not self._key_file.exists():
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

    def _read_key_file(self) -> bytes:
        try:
            text = self._key_file.read_text(encoding="ascii").strip()
            raw = bytes.fromhex(text)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
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
        atomic_write(self._key_file, raw.hex().encode("ascii"), mode=0o600, make_parents=True)

    def _keyring_enabled(self) -> bool:
        return os.environ.get(KEYRING_ENV, "").strip().lower() not in {"off", "0", "no", "false"}

    def _keyring_get(self) -> bytes | None:
        if not self._keyring_enabled():
            return None
        try:
            import keyring
            from keyring.errors import KeyringError

            value = keyring.get_password(KEYRING_SERVICE, self._entry)
        except (KeyringError, RuntimeError, OSError) as exc:
            log.info("OS keyring unavailable: %s", exc)
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
            from keyring.errors import KeyringError

            keyring.set_password(KEYRING_SERVICE, self._entry, raw.hex())
            # Some backends accept writes they cannot return: only trust a read-back.
            return keyring.get_password(KEYRING_SERVICE, self._entry) == raw.hex()
        except (KeyringError, RuntimeError, OSError) as exc:
            log.info("OS keyring unavailable, using a key file instead: %s", exc)
            return False
