from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.services import open_store
from bridge_app.services._root import key_manager
from bridge_app.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Database,
    DatabaseKey,
    Migration,
    StoreError,
    metadata,
    tables,
)

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

SECRET = "sk-internal-PLAINTEXT-canary-7f3a9c"


def _key(byte: int = 1) -> DatabaseKey:
    return DatabaseKey(bytes([byte]) * 32, "key-file", "test")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.iterdir() if p.is_file())


def test_database_file_never_holds_plaintext(tmp_path: Path) -> None:
    db = Database(tmp_path / "bridge.db", _key())
    db.open()
    with db.transaction() as conn:
        conn.execute(
            insert(tables["settings"]).values(
                key="upstream.key", value=f'"{SECRET}"', updated_at="t"
            )
        )
        conn.execute(
            insert(tables["users"]).values(
                username="alice-canary",
                display_name="Alice Canary",
                role="admin",
                password_hash="h",
                created_at="t",
                updated_at="t",
            )
        )
    # Read it back first: the value really is stored, not dropped.
    with db.reading() as conn:
        stored = conn.execute(select(tables["settings"].c.value)).scalar_one()
    assert SECRET in stored
    db.close()
    raw = _all_bytes(tmp_path)  # the main file and any WAL/SHM left behind
    assert SECRET.encode() not in raw
    assert b"alice-canary" not in raw
    assert b"SQLite format 3" not in raw  # the header is encrypted too


