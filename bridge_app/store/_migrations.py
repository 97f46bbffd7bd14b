"""Schema migrations, applied in order; the database records the last one in user_version.

Each step is frozen DDL: never edit a released step, add a new one. A step runs in the
same transaction as the user_version bump, so a failed upgrade leaves the old schema.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _run(*statements: str) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        for statement in statements:
            conn.exec_driver_sql(statement)

    return apply


_V1 = _run(
    """CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        password_hash TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        must_change_password INTEGER NOT NULL DEFAULT 0,
        key_salt BLOB,
        wrapped_data_key BLOB,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until REAL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_login_at TEXT)""",
    """CREATE TABLE env_entries (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value BLOB NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL,
        updated_by TEXT)""",
    "CREATE UNIQUE INDEX env_entries_shared ON env_entries(name) WHERE owner_id IS NULL",
    """CREATE UNIQUE INDEX env_entries_personal ON env_entries(owner_id, name)
        WHERE owner_id IS NOT NULL""",
    """CREATE TABLE secrets (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        label TEXT NOT NULL,
        value BLOB NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}',
        expires_at REAL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)""",
    "CREATE INDEX secrets_owner_kind ON secrets(owner_id, kind)",
    """CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        project_id TEXT NOT NULL,
        name TEXT NOT NULL,
        fields TEXT NOT NULL DEFAULT '{}',
        active INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL)""",
    """CREATE TABLE usage_records (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        model TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        status INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        client TEXT)""",
    "CREATE INDEX usage_records_ts ON usage_records(ts)",
    """CREATE TABLE config_versions (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        content TEXT NOT NULL,
        author TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        applied INTEGER NOT NULL DEFAULT 0)""",
)

_V2 = _run(
    """CREATE TABLE changes (
        topic TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        changed_at REAL NOT NULL)""",
    """CREATE TABLE login_attempts (
        name TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until REAL,
        updated_at REAL NOT NULL)""",
    # config_versions.applied: 1 active, 0 never applied; 2 rolled back (see config history)
)

_V3 = _run(
    # Every policy the app accepted or refused, newest last; the latest "active" one is in
    # force (a refused file never replaces it).
    """CREATE TABLE policy_versions (
        id INTEGER PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('active', 'refused')),
        source TEXT NOT NULL,
        digest TEXT NOT NULL,
        content TEXT NOT NULL,
        signed INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        actor TEXT NOT NULL,
        created_at REAL NOT NULL)""",
    # Admitted requests and their tokens/cost per subject ("user:NAME", "tool:NAME"): the
    # local limit counters (they survive a restart); pruned after a month.
    """CREATE TABLE policy_hits (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        ts REAL NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        tokens INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0)""",
    "CREATE INDEX policy_hits_subject_ts ON policy_hits(subject, ts)",
    "ALTER TABLE usage_records ADD COLUMN user TEXT",
    "ALTER TABLE usage_records ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0",
)

MIGRATIONS: Sequence[Migration] = (
    Migration(
        1,
        "initial schema: settings, users, env, secrets, projects, audit, usage, config history",
        _V1,
    ),
    Migration(2, "change counters for live instances; login throttling by name", _V2),
    Migration(3, "managed policy history, limit counters, usage user and cost", _V3),
    Migration(
        4,
        "usage_records.tokens_estimated: 1 when tokens_in is an estimate (no usage upstream)",
        _run("ALTER TABLE usage_records ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0"),
    ),
    Migration(
        5,
        "usage_records.deployment: which deployment answered (router id @ api_base host)",
        _run("ALTER TABLE usage_records ADD COLUMN deployment TEXT"),
    ),
    Migration(
        6,
        "usage_records.refused: 1 when the bridge answered the request itself (policy, quota)",
        _run("ALTER TABLE usage_records ADD COLUMN refused INTEGER NOT NULL DEFAULT 0"),
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
