from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bridge_app.envvars import EnvService, SessionLike
from bridge_app.runtime import BridgeError, Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database, Topic
from bridge_app.tokens._device import DevicePrompt
from bridge_app.tokens._errors import IamError
from bridge_app.tokens._grant import TokenGrant
from bridge_app.tokens._iam import IamClient
from bridge_app.tokens._iam_settings import (
    IamSettings,
    IamSettingsError,
    check_ca_bundle,
    parse_iam_settings,
)
from bridge_app.tokens._inject import InjectionContext, Project
from bridge_app.tokens._oidc import SIGN_IN_TIMEOUT_S
from bridge_app.tokens._projects import ProjectStore
from bridge_app.tokens._refresh import Backoff, refresh_margin
from bridge_app.tokens._renewal import TokenRefresh
from bridge_app.tokens._sealed import PASSWORD_KIND, REFRESH_KIND, TOKEN_KIND, SealedRows
from bridge_app.tokens._status import TokenState, TokenStatus

log = logging.getLogger(__name__)

IAM_SETTINGS_KEY = "iam.connector"
EXPIRING_SOON_S = 10 * 60


class AuditRecorder(Protocol):
    def record(self, actor: str, action: str, target: str, outcome: str, detail: str) -> object: ...


class TokenService(TokenRefresh):
    """The internal token of the logged-in user: obtained from the IAM, kept sealed with the
    user's key, refreshed before it expires (with the OAuth refresh token, else the
    remembered password, else the service account), and published to the proxy as an
    immutable snapshot per request.

    Kind to the IAM: at most one IAM call in flight per process; refresh at a margin
    proportional to the lifetime; exponential backoff with jitter after errors; never an
    automatic retry after a rejection (the state says so, with the IAM's words, until the
    user logs in again). Every stored change commits with its audit event and moves the
    ``token`` change counter, so other processes on the same data folder reload it."""

    def __init__(
        self,
        *,
        db: Database,
        settings: SettingsService,
        env: EnvService,
        redactor: Redactor,
        audit: AuditRecorder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._settings = settings
        self._env = env
        self._redactor = redactor
        self._audit = audit
        self._clock = clock
        self.projects = ProjectStore(db=db)
        self._sealed = SealedRows(db=db, redactor=redactor)
        self._lock = threading.RLock()
        self._iam_call = threading.Lock()  # one IAM call in flight, per process
        self._context = InjectionContext()
        self._lifetime: float | None = None
        self._last_error: str | None = None
        self._refresh_blocked = False
        self._backoff = Backoff()
        self._observers: list[Callable[[], None]] = []
        self._notifiers: list[Callable[[str, str], None]] = []
        self.iam_calls = 0  # how many times this process called the IAM

    # -- IAM settings (admin) --------------------------------------------------------

    def iam_settings(self) -> IamSettings | None:
        data = self._settings.get(IAM_SETTINGS_KEY)
        if not data:
            return None
        try:
            return parse_iam_settings(data)
        except IamSettingsError as exc:  # stored by an older version with looser checks
            raise IamSettingsError(
                f"The stored IAM settings are no longer valid: {exc.message}",
                hint="An admin stores corrected settings (`litellm-bridge token iam --set`).",
            ) from exc

    def set_iam_settings(self, session: SessionLike, settings: IamSettings) -> None:
        if not session.is_admin:
            raise BridgeError("Only an admin can change the IAM settings.")
        check_ca_bundle(settings)
        with self._db.transaction():
            self._settings.set(IAM_SETTINGS_KEY, settings.to_dict())
            self._record(session, "iam.settings", settings.url, "ok", f"shape={settings.shape}")
            self._db.changed(Topic.TOKEN)
        if settings.client_secret:
            self._redactor.register(settings.client_secret)

    def test_iam(
        self,
        session: SessionLike,
        settings: IamSettings,
        employee_id: str,
        password: str,
        *,
        open_browser: Callable[[str], object] | None = None,
    ) -> TokenGrant:
        """One login with ``settings`` (stored or not); nothing is stored, the token is not
        used. The caller shows ``grant.masked_answer()``. The oidc shape signs in in the
        browser (``open_browser``, the system's by default)."""
        if not session.is_admin:
            raise BridgeError("Only an admin can test IAM settings.")
        check_ca_bundle(settings)
        self._redactor.register(password, settings.client_secret)
        client = IamClient(settings, network=self._env.network_settings(session))
        with self._iam_call:
            self.iam_calls += 1
            if settings.browser:
                import webbrowser

                grant, _who = client.browser_login(open_browser or webbrowser.open)
            else:
                grant = client.fetch_token(employee_id, password)
        self._redactor.register(grant.token, grant.refresh_token)
        return grant

    # -- what the proxy reads per request -------------------------------------------------

    def current(self) -> InjectionContext:
        return self._context  # one attribute read: atomic, never half-updated

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._observers.append(callback)

    def add_notifier(self, callback: Callable[[str, str], None]) -> None:
        """``callback(title, message)`` when automatic refresh becomes blocked (a desktop
        notification: the user may not be looking at the app)."""
        self._notifiers.append(callback)

    def _publish(self, context: InjectionContext) -> None:
        with self._lock:
            self._context = context
        if context.token:
            self._redactor.register(context.token)
        for callback in list(self._observers):
            try:
                callback()
            except Exception:
                log.exception("token observer failed")

    def _notify_blocked(self, reason: str) -> None:
        for callback in list(self._notifiers):
            try:
                callback("Internal token: log in again", reason)
            except Exception:
                log.exception("token notifier failed")

    # -- lifecycle -------------------------------------------------------------------

    def activate(self, session: SessionLike) -> TokenStatus:
        """Load the user's stored token, its refresh state and the active project (after
        login, and again whenever another process changed them)."""
        stored = self._sealed.load(session, TOKEN_KIND)
        project = self.projects.active(session)
        if stored is None:
            with self._lock:
                self._lifetime = None
            self._publish(InjectionContext(project=project))
        else:
            value, meta = stored
            with self._lock:
                self._lifetime = meta.get("lifetime_s")
                blocked = bool(meta.get("refresh_blocked"))
                newly_blocked = blocked and not self._refresh_blocked
                new_token = value != self._context.token
                # Blocked or not is what the store says (a login elsewhere unblocks this
                # process too). This process's own error (a transient one, backing off)
                # stays until the store has a newer word or a new token arrives.
                self._refresh_blocked = blocked
                if new_token or blocked or meta.get("last_error") or not self._last_error:
                    self._last_error = meta.get("last_error") or None
                if new_token:
                    self._backoff.succeeded()
            self._publish(
                InjectionContext(token=value, expires_at=meta.get("expires_at"), project=project)
            )
            if newly_blocked:  # another process was refused: this one's user is told too
                self._notify_blocked(self.refresh_problem() or "")
        return self.status(session)

    def deactivate(self) -> None:
        """The user logged out: requests stop carrying their token."""
        with self._lock:
            self._last_error = None
            self._refresh_blocked = False
            self._backoff.succeeded()
        self._publish(InjectionContext(reason="nobody is logged in"))

    def _client(self, session: SessionLike) -> IamClient:
        settings = self.iam_settings()
        if settings is None:
            raise BridgeError(
                "No IAM is configured yet.", hint="An admin sets it up under Token & projects."
            )
        return IamClient(settings, network=self._env.network_settings(session))

    def login(
        self, session: SessionLike, employee_id: str, password: str, *, remember: bool = False
    ) -> TokenStatus:
        client = self._client(session)
        if not client.settings.needs_employee:
            employee_id = employee_id.strip() or (client.settings.client_id or "service")
        self._redactor.register(password)
        try:
            with self._iam_call:
                self.iam_calls += 1
                grant = client.fetch_token(employee_id, password)
        except IamError as exc:
            with self._lock:
                self._last_error = exc.message
            with self._db.transaction():
                self._record(session, "token.acquire", employee_id, "failed", exc.message)
            self._publish(self._context)  # observers show the failure; old token stays
            raise
        self._accept(
            session,
            grant,
            employee_id,
            password=password if remember else None,
            action="token.acquire",
            detail=f"remember={'yes' if remember else 'no'}",
        )
        return self.status(session)

    def login_browser(
        self,
        session: SessionLike,
        open_browser: Callable[[str], object],
        *,
        timeout_s: float = SIGN_IN_TIMEOUT_S,
        cancelled: threading.Event | None = None,
        show_code: Callable[[DevicePrompt], object] | None = None,
    ) -> TokenStatus:
        """Sign in at the company's identity provider in the browser (the oidc shape); the
        token and its refresh token are kept like a password login's. With ``show_code``
        the device-code fallback instead: it is told where to enter which code."""
        client = self._client(session)
        how = "browser" if show_code is None else "device"
        try:
            with self._iam_call:
                self.iam_calls += 1
                if show_code is None:
                    grant, who = client.browser_login(
                        open_browser, timeout_s=timeout_s, cancelled=cancelled
                    )
                else:
                    grant, who = client.device_login(
                        show_code, timeout_s=timeout_s, cancelled=cancelled
                    )
        except IamError as exc:
            with self._lock:
                self._last_error = exc.message
            with self._db.transaction():
                self._record(session, "token.acquire", how, "failed", exc.message)
            self._publish(self._context)
            raise
        detail = "browser sign-in" if show_code is None else "sign-in with a code"
        self._accept(session, grant, who, password=None, action="token.acquire", detail=detail)
        return self.status(session)

    def _accept(
        self,
        session: SessionLike,
        grant: TokenGrant,
        employee_id: str,
        *,
        password: str | None,
        action: str,
        detail: str,
    ) -> None:
        """Store a new token (and its refresh token) with its audit event, then publish."""
        self._redactor.register(grant.token, grant.refresh_token)
        expires = datetime.fromtimestamp(grant.expires_at, UTC).isoformat(timespec="seconds")
        with self._db.transaction():
            self._sealed.store(session, grant, employee_id, password)
            self._record(session, action, employee_id, "ok", f"expires {expires} {detail}".strip())
            self._db.changed(Topic.TOKEN)
        with self._lock:
            self._last_error = None
            self._refresh_blocked = False
            self._lifetime = grant.lifetime_s
            self._backoff.succeeded()
        self._publish(
            InjectionContext(
                token=grant.token, expires_at=grant.expires_at, project=self._context.project
            )
        )

    def forget_password(self, session: SessionLike) -> None:
        with self._db.transaction():
            self._sealed.delete(session, PASSWORD_KIND)
            self._record(session, "token.forget_password", session.username, "ok", "")
            self._db.changed(Topic.TOKEN)

    # -- projects --------------------------------------------------------------------

    def save_project(self, session: SessionLike, project: Project) -> None:
        with self._db.transaction():
            self.projects.save(session, project)
            self._record(session, "project.save", project.project_id, "ok", project.name)
            self._db.changed(Topic.PROJECT)
        if self._context.project and self._context.project.project_id == project.project_id:
            self._republish(project)

    def delete_project(self, session: SessionLike, project_id: str) -> None:
        with self._db.transaction():
            self.projects.delete(session, project_id)
            self._record(session, "project.delete", project_id, "ok", "")
            self._db.changed(Topic.PROJECT)
        self._republish(self.projects.active(session))

    def set_active_project(self, session: SessionLike, project_id: str) -> Project:
        with self._db.transaction():
            project = self.projects.activate(session, project_id)
            self._record(session, "project.switch", project_id, "ok", "")
            self._db.changed(Topic.PROJECT)
        self._republish(project)
        return project

    def _republish(self, project: Project | None) -> None:
        current = self._context
        self._publish(
            InjectionContext(
                token=current.token,
                expires_at=current.expires_at,
                project=project,
                reason=current.reason,
            )
        )

    def status(self, session: SessionLike | None) -> TokenStatus:
        context = self._context
        now = self._clock()
        remembered = session is not None and self._sealed.has(session, PASSWORD_KIND)
        has_refresh = session is not None and self._sealed.has(session, REFRESH_KIND)
        settings = None
        with contextlib.suppress(IamSettingsError):
            settings = self.iam_settings()
        employee_id = None
        if session is not None:
            stored = self._sealed.load(session, TOKEN_KIND)
            employee_id = str(stored[1].get("employee_id")) if stored else None
        seconds_left = None
        state: TokenState
        with self._lock:
            blocked = self._refresh_blocked
            last_error = self._last_error
            lifetime = self._lifetime
        if context.token is None:
            state = "failed" if last_error else "none"
        elif context.expires_at is not None and context.expires_at <= now:
            state = "expired"
        else:
            seconds_left = int(context.expires_at - now) if context.expires_at else None
            if blocked:
                state = "failed"
            elif seconds_left is not None and seconds_left < EXPIRING_SOON_S:
                state = "expiring"
            else:
                state = "valid"
        if has_refresh:
            refresh = "refresh token"
        elif settings is not None and not settings.needs_employee and not settings.browser:
            refresh = "service account"
        elif remembered:
            refresh = "password"
        else:
            refresh = "off"
        next_at = None
        if context.expires_at is not None and refresh != "off" and not blocked:
            next_at = max(
                context.expires_at - refresh_margin(lifetime), self._backoff.next_attempt_at
            )
        action = None
        browser = settings is not None and settings.browser
        if blocked and browser:
            action = "Sign in again: `litellm-bridge token login --browser` or Token & projects."
        elif blocked:
            action = "Log in again: `litellm-bridge token login` or Token & projects."
        elif state in ("expired", "none", "failed") and browser:
            action = "Sign in with your company: `litellm-bridge token login --browser`."
        elif state in ("expired", "none", "failed"):
            action = "Log in with your employee ID: `litellm-bridge token login`."
        elif last_error:
            action = "Nothing yet: the app retries with backoff; check the network if it lasts."
        return TokenStatus(
            state=state,
            employee_id=employee_id,
            expires_at=context.expires_at,
            seconds_left=seconds_left,
            remembered=remembered,
            refresh_blocked=blocked,
            last_error=self._redactor.redact(last_error) if last_error else None,
            project=context.project,
            refresh=refresh,
            next_refresh_at=next_at,
            action=action,
        )

    def _record(
        self, session: SessionLike, action: str, target: str, outcome: str, detail: str
    ) -> None:
        if self._audit is not None:
            self._audit.record(session.username, action, target, outcome, detail)
