"""The database key file on Windows (DPAPI) and keyring failures of any backend.

DPAPI itself only exists on Windows (its ctypes calls are type-checked with
`mypy --platform win32`). Here it is replaced at its boundary by a protector with the same
contract: bytes sealed for one user account, and OSError for anyone else.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge_app.runtime import BridgeError, os_protector
from bridge_app.store import KeyManager

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


class OneUserProtector:
    """Like DPAPI: what one account sealed, another account cannot open."""

    tag = "dpapi"
    description = "Windows DPAPI (readable only by this Windows user)"

    def __init__(self, account_secret: bytes) -> None:
        self._aead = AESGCM(account_secret)

    def protect(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, None)

    def unprotect(self, data: bytes) -> bytes:
        try:
            return self._aead.decrypt(data[:12], data[12:], None)
        except InvalidTag as exc:
            raise OSError(13, "The data is invalid") from exc  # DPAPI: ERROR_INVALID_DATA


ALICE = OneUserProtector(b"a" * 32)
BOB = OneUserProtector(b"b" * 32)


def manager(tmp_path: Path, protector: OneUserProtector | None) -> KeyManager:
    return KeyManager(
        key_file=tmp_path / "config" / "db.key",
        database_file=tmp_path / "data" / "bridge.db",
        entry_name="test",
        protector=protector,
    )


def _make_database(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "bridge.db").write_bytes(b"\x01" * 64)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has DPAPI (tested below)")
def test_posix_has_no_file_protector_the_0600_mode_is_the_protection() -> None:
    assert os_protector() is None


@pytest.mark.skipif(sys.platform != "win32", reason="DPAPI exists only on Windows")
def test_real_dpapi_round_trip_and_default_key_file_on_windows(tmp_path: Path) -> None:
    protector = os_protector()
    assert protector is not None and protector.tag == "dpapi"
    sealed = protector.protect(b"00" * 32)
    assert b"00" * 32 not in sealed
    assert protector.unprotect(sealed) == b"00" * 32
    with pytest.raises(OSError):
        protector.unprotect(sealed[:-4] + b"\0\0\0\0")
    keys = KeyManager(
        key_file=tmp_path / "db.key", database_file=tmp_path / "bridge.db", entry_name="t"
    )
    key = keys.load_or_create()
    assert (tmp_path / "db.key").read_text().startswith("dpapi:")
    assert keys.key_file_problem() is None
    assert keys.load_or_create().raw == key.raw


def test_the_key_file_holds_no_plain_key_when_protected(tmp_path: Path) -> None:
    key = manager(tmp_path, ALICE).load_or_create()
    text = (tmp_path / "config" / "db.key").read_text()
    assert text.startswith("dpapi:")
    assert key.raw.hex() not in text
    assert manager(tmp_path, ALICE).load_or_create().raw == key.raw
    assert manager(tmp_path, ALICE).key_file_problem() is None


def test_a_plain_key_file_from_an_older_version_is_protected_at_the_next_start(
    tmp_path: Path,
) -> None:
    plain = manager(tmp_path, None).load_or_create()
    key_file = tmp_path / "config" / "db.key"
    assert key_file.read_text() == plain.raw.hex()
    problem = manager(tmp_path, ALICE).key_file_problem()
    assert problem is not None and "unprotected" in problem and "DPAPI" in problem
    again = manager(tmp_path, ALICE).load_or_create()
    assert again.raw == plain.raw
    assert key_file.read_text().startswith("dpapi:")
    assert manager(tmp_path, ALICE).key_file_problem() is None


def test_another_windows_user_gets_a_clear_refusal_and_nothing_changes(tmp_path: Path) -> None:
    manager(tmp_path, ALICE).load_or_create()
    _make_database(tmp_path)
    before = (tmp_path / "config" / "db.key").read_bytes()
    with pytest.raises(BridgeError) as caught:
        manager(tmp_path, BOB).load_or_create()
    assert "protected for another Windows user or computer" in caught.value.message
    assert "left untouched" in (caught.value.hint or "")
    assert (tmp_path / "config" / "db.key").read_bytes() == before


def test_a_protected_key_file_copied_to_linux_says_where_it_can_be_opened(
    tmp_path: Path,
) -> None:
    manager(tmp_path, ALICE).load_or_create()
    with pytest.raises(BridgeError) as caught:
        manager(tmp_path, None).load_or_create()
    assert "protected with DPAPI" in caught.value.message
    assert "Windows account that created it" in (caught.value.hint or "")


class Win32CtypesError(Exception):
    """What pywin32-ctypes raises from the Credential Manager (not an OSError), e.g. 1312
    "A specified logon session does not exist" over Remote Desktop."""


@pytest.fixture
def failing_keyring(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backend import KeyringBackend

    class CredentialManagerOverRdp(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            raise Win32CtypesError(1312, "CredRead", "A specified logon session does not exist.")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise Win32CtypesError(1312, "CredWrite", "A specified logon session does not exist.")

        def delete_password(self, service: str, username: str) -> None:
            raise Win32CtypesError(1312, "CredDelete", "")

    previous = keyring.get_keyring()
    keyring.set_keyring(CredentialManagerOverRdp())
    monkeypatch.setenv("BRIDGE_KEYRING", "on")
    yield
    keyring.set_keyring(previous)


def test_any_keyring_error_falls_back_to_the_key_file_with_a_note(
    tmp_path: Path, failing_keyring: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bridge_app.store"):
        key = manager(tmp_path, None).load_or_create()
    assert key.source == "key-file"
    assert key.note is not None
    assert "The OS keyring failed (Win32CtypesError" in key.note
    assert "kept in the key file" in key.note
    assert any(key.note in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    assert key.raw.hex() not in caplog.text
    assert manager(tmp_path, None).load_or_create().raw == key.raw


def test_a_keyring_that_fails_with_a_database_present_names_the_failure(
    tmp_path: Path, failing_keyring: None
) -> None:
    _make_database(tmp_path)
    with pytest.raises(BridgeError) as caught:
        manager(tmp_path, None).load_or_create()
    assert "The OS keyring could not be read here (Win32CtypesError" in caught.value.message
    assert not (tmp_path / "config" / "db.key").exists()


@pytest.mark.skipif(
    os.environ.get("BRIDGE_TEST_KEYRING", "").lower() != "on",
    reason="uses the real OS keyring: run with BRIDGE_TEST_KEYRING=on (Windows CI leg)",
)
def test_the_real_os_keyring_holds_the_key(tmp_path: Path) -> None:
    import keyring

    entry = f"test-{os.getpid()}-{tmp_path.name}"
    keys = KeyManager(
        key_file=tmp_path / "db.key", database_file=tmp_path / "bridge.db", entry_name=entry
    )
    try:
        key = keys.load_or_create()
        assert key.source == "keyring", key.note
        assert not (tmp_path / "db.key").exists()
        assert keys.load_or_create().raw == key.raw
    finally:
        with contextlib.suppress(Exception):
            keyring.delete_password("litellm-bridge", entry)
