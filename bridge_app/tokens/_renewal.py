"""Keeping the internal token fresh (TokenService inherits this): when a refresh is due,
with what (the OAuth refresh token, else the remembered password, else the service
account), and what a failure does (a refusal blocks refresh until the next login; any
other error backs off with jitter). At most one IAM call in flight per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bridge_app.envvars import SessionLike
from bridge_app.runtime import Redactor
from bridge_app.store import Database, Topic
from bridge_app.tokens._errors import IamError
from bridge_app.tokens._grant import TokenGrant
from bridge_app.tokens._iam import IamClient
from bridge_app.tokens._inject import InjectionContext
from bridge_app.tokens._refresh import Backoff, refresh_margin
from bridge_app.tokens._sealed import PASSWORD_KIND, REFRESH_KIND, TOKEN_KIND, SealedRows

log = logging.getLogger(__name__)


class TokenRefresh:
    _db: Database
    _redactor: Redactor
    _sealed: SealedRows
    _lock: threading.RLock
    _iam_call: threading.Lock
    _context: InjectionContext
    _lifetime: float | None
    _last_error: str | None
    _refresh_blocked: bool
    _backoff: Backoff
    _clock: Callable[[], float]
    iam_calls: int

    if TYPE_CHECKING:  # provided by TokenService

        def activate(self, session: SessionLike) -> Any: ...

        def _client(self, session: SessionLike) -> IamClient: ...

        def _accept(
            self,
            session: SessionLike,
            grant: TokenGrant,
            employee_id: str,
            *,
            password: str | None,
            action: str,
            detail: str,
        ) -> None: ...

        def _publish(self, context: InjectionContext) -> None: ...

        def _notify_blocked(self, reason: str) -> None: ...

        def _record(
            self, session: SessionLike, action: str, target: str, outcome: str, detail: str
        ) -> None: ...

    def refresh_problem(self) -> str | None:
        """Why the token will not renew by itself, with what to do (None when it will, or
        when there is no token to renew). Cheap: no database, no IAM."""
        with self._lock:
            if not self._refresh_blocked or self._context.token is None:
                return None
            reason = self._last_error or "the IAM refused it"
        return (
            f"Automatic token refresh is blocked: {self._redactor.redact(reason)} "
            "Log in again (Token & projects, or `litellm-bridge token login`)."
        )

    def refresh_due_in(self) -> float | None:
        """Seconds until a refresh is due (<= 0: now), or None when there is nothing to
        refresh or refresh is blocked. Cheap: no database, no IAM."""
        with self._lock:
            if self._refresh_blocked or self._context.token is None:
                return None
            expires_at = self._context.expires_at
            if expires_at is None:
                return None
            due = expires_at - refresh_margin(self._lifetime) - self._clock()
            return max(due, self._backoff.next_attempt_at - self._clock())

    def refresh_if_due(self, session: SessionLike) -> bool:
        """Refresh when the token is near expiry. True when refreshed.

        Order: the OAuth refresh token (no password); when the IAM refuses it, the
        remembered password once; the service account for client credentials. A refusal
        blocks refresh until the user logs in again; any other error backs off."""
        due = self.refresh_due_in()
        if due is None or due > 0:
            return False
        if not self._iam_call.acquire(blocking=False):
            return False  # another IAM call is in flight: it will publish its result
        try:
            return self._refresh_locked(session)
        finally:
            self._iam_call.release()

    def _refresh_locked(self, session: SessionLike) -> bool:
        stored = self._sealed.load(session, TOKEN_KIND)
        if stored is None:
            return False
        value, meta = stored
        if value != self._context.token or meta.get("refresh_blocked"):
            # Another process refreshed (or was refused) meanwhile: adopt its result.
            self.activate(session)
            return False
        employee_id = str(meta.get("employee_id", ""))
        client = self._client(session)
        refresh_token = self._sealed.load(session, REFRESH_KIND)
        password = self._sealed.load(session, PASSWORD_KIND)
        try:
            if refresh_token is not None:
                try:
                    self.iam_calls += 1
                    grant = client.refresh(refresh_token[0])
                    how = "refresh token"
                except IamError as exc:
                    if not exc.rejected or password is None:
                        raise
                    log.info("the IAM refused the refresh token; using the remembered password")
                    self.iam_calls += 1
                    grant = client.fetch_token(employee_id, password[0])
                    how = "password (the refresh token was refused)"
            elif not client.settings.needs_employee:
                self.iam_calls += 1
                grant = client.fetch_service_token()
                how = "service account"
            elif password is not None:
                self.iam_calls += 1
                grant = client.fetch_token(employee_id, password[0])
                how = "password"
            else:
                return False  # nothing to refresh with: status says "log in again"
        except IamError as exc:
            self._refresh_failed(session, employee_id, exc)
            return False
        self._accept(
            session, grant, employee_id, password=None, action="token.refresh", detail=f"via {how}"
        )
        return True

    def _refresh_failed(self, session: SessionLike, employee_id: str, exc: IamError) -> None:
        now = self._clock()
        if exc.rejected:
            with self._db.transaction():
                self._sealed.update_meta(
                    session, {"refresh_blocked": True, "last_error": exc.message, "error_at": now}
                )
                self._sealed.delete(session, REFRESH_KIND)
                self._record(session, "token.refresh", employee_id, "denied", exc.message)
                self._db.changed(Topic.TOKEN)
            with self._lock:
                self._refresh_blocked = True
                self._last_error = exc.message
            self._publish(self._context)
            self._notify_blocked(
                f"{self._redactor.redact(exc.message)} Log in again in Token & projects "
                "(or `litellm-bridge token login`)."
            )
            return
        with self._lock:
            delay = self._backoff.failed(now)
            first = self._backoff.failures == 1
            self._last_error = exc.message
        log.warning("token refresh failed (next try in %.0f s): %s", delay, exc.message)
        if first:  # one event per outage, not one per attempt
            with self._db.transaction():
                self._record(session, "token.refresh", employee_id, "failed", exc.message)
        self._publish(self._context)
