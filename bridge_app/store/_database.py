from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from bridge_app.runtime import BridgeError, fault_point
from bridge_app.store._files import create_owner_only, tighten, tighten_database_files
from bridge_app.store._keys import DatabaseKey
from bridge_app.store._migrations import MIGRATIONS, Migration
from bridge_app.store._schema import tables
from bridge_app.store._topics import Topic

log = logging.getLogger(__name__)

_PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"
_changes = tables["changes"]


@dataclass
class _Unit:
    """The transaction a thread holds, with what must happen when it commits."""

    conn: Connection
    writable: bool
    topics: set[str] = field(default_factory=set)
    after_commit: list[Callable[[], None]] = field(default_factory=list)


def _bump_topics(conn: Connection, topics: set[str]) -> None:
    now = time.time()
    for topic in sorted(topics):
        stmt = sqlite_insert(_changes).values(topic=topic, seq=1, changed_at=now)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[_changes.c.topic],
                set_={"seq": _changes.c.seq + 1, "changed_at": now},
            )
        )


class StoreError(BridgeError):
    pass


class Database:
    """One SQLCipher database file, opened with a raw 256-bit key.

    ``open()`` proves the key before anything is written, refuses files it cannot read
    or that come from a newer app, and upgrades older schemas in place (after copying
    the encrypted file aside). Every transaction is explicit, so DDL in a migration
    commits or rolls back together with its version bump.
    """

    def __init__(
        self,
        path: Path,
        key: DatabaseKey,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.path = path
        self._key = key
        self._migrations = tuple(migrations)
        self._engine: Engine | None = None
        self.upgraded_from: int | None = None
        self._local = threading.local()
        self._change_listeners: list[Callable[[frozenset[str]], None]] = []

    @property
    def latest_version(self) -> int:
        return self._migrations[-1].version if self._migrations else 0

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreError("The database is not open.")
        return self._engine

    def open(self) -> None:
        if self._engine is not None:
            return
        self._refuse_foreign_file()
        create_owner_only(self.path)
        tighten_database_files(self.path)  # before SQLite copies the main file's mode
        engine = self._create_engine()
        try:
            version = self._check_key(engine)
            if version > self.latest_version:
                raise StoreError(
                    f"The database {self.path} was written by a newer LiteLLM Bridge (schema "
                    f"version {version}; this app knows up to {self.latest_version}).",
                    hint="Install the newer LiteLLM Bridge again; the database was left untouched.",
                )
            if version < self.latest_version:
                self._migrate(engine, version)
        except BaseException:
            engine.dispose()
            raise
        self._engine = engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE: writers queue instead of deadlocking).

        Transactions join: a ``transaction()`` (or ``reading()``) opened on a thread that
        already holds one runs inside it, and only the outermost one commits. That is how
        the application core makes a change and its audit event one unit: it opens the
        transaction, calls the domain services (which open their own), records the event,
        and everything commits together or not at all.
        """
        outer: _Unit | None = getattr(self._local, "unit", None)
        if outer is not None:
            if not outer.writable:
                raise StoreError("A write was attempted inside a read-only transaction.")
            yield outer.conn
            return
        with self.engine.connect() as conn:
            conn = conn.execution_options(bridge_immediate=True)
            unit = _Unit(conn, writable=True)
            self._local.unit = unit
            try:
                with conn.begin():
                    yield conn
                    if unit.topics:
                        _bump_topics(conn, unit.topics)
                    fault_point("db.before_commit")
            finally:
                self._local.unit = None
        fault_point("db.after_commit")
        for callback in unit.after_commit:
            try:
                callback()
            except Exception:
                log.exception("an after-commit action failed")
        if unit.topics:
            for listener in list(self._change_listeners):
                listener(frozenset(unit.topics))

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        outer: _Unit | None = getattr(self._local, "unit", None)
        if outer is not None:
            yield outer.conn  # sees the enclosing transaction's own writes
            return
        with self.engine.connect() as conn, conn.begin():
            self._local.unit = _Unit(conn, writable=False)
            try:
                yield conn
            finally:
                self._local.unit = None

    def in_transaction(self) -> bool:
        unit: _Unit | None = getattr(self._local, "unit", None)
        return unit is not None and unit.writable

    def changed(self, *topics: Topic) -> None:
        """Say that data under ``topics`` changed. Inside a transaction the change counter
        moves in that same transaction (other processes see it exactly when the change
        commits); outside one, in a transaction of its own."""
        unit: _Unit | None = getattr(self._local, "unit", None)
        if unit is not None and unit.writable:
            unit.topics.update(topics)
            return
        with self.transaction():
            self.changed(*topics)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the enclosing transaction has committed (at once when there
        is none). A transaction that rolls back drops it."""
        unit: _Unit | None = getattr(self._local, "unit", None)
        if unit is not None and unit.writable:
            unit.after_commit.append(callback)
        else:
            callback()

    def on_commit_changes(self, listener: Callable[[frozenset[str]], None]) -> None:
        """``listener(topics)`` after each commit of this process that changed ``topics``
        (the change feed uses it to react at once instead of at its next poll)."""
        self._change_listeners.append(listener)

    def change_counters(self) -> dict[str, int]:
        with self.reading() as conn:
            rows = conn.execute(select(_changes.c.topic, _changes.c.seq)).all()
        return {str(row.topic): int(row.seq) for row in rows}

    def schema_version(self) -> int:
        with self.reading() as conn:
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())

    def cipher_version(self) -> str:
        with self.reading() as conn:
            return str(conn.exec_driver_sql("PRAGMA cipher_version").scalar_one())

    # -- internals -------------------------------------------------------------------

    def _refuse_foreign_file(self) -> None:
        if not self.path.exists():
            parent = self.path.parent
            if not parent.is_dir():
                raise StoreError(f"The data directory {parent} does not exist.")
            return
        if self.path.is_dir():
            raise StoreError(f"The database path {self.path} is a directory, not a file.")
        try:
            with self.path.open("rb") as fh:
                header = fh.read(len(_PLAIN_SQLITE_HEADER))
        except OSError as exc:
            raise StoreError(
                f"Cannot read the database {self.path}: {exc.strerror or exc}."
            ) from exc
        if header == _PLAIN_SQLITE_HEADER:
            raise StoreError(
                f"The database {self.path} is a plain, unencrypted SQLite file, not one "
                "written by LiteLLM Bridge.",
                hint="Move it away; the app will create a new encrypted database.",
            )

    def _create_engine(self) -> Engine:
        url = URL.create(
            "sqlite+pysqlcipher",
            password=f"x'{self._key.raw.hex()}'",  # SQLCipher raw key: no slow KDF per open
            database=str(self.path),
        )
        engine = create_engine(
            url,
            # The pysqlcipher dialect defaults to SingletonThreadPool, which closes other
            # threads' connections once more than five threads have used it: with the proxy,
            # the UI and worker pools that meant "closed database" and NOMEM errors. A queue
            # pool hands each checkout one connection at a time, from any thread.
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            pool_timeout=30,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_pre_ping=False,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control away from the driver: see transaction().
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # SQLCipher prints decrypt failures to stderr; open() reports them in words.
            cur.execute("PRAGMA cipher_log_level = NONE")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=FULL")  # nothing committed is lost on power loss
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("bridge_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def _check_key(self, engine: Engine) -> int:
        try:
            # autocommit (see _on_connect): WAL cannot be switched on inside a transaction
            raw = engine.raw_connection()
            cur = raw.cursor()
        except Exception as exc:
            raise self._open_error(exc) from exc
        try:
            try:
                # The first read decrypts page 1: a wrong key or a damaged file fails here,
                # before anything could be written.
                cur.execute("SELECT count(*) FROM sqlite_master")
                cur.fetchone()
            except Exception as exc:
                raise self._open_error(exc) from exc
            cur.execute("PRAGMA user_version")
            version = int(_first(cur))
            cur.execute("PRAGMA journal_mode=WAL")
            mode = _first(cur)
            if str(mode).lower() != "wal":
                log.warning("SQLite refused WAL mode (got %s)", mode)
            cur.close()
            return version
        finally:
            raw.close()

    def _open_error(self, exc: BaseException) -> StoreError:
        reason = str(getattr(exc, "orig", None) or exc)
        if "not a database" in reason or "encrypted" in reason:
            return StoreError(
                f"Cannot open the database {self.path}: the key does not match or the file "
                "is damaged.",
                hint="If you restored this file from a backup, restore its key with it. "
                "The file was left untouched.",
            )
        return StoreError(f"Cannot open the database {self.path}: {reason}.")

    def _migrate(self, engine: Engine, current: int) -> None:
        if current > 0:
            backup = self.path.with_name(f"{self.path.name}.v{current}.bak")
            try:
                create_owner_only(backup)  # copy2 then writes into it, mode kept
                shutil.copy2(self.path, backup)  # still encrypted: safe to leave beside it
                tighten(backup)
            except OSError as exc:
                raise StoreError(
                    f"Cannot back up the database before upgrading it: {exc.strerror or exc}."
                ) from exc
        pending = [m for m in self._migrations if m.version > current]
        try:
            for migration in pending:
                with engine.connect() as conn:
                    conn = conn.execution_options(bridge_immediate=True)
                    with conn.begin():
                        # Re-read under the write lock: another process may have upgraded.
                        now = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
                        if now >= migration.version:
                            continue
                        migration.apply(conn)
                        conn.exec_driver_sql(f"PRAGMA user_version = {int(migration.version)}")
                log.info("database schema upgraded to version %d", migration.version)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"Upgrading the database schema failed at step {migration.version} "
                f"({migration.description}): {exc.__class__.__name__}.",
                hint="The database was left at its previous version.",
            ) from exc
        self.upgraded_from = current


def _first(cursor: Any) -> Any:
    row = cursor.fetchone()
    if row is None:
        raise StoreError("SQLite returned no row for a PRAGMA.")
    return row[0]