def test_wrong_key_fails_cleanly_and_leaves_file_identical(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    db = Database(path, _key(1))
    db.open()
    with db.transaction() as conn:
        conn.execute(insert(tables["settings"]).values(key="k", value="1", updated_at="t"))
    db.close()
    before = _digest(path)
    listing = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(StoreError, match="key does not match or the file is damaged"):
        Database(path, _key(2)).open()

    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    # And the right key still opens it with the data intact.
    again = Database(path, _key(1))
    again.open()
    with again.reading() as conn:
        assert conn.execute(select(tables["settings"].c.value)).scalar_one() == "1"
    again.close()


def test_corrupted_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    path.write_bytes(os.urandom(8192))
    before = _digest(path)
    with pytest.raises(StoreError, match="damaged"):
        Database(path, _key()).open()
    assert _digest(path) == before


def test_plain_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    before = _digest(path)
    with pytest.raises(StoreError, match="plain, unencrypted SQLite"):
        Database(path, _key()).open()
    assert _digest(path) == before


def test_fresh_database_is_at_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    db = Database(tmp_path / "bridge.db", _key())
    db.open()
    assert db.schema_version() == SCHEMA_VERSION
    assert db.upgraded_from == 0
    with db.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    db.close()


def test_migrated_schema_matches_the_code_view(tmp_path: Path) -> None:
    """Every column the code queries exists in the database the migrations build."""
    db = Database(tmp_path / "bridge.db", _key())
    db.open()
    with db.reading() as conn:
        for table in metadata.sorted_tables:
            rows = conn.exec_driver_sql(f"PRAGMA table_info({table.name})").all()
            assert {r[1] for r in rows} == set(table.columns.keys()), table.name
    db.close()


def _older_chain() -> list[Migration]:
    def v1(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")

    def v2(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")
        conn.exec_driver_sql("UPDATE notes SET pinned = 1 WHERE body LIKE 'keep%'")

    return [Migration(1, "notes", v1), Migration(2, "pinned notes", v2)]


def test_migration_from_older_version_preserves_rows(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    chain = _older_chain()
    old = Database(path, _key(), migrations=chain[:1])
    old.open()
    with old.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO notes (body) VALUES ('keep me'), ('other')")
    old.close()

    new = Database(path, _key(), migrations=chain)
    new.open()
    assert new.upgraded_from == 1
    assert new.schema_version() == 2
    with new.reading() as conn:
        rows = conn.execute(text("SELECT body, pinned FROM notes ORDER BY id")).all()
    assert rows == [("keep me", 1), ("other", 0)]
    new.close()
    # The pre-upgrade copy is kept, still encrypted, still at version 1.
    backup = tmp_path / "bridge.db.v1.bak"
    assert backup.exists()
    assert b"keep me" not in backup.read_bytes()
    restored = Database(backup, _key(), migrations=chain[:1])
    restored.open()
    assert restored.schema_version() == 1
    restored.close()


def test_failed_migration_leaves_previous_version_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    chain = _older_chain()
    Database(path, _key(), migrations=chain[:1]).open()
    db = Database(path, _key(), migrations=chain[:1])
    db.open()
    with db.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO notes (body) VALUES ('precious')")
    db.close()

    def broken(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("ALTER TABLE notes ADD COLUMN half INTEGER")
        conn.exec_driver_sql("THIS IS NOT SQL")

    with pytest.raises(StoreError, match="failed at step 2") as failure:
        Database(path, _key(), migrations=[chain[0], Migration(2, "broken", broken)]).open()
    assert "left at its previous version" in (failure.value.hint or "")

    check = Database(path, _key(), migrations=chain[:1])
    check.open()
    assert check.schema_version() == 1
    with check.reading() as conn:
        cols = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(notes)").all()}
        assert "half" not in cols  # the DDL rolled back with the failed step
        assert conn.execute(text("SELECT body FROM notes")).scalar_one() == "precious"
    check.close()


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    chain = _older_chain()
    newer = Database(path, _key(), migrations=chain)
    newer.open()
    newer.close()  # left open, its WAL checkpoint at garbage collection changes the file
    before = _digest(path)
    with pytest.raises(StoreError, match=r"newer LiteLLM Bridge \(schema version 2"):
        Database(path, _key(), migrations=chain[:1]).open()
    assert _digest(path) == before


def test_real_migrations_are_numbered_in_order() -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1))


def test_key_file_is_created_owner_only_and_reused(
    app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_KEYRING", "off")
    db, key = open_store(app_paths)
    db.close()
    assert key.source == "key-file"
    if sys.platform != "win32":
        assert stat.S_IMODE(app_paths.key_file.stat().st_mode) == 0o600
    db2, key2 = open_store(app_paths)
    db2.close()
    assert key2.raw == key.raw
    assert key.raw.hex() not in repr(key)


def test_missing_key_never_recreates_the_database(app_paths: AppPaths) -> None:
    db, _ = open_store(app_paths)
    db.close()
    before = _digest(app_paths.database_file)
    app_paths.key_file.unlink()
    with pytest.raises(BridgeError, match="its key was found neither"):
        open_store(app_paths)
    assert _digest(app_paths.database_file) == before
    assert not app_paths.key_file.exists()


def test_damaged_key_file_is_reported(app_paths: AppPaths) -> None:
    db, _ = open_store(app_paths)
    db.close()
    app_paths.key_file.write_text("not hex at all", encoding="ascii")
    with pytest.raises(BridgeError, match="cannot be read or is damaged"):
        open_store(app_paths)


def test_keyring_is_preferred_when_it_works(
    app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    monkeypatch.setenv("BRIDGE_KEYRING", "on")
    try:
        db, key = open_store(app_paths)
        db.close()
        assert key.source == "keyring"
        assert not app_paths.key_file.exists()
        assert len(memory.items) == 1
        db, again = open_store(app_paths)
        db.close()
        assert again.raw == key.raw
    finally:
        keyring.set_keyring(previous)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_doctor_flags_a_key_file_readable_by_others(app_paths: AppPaths) -> None:
    db, _ = open_store(app_paths)
    db.close()
    app_paths.key_file.chmod(0o644)
    assert "readable by other users" in (key_manager(app_paths).key_file_problem() or "")


def test_many_threads_can_use_the_database_at_once(tmp_path: Path) -> None:
    """The proxy's usage writer, the UI and worker pools all use the store concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    db = Database(tmp_path / "bridge.db", _key())
    db.open()

    def work(i: int) -> int:
        with db.transaction() as conn:
            conn.execute(
                insert(tables["settings"]).values(key=f"k{i}", value=str(i), updated_at="t")
            )
        with db.reading() as conn:
            return int(
                conn.execute(
                    select(tables["settings"].c.value).where(tables["settings"].c.key == f"k{i}")
                ).scalar_one()
            )

    for _round in range(3):  # fresh threads each round, as executors create them
        with ThreadPoolExecutor(max_workers=16) as pool:
            offset = _round * 100
            assert list(pool.map(work, range(offset, offset + 60))) == list(
                range(offset, offset + 60)
            )
    db.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")


@posix_only
def test_database_files_are_created_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o002)  # a umask that would make new files group-writable
    try:
        path = tmp_path / "bridge.db"
        db = Database(path, _key())
        db.open()
        with db.transaction() as conn:
            conn.execute(insert(tables["settings"]).values(key="k", value="1", updated_at="t"))
            held = db.engine.connect()  # an open reader keeps -wal and -shm on disk
            held.exec_driver_sql("SELECT count(*) FROM settings").all()
        files = [path, tmp_path / "bridge.db-wal", tmp_path / "bridge.db-shm"]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        held.close()
        db.close()
    finally:
        os.umask(previous)


@posix_only
def test_database_files_found_wider_are_tightened_at_open(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    chain = _older_chain()
    old = Database(path, _key(), migrations=chain[:1])
    old.open()
    old.close()
    for suffix in ("", "-wal", "-shm"):
        side = tmp_path / f"bridge.db{suffix}"
        side.touch()
        side.chmod(0o644)
    stale_backup = tmp_path / "bridge.db.v0.bak"
    stale_backup.write_bytes(b"old")
    stale_backup.chmod(0o664)

    new = Database(path, _key(), migrations=chain)  # an upgrade: makes bridge.db.v1.bak
    new.open()
    new.close()
    files = sorted(p for p in tmp_path.iterdir() if p.name.startswith("bridge.db"))
    assert tmp_path / "bridge.db.v1.bak" in files
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
