"""The application core: every use-case of the app, decided in one place.

Each public method marked ``@use_case`` is what a front end calls for one thing a person
does: the CLI collects the arguments, the GUI collects the taps, both call the same
method and show its answer or its BridgeError. The method checks the role (and the
integrity gate where the proxy starts), performs the change through the domain services,
and records the audit event in the same database transaction, which also moves the
change-feed counters other running instances watch (see docs/architecture.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge_app.auth import PermissionDeniedError, ResetResult, Session, UserInfo
from bridge_app.clients import ChangeResult
from bridge_app.config import ApplyResult, ConfigApplyError
from bridge_app.envvars import EnvError, ImportPreview, ImportResult, Scope, config_references
from bridge_app.proxy import ProxyState, ProxySupervisor
from bridge_app.runtime import BridgeError
from bridge_app.services._core_fleet import FleetUseCases
from bridge_app.services._core_login import LoginStartUseCases
from bridge_app.services._core_remote import RemoteUseCases
from bridge_app.services._core_tokens import TokenUseCases
from bridge_app.services._core_updates import UpdateUseCases
from bridge_app.services._settings_rules import check_setting
from bridge_app.services._usecases import UseCase, use_case
from bridge_app.store import Topic
from bridge_app.usage import GroupBy, UsageFilter, UsageReport

if TYPE_CHECKING:
    from bridge_app.services._root import Services

log = logging.getLogger(__name__)

APPLY_WAIT_S = 90.0  # how long an apply waits for a proxy running in another process


class AppCore(TokenUseCases, RemoteUseCases, UpdateUseCases, LoginStartUseCases, FleetUseCases):
    def __init__(self, services: Services) -> None:
        self.services = services
        self.db = services.db
        self.session: Session | None = None  # who this running instance works for
        self._session_observers: list[Callable[[Session | None], None]] = []

    # -- the checks every use-case shares ----------------------------------------------

    def authorize(self, session: Session | None, spec: UseCase) -> None:
        if session is None:
            raise BridgeError("Log in first.", hint="Use --as USER, or log in in the window.")
        guard = self.services.auth.guard
        if spec.role == "admin":
            guard.require_admin(session, operation=spec.name.replace("_", " "))
        else:
            guard.require(session)

    # -- sessions ----------------------------------------------------------------------

    @use_case(role="anyone", transactional=False)
    def login(self, username: str, password: str) -> Session:
        return self.services.auth.login(username, password)

    @use_case(role="anyone", transactional=False)
    def logout(self, session: Session) -> None:
        if self.session is session:
            self.use_session(None)
        self.services.auth.logout(session)

    @use_case(role="anyone", transactional=False)
    def use_session(self, session: Session | None) -> None:
        """Who this running instance works for, the one path for the window and
        `serve --as`: the proxy's next start sees this person's environment entries
        (shared ones without a session), requests carry their internal token and project,
        the token keeper refreshes it, and config validation knows their variables.
        Blocking (decrypts, reads the store): call it off a UI thread."""
        services = self.services
        env = services.env
        self.session = session
        services.proxy.environment = lambda: env.effective_environment(session)
        services.config.set_known_env(lambda: services.known_env_names(session))
        if session is None:
            services.tokens.deactivate()
        else:
            services.tokens.activate(session)
        services.token_keeper.set_session(session)
        services.policy.serve_as(session)  # whose limits and role apply to requests
        managed_idle = services.policy.policy().idle_lock_minutes
        if session is not None and managed_idle is not None:
            session.idle_lock_minutes = managed_idle  # the company's idle lock wins
        for observer in list(self._session_observers):
            try:
                observer(session)
            except Exception:
                log.exception("a session observer failed")

    def on_session(self, observer: Callable[[Session | None], None]) -> None:
        self._session_observers.append(observer)

    def on_alert(self, notify: Callable[[str, str], None]) -> None:
        """``notify(title, message)`` for each of IT's alerts (quota, proxy failure, ...)
        while this instance forwards them: the window's desktop notification, serve's
        standard error (docs/fleet.md)."""
        self.services.forwarder.add_notifier(notify)

    @use_case(role="anyone", transactional=False)
    def quit_kiosk(self, username: str, password: str) -> None:
        """Kiosk mode ends only for an admin's password; the attempt is audited."""
        auth = self.services.auth
        session = auth.login(username, password)
        try:
            if not session.is_admin:
                self.services.audit.record(session, "kiosk.quit", "kiosk", "denied", "not an admin")
                raise PermissionDeniedError("quitting kiosk mode")
            self.services.audit.record(session, "kiosk.quit", "kiosk", "ok", "")
        finally:
            auth.logout(session)

    # -- the proxy ---------------------------------------------------------------------

    @use_case(role="anyone", transactional=False)
    def start_proxy(self, *, host: str | None = None, port: int | None = None) -> ProxySupervisor:
        """Start (or return) this process's proxy: the integrity gate and the bind address
        are checked here for every front end (window, kiosk autostart, `serve`)."""
        services = self.services
        status = services.integrity.ensure_proxy_may_start()
        if status.warning:
            log.warning("%s", status.warning)
        supervisor = services.proxy.supervisor(host=host, port=port)
        services.proxy.check_host(supervisor.host)  # loopback unless an admin allowed more
        services.policy.check_listen(supervisor.host)  # and unless the company forbids it
        if supervisor.state not in (ProxyState.RUNNING, ProxyState.DEGRADED):
            supervisor.start()
        return supervisor

    @use_case(role="anyone", transactional=False)
    def stop_proxy(self) -> None:
        if self.services.proxy.has_supervisor():
            self.services.proxy.supervisor().stop()

    # -- config ------------------------------------------------------------------------

    def may_change(self, session: Session, area: str, *, operation: str) -> None:
        """Who may change the config, shared entries or machine settings. Without a company
        policy: admins. A policy's config_lock decides otherwise: ``off`` (anyone logged
        in), ``admin_only`` or ``locked`` (nobody). Checked before the change's transaction
        opens, so a refusal's audit event stays."""
        policy = self.services.policy
        if not policy.current().source.startswith("none"):
            policy.check_change(session, area)
        elif not session.is_admin:
            self.services.auth.guard.require_admin(session, operation=operation)

    @use_case(role="user", transactional=False)
    def apply_config(
        self, session: Session, content: str | bytes, *, comment: str = "", name: str | None = None
    ) -> ApplyResult:
        self.may_change(session, "config", operation="apply config")
        config = self.services.config
        return self._after_apply(
            config.apply(
                content, author=session.username, comment=comment, name=name or config.active_name
            )
        )

    @use_case(role="user", transactional=False)
    def restore_config(self, session: Session, version: int) -> ApplyResult:
        self.may_change(session, "config", operation="restore config")
        return self._after_apply(self.services.config.restore(version, author=session.username))

    # -- CLI tools (the OS user's own config files: no app account needed) ------------------

    @use_case(role="anyone", transactional=False)
    def apply_tool(self, tool_id: str, **options: Any) -> ChangeResult:
        """Point a tool at the proxy with its own key (never the master key); the files are
        the OS user's, written with a backup, and the change is audited."""
        return self.services.tools.apply(tool_id, **options)

    @use_case(role="anyone", transactional=False)
    def revert_tool(self, tool_id: str, **options: Any) -> ChangeResult:
        return self.services.tools.revert(tool_id, **options)

    @use_case(role="anyone", transactional=False)
    def create_tool_key(self, tool_id: str, *, actor: Any = None) -> str:
        """A new proxy key for one tool, replacing (and revoking) its previous one; a
        running proxy, here or in another process, accepts it within seconds."""
        return self.services.tools.create_key(tool_id, actor=actor)

    @use_case(role="anyone", transactional=False)
    def revoke_tool_key(self, tool_id: str, *, actor: Any = None) -> bool:
        """Revoke a tool's own key; False when it had none."""
        return self.services.tools.revoke_key(tool_id, actor=actor)

    def _after_apply(self, result: ApplyResult) -> ApplyResult:
        """The proxy runs in another process (`serve`, the window): it restarts with the
        new version there (see LiveSync); wait for its answer so the person who applied
        learns whether it took or was rolled back, and why."""
        if result.restarted:
            return result
        status = self.services.proxy.status()
        if status.state not in (ProxyState.RUNNING, ProxyState.DEGRADED):
            return result
        config = self.services.config
        deadline = time.monotonic() + APPLY_WAIT_S
        while time.monotonic() < deadline:
            version = config.history.get(result.version_id)
            if not version.applied:
                raise ConfigApplyError(
                    "The proxy running in another process did not become ready with the "
                    f"new config and went back to the previous one: {version.comment}",
                    reason=version.comment,
                    restored=True,
                    hint="Fix the config and apply it again; nothing else changed.",
                )
            if config.running_version() == result.version_id:
                return ApplyResult(
                    result.version_id,
                    True,
                    result.validation,
                    f"Applied as version {result.version_id}; the proxy running in another "
                    "process restarted with it.",
                )
            time.sleep(0.2)
        return ApplyResult(
            result.version_id,
            False,
            result.validation,
            f"Saved as version {result.version_id}; the proxy running in another process has "
            f"not confirmed the restart within {APPLY_WAIT_S:.0f} s (see its logs).",
        )

    # -- settings ----------------------------------------------------------------------

    @use_case(role="user", transactional=False)
    def change_settings(self, session: Session, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate every value, refuse machine settings to non-admins, store and audit
        them as one change. Returns the values as stored."""
        settings = self.services.settings
        cleaned: dict[str, Any] = {}
        for key, value in changes.items():
            rule = check_setting(key, value)
            cleaned[key] = rule.value
            if rule.machine and settings.get(key) != rule.value:
                # Checked before the transaction opens: the refusal's audit event stays.
                self.may_change(session, "settings", operation=f"changing {key}")
        with self.db.transaction():
            for key, value in cleaned.items():
                before = settings.get(key)
                if before == value:
                    continue
                settings.set(key, value)
                self.services.audit.record(
                    session, "settings.change", key, "ok", f"{_short(before)} -> {_short(value)}"
                )
            self.db.changed(Topic.SETTINGS)
        return cleaned

    # -- environment entries -----------------------------------------------------------

    @use_case(role="user", topics=(Topic.ENV,))
    def set_env(
        self,
        session: Session,
        name: str,
        value: str,
        *,
        scope: Scope = "personal",
        enabled: bool | None = None,
    ) -> bool:
        return self.services.env.set(session, name, value, scope=scope, enabled=enabled)

    @use_case(role="user", topics=(Topic.ENV,))
    def unset_env(self, session: Session, name: str, *, scope: Scope = "personal") -> None:
        self._refuse_if_config_needs(session, name, scope)
        self.services.env.unset(session, name, scope=scope)

    @use_case(role="user", topics=(Topic.ENV,))
    def set_env_enabled(
        self, session: Session, name: str, enabled: bool, *, scope: Scope = "personal"
    ) -> None:
        if not enabled:
            self._refuse_if_config_needs(session, name, scope)
        self.services.env.set_enabled(session, name, enabled, scope=scope)

    def _refuse_if_config_needs(self, session: Session, name: str, scope: Scope) -> None:
        """An entry the active config refers to cannot go while nothing else provides it:
        the proxy could not start without it, and a running one would fail for every
        model (issue 26). Refused up front, with what to do."""
        if name not in config_references(self.services.config.read_active() or ""):
            return
        if self.services.env.available_without(session, name, scope):
            return
        raise EnvError(
            f"The active config uses {name} (os.environ/{name}): without it the proxy "
            "could not start.",
            hint="First remove or change what uses it (Remote & models, or `litellm-bridge "
            "models remove ID`; `litellm-bridge env check` lists what the config refers to).",
        )

    @use_case(role="user", topics=(Topic.ENV,))
    def import_env(
        self, session: Session, preview: ImportPreview, *, scope: Scope = "personal"
    ) -> ImportResult:
        return self.services.env.apply_import(session, preview, scope=scope)

    # -- users -------------------------------------------------------------------------

    @use_case(role="admin", topics=(Topic.USERS,))
    def create_user(
        self,
        session: Session,
        username: str,
        password: str,
        *,
        role: str = "user",
        display_name: str | None = None,
    ) -> UserInfo:
        return self.services.auth.create_user(
            session, username, password, role=role, display_name=display_name
        )

    @use_case(role="admin", topics=(Topic.USERS,))
    def disable_user(self, session: Session, username: str) -> UserInfo:
        return self.services.auth.disable_user(session, username)

    @use_case(role="admin", topics=(Topic.USERS,))
    def enable_user(self, session: Session, username: str) -> UserInfo:
        return self.services.auth.enable_user(session, username)

    @use_case(role="admin", topics=(Topic.USERS,))
    def delete_user(self, session: Session, username: str) -> None:
        self.services.auth.delete_user(session, username)

    @use_case(role="admin", topics=(Topic.USERS,))
    def set_role(self, session: Session, username: str, role: str) -> UserInfo:
        return self.services.auth.set_role(session, username, role)

    @use_case(role="admin", topics=(Topic.USERS,))
    def reset_password(self, session: Session, username: str, new_password: str) -> ResetResult:
        return self.services.auth.reset_password(session, username, new_password)

    @use_case(role="anyone", topics=(Topic.USERS,))
    def change_password(self, session: Session, current: str, new: str) -> None:
        # The auth service checks the session itself: a forced change must pass.
        self.services.auth.change_password(session, current, new)

    # -- usage -------------------------------------------------------------------------

    @use_case(role="user", transactional=False)
    def usage_report(
        self, session: Session, wanted: UsageFilter, by: tuple[GroupBy, ...]
    ) -> UsageReport:
        """The usage ``session`` may see (their own; an admin everybody's), grouped each
        way in ``by``, with the totals."""
        usage = self.services.usage
        where = usage.scoped(session, wanted)
        return UsageReport({way: usage.summary(where, way) for way in by}, usage.totals(where))

    @use_case(role="user", transactional=False)
    def export_usage(
        self, session: Session, path: Path, fmt: str, wanted: UsageFilter, by: GroupBy
    ) -> int:
        """Write what ``usage_report`` would show, grouped ``by``, to ``path`` (csv or json);
        audited ("export") whichever front end asked. Returns the number of group rows."""
        usage = self.services.usage
        count = usage.export(path, fmt, usage.scoped(session, wanted), by)
        self.services.audit.record(session, "export", str(path), "ok", f"usage {fmt} by {by}")
        return count


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
