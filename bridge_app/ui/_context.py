"""What every screen gets through its constructor: the services and the session."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge_app.auth import PermissionDeniedError, Session
from bridge_app.proxy import ProxySupervisor
from bridge_app.runtime import AppPaths, BridgeError, Redactor

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bridge_app.services import Services


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
        tokens, keeper = self.services.tokens, self.services.token_keeper
        keeper.set_session(session)

        def publish_token() -> None:
            # The proxy injects this person's token from now on (or nobody's).
            try:
                if session is None:
                    tokens.deactivate()
                else:
                    tokens.activate(session)
            except Exception:
                log.exception("could not load the token of the new session")

        threading.Thread(target=publish_token, name="ui-token-activate", daemon=True).start()
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
    """Runs off the UI thread: opens the database (seconds with argon2/keyring). The window
    starts importing LiteLLM (``supervisor.warm_up``) once its first screen is on show: the
    import competes with the UI thread for the interpreter lock."""
    from bridge_app.services import build_services

    services = build_services(paths, redactor=redactor)
    supervisor = services.proxy.supervisor()
    return UiContext(
        paths=paths, redactor=redactor, services=services, supervisor=supervisor, kiosk=kiosk
    )
