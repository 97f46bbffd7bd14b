from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bridge_app.audit import AuditLog
from bridge_app.auth import AuthService, Session
from bridge_app.clients import ToolsService
from bridge_app.config import ConfigService
from bridge_app.diagnostics import DiagnosticsService
from bridge_app.envvars import APP_PROVIDED, EnvService
from bridge_app.fleet import TOKEN_ENTRY, AuditForwarder
from bridge_app.integrity import IntegrityService
from bridge_app.policy import PolicyService, PolicyWatcher, RequestPolicy
from bridge_app.proxy import ProxyService, ProxyState
from bridge_app.remote import RemoteService
from bridge_app.runtime import (
    AppPaths,
    BridgeError,
    Redactor,
    network_filesystem,
    use_os_trust_store,
)
from bridge_app.services._core import AppCore
from bridge_app.services._core_fleet import forward_destinations
from bridge_app.services._doctor import network_share_warning, run_doctor
from bridge_app.services._live import LiveSync
from bridge_app.services._network import network_layer
from bridge_app.services._wiring import (
    ProxyRestarter,
    attach_token_flow,
    integrity_audit_hook,
    proxy_audit_hook,
)
from bridge_app.settings import SettingsService
from bridge_app.store import SCHEMA_VERSION, ChangeFeed, Database, DatabaseKey, KeyManager
from bridge_app.tokens import TokenKeeper, TokenService
from bridge_app.updates import SOURCE_SETTING, UpdatePolicy, UpdateService
from bridge_app.usage import UsageService

log = logging.getLogger(__name__)


def key_manager(paths: AppPaths) -> KeyManager:
    return KeyManager(
        key_file=paths.key_file,
        database_file=paths.database_file,
        entry_name=f"database-key:{paths.data_dir}",
    )


def open_store(paths: AppPaths) -> tuple[Database, DatabaseKey]:
    """Find the key and open (creating or upgrading) the database; BridgeError on failure."""
    paths.ensure()
    share = network_filesystem(paths.data_dir)
    if share is not None:
        log.warning("%s %s", *network_share_warning(paths, share))
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
    policy: PolicyService
    usage: UsageService
    changes: ChangeFeed
    policy_watcher: PolicyWatcher
    diagnostics: DiagnosticsService
    updates: UpdateService
    remote: RemoteService
    request_policy: RequestPolicy
    forwarder: AuditForwarder = field(init=False, repr=False)
    _closed: bool = field(default=False, repr=False)

    core: AppCore = field(init=False, repr=False)
    live: LiveSync = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.core = AppCore(self)
        self.live = LiveSync(self)
        env = self.env
        self.forwarder = AuditForwarder(
            db=self.db,
            audit=self.audit,
            redactor=self.redactor,
            destinations=lambda: forward_destinations(self),
            network=lambda: env.network_settings(None),
            token=lambda: env.effective_environment(None).get(TOKEN_ENTRY),
        )

    def known_env_names(self, session: Session | None) -> set[str]:
        """The variables config validation may reference: this person's entries, shared
        ones, the process environment and what the app itself provides."""
        names = self.env.defined_names(None) | set(os.environ) | APP_PROVIDED
        return names | self.env.defined_names(session) if session is not None else names

    def entries_missing_before_login(self) -> list[str]:
        """The variables the active config needs that neither the shared entries, the
        process environment nor the app provide (a person's own entries): a proxy started
        before the login would fail, so an automatic start (kiosk, ``proxy.autostart``)
        waits for it."""
        check = self.env.check(None, self.config.read_active() or "")
        return [
            name
            for name in check.missing + check.disabled
            if name not in os.environ and name not in APP_PROVIDED
        ]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.live.stop()
            self.forwarder.stop()
            self.token_keeper.stop()
            self.usage.stop()
            self.proxy.close()  # before the database: it flushes usage rows
            self.request_policy.close()  # the count of a refusal burst still open
            self.db.close()


