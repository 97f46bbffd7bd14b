"""What every screen gets through its constructor: the services and the session."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge_app.runtime import AppPaths, BridgeError, Redactor
from bridge_app.services import ProxySupervisor, Session

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bridge_app.services import AppCore, Services


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

    @property
    def core(self) -> AppCore:
        return self.services.core

    def set_session(self, session: Session | None) -> None:
        """The window now works for ``session``: the core switches the running instance
        (off the UI thread: it decrypts), screens hear it at once."""
        self.session = session
        core = self.services.core

        def switch() -> None:
            try:
                core.use_session(session)
            except Exception:
                log.exception("could not switch the running app to the new session")

        threading.Thread(target=switch, name="ui-use-session", daemon=True).start()
        for observer in list(self._session_observers):
            observer(session)

    def on_session(self, observer: Callable[[Session | None], None]) -> None:
        self._session_observers.append(observer)

    def require_session(self) -> Session:
        if self.session is None:
            raise BridgeError("Log in first.")
        return self.session


def compose(paths: AppPaths, redactor: Redactor, *, kiosk: bool) -> UiContext:
    """Runs off the UI thread: opens the database (seconds with argon2/keyring). The window
    starts importing LiteLLM (``supervisor.warm_up``) once its first screen is on show: the
    import competes with the UI thread for the interpreter lock."""
    from bridge_app.services import build_services

    services = build_services(paths, redactor=redactor)
    services.live.start()  # changes made by other processes reach this window
    supervisor = services.proxy.supervisor()
    return UiContext(
        paths=paths, redactor=redactor, services=services, supervisor=supervisor, kiosk=kiosk
    )
