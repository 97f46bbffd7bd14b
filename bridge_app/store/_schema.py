"""SQLAlchemy Core view of the current schema (migrations own the DDL)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

settings = Table(
    "settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("updated_at", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", Text, nullable=False, unique=True),  # normalised (NFKC, casefold)
    Column("display_name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("enabled", Integer, nullable=False),
    Column("must_change_password", Integer, nullable=False),
    Column("key_salt", LargeBinary),
    Column("wrapped_data_key", LargeBinary),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", Float),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("last_login_at", Text),
)

env_entries = Table(
    "env_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),  # NULL: shared
    Column("name", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),  # encrypted
    Column("enabled", Integer, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("updated_by", Text),
)

secrets = Table(
    "secrets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("kind", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),  # encrypted
    Column("meta", Text, nullable=False),  # JSON, never secret
    Column("expires_at", Float),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("project_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("fields", Text, nullable=False),  # JSON
    Column("active", Integer, nullable=False),
    Column("updated_at", Text, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("ts", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)

usage_records = Table(
    "usage_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", Float, nullable=False),
    Column("model", Text, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("client", Text),
    Column("user", Text),  # who the proxy served (session user, else the OS account)
    Column("cost_usd", Float, nullable=False, default=0.0),  # LiteLLM's offline estimate
    Column("tokens_estimated", Integer, nullable=False, server_default="0"),
    # "ID @ HOST:PORT": the router's deployment and the host of its api_base (never a key
    # or a path); NULL for rows written before it was recorded.
    Column("deployment", Text),
    # 1: the bridge answered the request itself (policy, quota, no internal token), so it
    # is neither an upstream's error nor a deployment's.
    Column("refused", Integer, nullable=False, server_default="0"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("status", Text, nullable=False),  # active | refused
    Column("source", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("signed", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

policy_hits = Table(
    "policy_hits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject", Text, nullable=False),
    Column("ts", Float, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("tokens", Integer, nullable=False),
    Column("cost", Float, nullable=False),
)

config_versions = Table(
    "config_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("applied", Integer, nullable=False),
)

# One row per topic ("token", "config", ...): its counter moves in the same transaction as
# the change, and every running instance watches the counters (bridge_app.store.ChangeFeed).
changes = Table(
    "changes",
    metadata,
    Column("topic", Text, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("changed_at", Float, nullable=False),
)

# Failed logins per *name*, whether or not an account has it, so that throttling and
# locking cannot tell which accounts exist; shared by every process on the data folder.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("name", Text, primary_key=True),  # normalised username
    Column("failures", Integer, nullable=False),
    Column("locked_until", Float),
    Column("updated_at", Float, nullable=False),
)

tables = metadata.tables
