"""What every screen gets through its constructor: the services and the session."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bridge_app.auth import PermissionDeniedError, Session
from bridge_app.proxy import ProxyState, ProxySupervisor
from bridge_app.runtime import AppPaths, BridgeError, Redactor

if TYPE_CHECKING:
    from bridge_app.services import Services


class SupervisorRestarter:
    """The config service's view of the proxy (ProxyRestarter protocol)."""

    def __init__(self, supervisor: ProxySupervisor) -> None:
        self._supervisor = supervisor

    def is_running(self) -> bool:
        return self._supervisor.state in (ProxyState.RUNNING, ProxyState.DEGRADED)

    def restart_with_config(self, config_path: Path, *, drain_timeout: float) -> None:
        # The supervisor re-reads the active config path on every start.
        deadline = time.monotonic() + drain_timeout
        while self._supervisor.status().metrics.get("open_connections", 0) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        try:
            self._supervisor.restart("config applied")
        except BridgeError:
            raise
        except Exception as exc:  # pragma: no cover - defensive
            raise BridgeError(f"The proxy did not restart: {exc.__class__.__name__}") from exc


@dataclass
class UiContext:
    paths: AppPaths
    redactor: Redactor
    services: Services
    supervisor: ProxySupervisor
    kiosk: bool = False
    session: Session | None = None
    preferences_changed: Callable[[], None] | None = None
    _session_observers: list[Callable[[Session | None], None]] = field(default_factory=list)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        env = self.services.env
        self.services.proxy.environment = lambda: env.effective_environment(session)
        self.services.config.set_known_env(
            lambda: env.defined_names(session) | env.defined_names(None) | _process_names()
        )
        for observer in list(self._session_observers):
            observer(session)

    def on_session(self, observer: Callable[[Session | None], None]) -> None:
        self._session_observers.append(observer)

    def require_session(self) -> Session:
        if self.session is None:
            raise BridgeError("Log in first.")
        return self.session

    def require_admin(self, what: str) -> Session:
        session = self.require_session()
        if not session.is_admin:
            raise PermissionDeniedError(what)
        return session


def _process_names() -> set[str]:
    import os

    from bridge_app.envvars import APP_PROVIDED

    return set(os.environ) | set(APP_PROVIDED)


def compose(paths: AppPaths, redactor: Redactor, *, kiosk: bool) -> UiContext:
    """Runs off the UI thread: opens the database (seconds with argon2/keyring) and starts
    importing LiteLLM in the background."""
    from bridge_app.services import build_services

    services = build_services(paths, redactor=redactor)
    supervisor = services.proxy.supervisor()
    services.config.set_restarter(SupervisorRestarter(supervisor))
    supervisor.warm_up()
    return UiContext(
        paths=paths, redactor=redactor, services=services, supervisor=supervisor, kiosk=kiosk
    )