def build_services(paths: AppPaths | None = None, *, redactor: Redactor | None = None) -> Services:
    # Every front end builds its services here: the OS trust store applies to all of them
    # (main() has done it already for the CLI and the window; a no-op then).
    use_os_trust_store()
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
        audit=audit,
        settings=settings,
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
    policy = PolicyService(db=db, audit=audit, settings=settings)
    env.change_guard = policy.check_change  # shared entries under the config lock
    changes = ChangeFeed(db=db)
    enforcer = RequestPolicy(service=policy, audit=audit)
    # Registered before the token flow: a forbidden model is refused before anything else.
    proxy.on_supervisor(lambda supervisor: supervisor.add_admission_hook(enforcer))
    proxy.on_supervisor(lambda supervisor: supervisor.add_request_hook(enforcer.upstream))
    proxy.on_supervisor(lambda supervisor: supervisor.limit_in_flight(enforcer))
    proxy.usage.annotate = enforcer.annotate
    proxy.served_user = lambda: policy.subject_user
    tokens = TokenService(db=db, settings=settings, env=env, redactor=redactor, audit=audit)
    token_keeper = attach_token_flow(proxy, tokens)
    tools = make_tools_service(
        db=db, key=key, settings=settings, proxy=proxy, redactor=redactor, audit=audit
    )
    try:
        for line in tools.recover():  # an apply or revert a crash interrupted
            log.warning("tools: %s", line)
    except BridgeError as exc:
        log.warning("could not finish an interrupted tools change: %s", exc.message)
    tools.load_keys()  # per-tool keys are valid from the proxy's first request
    try:
        config.reconcile()  # history always shows the active version, even after a crash
    except BridgeError as exc:
        log.warning("could not check the active config against its history: %s", exc.message)
    integrity = IntegrityService(
        settings=settings,
        on_failed=integrity_audit_hook(audit),
    )
    diagnostics = DiagnosticsService(
        paths=paths,
        redactor=redactor,
        settings=settings,
        audit=audit,
        config=config,
        env=env,
        tokens=tokens,
        tools=tools,
        proxy=proxy,
        integrity=integrity,
        doctor=lambda: run_doctor(paths).to_dict(),
    )
    updates = UpdateService(
        paths=paths,
        source=lambda: settings.get(SOURCE_SETTING),
        set_source=lambda value: settings.set(SOURCE_SETTING, value),
        proxy_serving=lambda: proxy.status().state in (ProxyState.RUNNING, ProxyState.DEGRADED),
        audit=lambda action, outcome, detail: audit.record(
            None, action, "updates", outcome, detail
        ),
        policy=lambda: _update_policy(policy),
        schema=SCHEMA_VERSION,
        network=lambda: env.network_settings(None),
    )
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
    proxy.add_environment_layer(network_layer(proxy.active_config))
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
        integrity=integrity,
        proxy=proxy,
        tools=tools,
        policy=policy,
        usage=UsageService(db=db, policy=policy),
        changes=changes,
        policy_watcher=PolicyWatcher(service=policy, feed=changes),
        diagnostics=diagnostics,
        updates=updates,
        remote=remote,
        request_policy=enforcer,
    )


def _update_policy(policy: PolicyService) -> UpdatePolicy:
    """The managed policy's `updates:` section (pin a version, or no updates at all)."""
    current = policy.policy()
    return UpdatePolicy(disabled=current.updates_disabled, pinned_version=current.updates_pin)


def make_tools_service(
    *,
    db: Database,
    key: DatabaseKey,
    settings: SettingsService,
    proxy: ProxyService,
    redactor: Redactor,
    audit: AuditLog,
    **options: Any,
) -> ToolsService:
    """The CLI tools' service over this install's store (its per-tool keys sealed with a
    key derived for them); ``options`` are ToolsService's own (home, search_path...)."""
    return ToolsService(
        db=db,
        seal_key=derive_install_key(key, "tool-config"),
        settings=settings,
        proxy=proxy,
        redactor=redactor,
        audit=audit,
        **options,
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
