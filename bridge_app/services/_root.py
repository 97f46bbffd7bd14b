from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bridge_app.audit import AuditLog
from bridge_app.auth import AuthService, Session
from bridge_app.clients import ToolsService
from bridge_app.config import ConfigService
from bridge_app.envvars import APP_PROVIDED, EnvService
from bridge_app.integrity import IntegrityService
from bridge_app.proxy import ProxyService
from bridge_app.remote import RemoteService
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services._wiring import ProxyRestarter, attach_token_flow, proxy_audit_hook
from bridge_app.settings import SettingsService
from bridge_app.store import Database, DatabaseKey, KeyManager
from bridge_app.tokens import TokenKeeper, TokenService


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
    token_keeper: TokenKeeper
    integrity: IntegrityService
    proxy: ProxyService
    tools: ToolsService
    remote: RemoteService
    _closed: bool = field(default=False, repr=False)

    def use_session(self, session: Session | None) -> None:
        """Who the running app works for: the proxy's next start sees this person's
        environment entries (shared ones without a session), requests carry their internal
        token and project, the token keeper refreshes it, and config validation knows their
        variables. Blocking (decrypts, reads the store): call it off a UI thread."""
        env = self.env
        self.proxy.environment = lambda: env.effective_environment(session)
        self.config.set_known_env(
            lambda: (
                env.defined_names(session)
                | env.defined_names(None)
                | set(os.environ)
                | APP_PROVIDED
            )
        )
        if session is None:
            self.tokens.deactivate()
        else:
            self.tokens.activate(session)
        self.token_keeper.set_session(session)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.token_keeper.stop()
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
    config = ConfigService(
        paths=paths,
        db=db,
        # What the in-process proxy will see: the app's own variables, the process
        # environment, and shared entries (the UI and CLI add the logged-in user's personal
        # ones with config.set_known_env()).
        known_env=lambda: env.defined_names(None) | set(os.environ) | APP_PROVIDED,
    )
    proxy = ProxyService(
        paths=paths,
        db=db,
        db_key=key.raw,
        redactor=redactor,
        settings=settings,
        # Until someone logs in (headless serve) the proxy sees the shared entries;
        # a logged-in front end swaps in effective_environment(session).
        environment=lambda: env.effective_environment(None),
        on_event=proxy_audit_hook(audit),
    )
    config.set_restarter(ProxyRestarter(proxy))
    tokens = TokenService(db=db, settings=settings, env=env, redactor=redactor, audit=audit)
    token_keeper = attach_token_flow(proxy, tokens)
    tools = ToolsService(
        db=db,
        seal_key=derive_install_key(key, "tool-config"),
        settings=settings,
        proxy=proxy,
        redactor=redactor,
        audit=audit,
    )
    tools.load_keys()  # per-tool keys are valid from the proxy's first request
    remote = RemoteService(
        paths=paths,
        db=db,
        seal_key=derive_install_key(key, "remote-gateway"),
        env=env,
        config=config,
        audit=audit,
        active_config=proxy.active_config,
        proxy_status=proxy.status,
    )
    proxy.add_environment_layer(remote.proxy_environment)
    return Services(
        paths=paths,
        redactor=redactor,
        db=db,
        db_key=key,
        settings=settings,
        audit=audit,
        auth=auth,
        env=env,
        config=config,
        tokens=tokens,
        token_keeper=token_keeper,
        integrity=IntegrityService(settings=settings),
        proxy=proxy,
        tools=tools,
        remote=remote,
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
