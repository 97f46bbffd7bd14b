from __future__ import annotations

from dataclasses import dataclass, field

from bridge_app.proxy import ProxyService
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database, DatabaseKey, KeyManager


def key_manager(paths: AppPaths) -> KeyManager:
    return KeyManager(
        key_file=paths.key_file,
        database_file=paths.database_file,
        entry_name=f"database-key:{paths.data_dir}",
    )


def open_store(paths: AppPaths) -> tuple[Database, DatabaseKey]:
    """Find the key and open (creating or upgrading) the database; BridgeError on failure."""
    paths.ensure()
    key = key_manager(paths).load_or_create()
    db = Database(paths.database_file, key)
    db.open()
    return db, key


@dataclass
class Services:
    paths: AppPaths
    redactor: Redactor
    db: Database
    db_key: DatabaseKey
    settings: SettingsService
    proxy: ProxyService
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.proxy.close()  # before the database: it flushes usage rows
            self.db.close()


def build_services(paths: AppPaths | None = None, *, redactor: Redactor | None = None) -> Services:
    paths = paths or AppPaths.from_environment()
    redactor = redactor or Redactor()
    db, key = open_store(paths)
    settings = SettingsService(db=db)
    return Services(
        paths=paths,
        redactor=redactor,
        db=db,
        db_key=key,
        settings=settings,
        # environment= and on_event= come from the env manager and the audit log (their
        # services are built by other modules; until then the proxy sees no extra env).
        proxy=ProxyService(
            paths=paths, db=db, db_key=key.raw, redactor=redactor, settings=settings
        ),
    )
