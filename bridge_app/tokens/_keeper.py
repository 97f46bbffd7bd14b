from __future__ import annotations

import logging
from collections.abc import Callable

from bridge_app.envvars import SessionLike
from bridge_app.runtime import Ticker
from bridge_app.tokens._injector import TokenInjector
from bridge_app.tokens._service import TokenService

log = logging.getLogger(__name__)

ProblemSink = Callable[[str | None], None]


class TokenKeeper:
    """A background thread for a running proxy: refreshes the token before it expires
    (TokenService decides when and how; a check that is not due costs no I/O, so the keeper
    looks every second) and reports whether internal models can be served, so the proxy
    shows `degraded` with the reason."""

    def __init__(
        self,
        *,
        tokens: TokenService,
        injector: TokenInjector,
        on_problem: ProblemSink,
        interval_s: float = 1.0,
    ) -> None:
        self._tokens = tokens
        self._injector = injector
        self._on_problem = on_problem
        self._session: SessionLike | None = None
        self._ticker = Ticker(
            self.check_now, interval=interval_s, name="bridge-token-keeper", at_start=True
        )
        self._last: str | None = ""  # "" = not reported yet

    def set_session(self, session: SessionLike | None) -> None:
        self._session = session
        self.check_now()

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def check_now(self) -> None:
        session = self._session
        if session is not None:
            try:
                self._tokens.refresh_if_due(session)
            except Exception:  # never let the keeper die: the next round tries again
                log.exception("token refresh check failed")
        self.report()

    def report(self) -> None:
        """Tell the proxy whether internal models can be served (only when that changed)."""
        problem = self._injector.problem()
        if problem != self._last:
            self._last = problem
            self._on_problem(problem)
