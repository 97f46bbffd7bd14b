from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bridge_app.audit import AuditLog
from bridge_app.auth import AuthService
from bridge_app.config import ConfigService
from bridge_app.envvars import APP_PROVIDED, EnvService
from bridge_app.proxy import ProxyService
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database, DatabaseKey, KeyManager
from bridge_app.tokens import TokenService


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
    audit: AuditLog
    auth: AuthService
    env: EnvService
    config: ConfigService
    tokens: TokenService
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
    audit = AuditLog(db=db, redactor=redactor)
    auth = AuthService(db=db, audit=audit, settings=settings)
    env = EnvService(
        db=db,
        shared_key=derive_install_key(key, "shared-env"),
        redactor=redactor,
        audit=audit,
        reauthenticate=auth.confirm_password,  # type: ignore[arg-type]
    )
    return Services(
        paths=paths,
        redactor=redactor,
        db=db,
        db_key=key,
        settings=settings,
        audit=audit,
        auth=auth,
        env=env,
        # What the in-process proxy will see: the app's own variables, the process
        # environment, and shared entries (the UI and CLI add the logged-in user's personal
        # ones with config.set_known_env()).
        config=ConfigService(
            paths=paths,
            db=db,
            known_env=lambda: env.defined_names(None) | set(os.environ) | APP_PROVIDED,
        ),
        tokens=TokenService(db=db, settings=settings, env=env, redactor=redactor, audit=audit),
        # Shared env entries by default; the GUI swaps in the logged-in user's view.
        proxy=ProxyService(
            paths=paths,
            db=db,
            db_key=key.raw,
            redactor=redactor,
            settings=settings,
            environment=lambda: env.effective_environment(None),
            on_event=lambda action, detail: _proxy_event(audit, action, detail),
        ),
    )


def derive_install_key(key: DatabaseKey, purpose: str) -> bytes:
    """A key for machine-wide secrets (shared env entries, ...), bound to this install's
    database key: such values are sealed again inside the already encrypted database."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"litellm-bridge:{purpose}:v1".encode(),
    ).derive(key.raw)


def _proxy_event(audit: AuditLog, action: str, detail: str) -> None:
    failed = action.endswith(("failed", "start_failed"))
    audit.record(None, action, "proxy", "failed" if failed else "ok", detail)
