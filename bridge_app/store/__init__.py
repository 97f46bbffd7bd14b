"""The encrypted SQLite (SQLCipher) database and its key."""

from bridge_app.store._changes import ChangeFeed
from bridge_app.store._database import Database, StoreError
from bridge_app.store._keys import DatabaseKey, KeyManager
from bridge_app.store._migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from bridge_app.store._schema import metadata, tables
from bridge_app.store._secrets import put_shared_secret
from bridge_app.store._topics import Topic

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ChangeFeed",
    "Database",
    "DatabaseKey",
    "KeyManager",
    "Migration",
    "StoreError",
    "Topic",
    "metadata",
    "put_shared_secret",
    "tables",
]
