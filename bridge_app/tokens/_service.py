from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import and_, delete, insert, select

from bridge_app.envvars import EnvService, SessionLike
from bridge_app.runtime import BridgeError, Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database, tables
from bridge_app.tokens._iam import IamClient, IamError, IamSettings, TokenGrant
from bridge_app.tokens._inject import InjectionContext, Project
from bridge_app.tokens._projects import ProjectStore

log = logging.getLogger(__name__)

_secrets = tables["secrets"]
TOKEN_KIND = "iam-token"  # noqa: S105 - a row kind, not a token
PASSWORD_KIND = "iam-password"  # noqa: S105 - a row kind, not a password
IAM_SETTINGS_KEY = "iam.connector"
EXPIRING_SOON_S = 10 * 60

TokenState = Literal["none", "valid", "expiring", "expired", "failed"]


class AuditRecorder(Protocol):
    def record(self, actor: str, action: str, target: str, outcome: str, detail: str) -> object: ...


@dataclass(frozen=True)
class TokenStatus:
    state: TokenState
    employee_id: str | None
    expires_at: float | None
    seconds_left: int | None
    remembered: bool  # the employee password is stored, so refresh is automatic
    refresh_blocked: bool  # the IAM rejected the password: waiting for the user
    last_error: str | None
    project: Project | None

    def describe(self) -> str:
        if self.state == "none":
            return "No internal token: log in with your employee ID."
        if self.state == "failed":
            return f"Token request failed: {self.last_error}"
        if self.state == "expired":
            return "The internal token has expired: log in again."
        assert self.seconds_left is not None
        minutes, seconds = divmod(self.seconds_left, 60)
        hours, minutes = divmod(minutes, 60)
        left = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"
        soon = " (expiring soon)" if self.state == "expiring" else ""
        return f"Valid for {left}{soon}"


class TokenService:
    """The internal token of the logged-in user: obtained from the IAM, kept sealed with the
    user's key, refreshed before it expires when the user chose to remember the password,
    and published to the proxy as an immutable snapshot per request."""

    def __init__(
        self,
        *,
        db: Database,
        settings: SettingsService,
        env: EnvService,
        redactor: Redactor,
        audit: AuditRecorder | None = None,
        refresh_margin_s: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._settings = settings
        self._env = env
        self._redactor = redactor
        self._audit = audit
        self._margin = refresh_margin_s
        self._clock = clock
        self.projects = ProjectStore(db=db)
        self._lock = threading.RLock()
        self._context = InjectionContext()
        self._last_error: str | None = None
        self._refresh_blocked = False
        self._observers: list[Callable[[], None]] = []

    # -- IAM settings (admin) --------------------------------------------------------

    def iam_settings(self) -> IamSettings | None:
        data = self._settings.get(IAM_SETTINGS_KEY)
        return IamSettings.from_dict(data) if data else None

    def set_iam_settings(self, session: SessionLike, settings: IamSettings) -> None:
        if not session.is_admin:
            raise BridgeError("Only an admin can change the IAM settings.")
        self._settings.set(IAM_SETTINGS_KEY, settings.to_dict())
        self._record(session, "iam.settings", settings.url, "ok", "")

    # -- what the proxy reads per request -------------------------------------------------

    def current(self) -> InjectionContext:
        return self._context  # one attribute read: atomic, never half-updated

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._observers.append(callback)

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

    # -- lifecycle -------------------------------------------------------------------

    def activate(self, session: SessionLike) -> TokenStatus:
        """Load the user's stored token and active project (after the user logs in)."""
        stored = self._load(session, TOKEN_KIND)
        project = self.projects.active(session)
        if stored is None:
            self._publish(InjectionContext(project=project))
        else:
            value, meta = stored
            self._publish(
                InjectionContext(token=value, expires_at=meta.get("expires_at"), project=project)
            )
        return self.status(session)

    def deactivate(self) -> None:
        """The user logged out: requests stop carrying their token."""
        self._publish(InjectionContext(reason="nobody is logged in"))

    def login(
        self, session: SessionLike, employee_id: str, password: str, *, remember: bool = False
    ) -> TokenStatus:
        settings = self.iam_settings()
        if settings is None:
            raise BridgeError(
                "No IAM is configured yet.", hint="An admin sets it up under Token & projects."
            )
        self._redactor.register(password)
        client = IamClient(settings, network=self._env.network_settings(session))
        try:
            grant = client.fetch_token(employee_id, password)
        except IamError as exc:
            with self._lock:
                self._last_error = exc.message
                if exc.rejected:
                    self._refresh_blocked = True
            self._record(session, "token.acquire", employee_id, "failed", exc.message)
            self._publish(self._context)  # observers show the failure; old token stays
            raise
        self._store(session, grant, employee_id, password if remember else None)
        with self._lock:
            self._last_error = None
            self._refresh_blocked = False
        self._publish(
            InjectionContext(
                token=grant.token, expires_at=grant.expires_at, project=self._context.project
            )
        )
        self._record(
            session,
            "token.acquire",
            employee_id,
            "ok",
            f"expires {datetime.fromtimestamp(grant.expires_at, UTC).isoformat(timespec='seconds')}"
            f" remember={'yes' if remember else 'no'}",
        )
        return self.status(session)

    def refresh_if_due(self, session: SessionLike) -> bool:
        """Refresh with the remembered password when the token is near expiry. Never after a
        rejection (the user must type the password again). True when refreshed."""
        with self._lock:
            if self._refresh_blocked:
                return False
        expires_at = self._context.expires_at
        if expires_at is not None and expires_at - self._clock() > self._margin:
            return False
        stored = self._load(session, PASSWORD_KIND)
        token = self._load(session, TOKEN_KIND)
        if stored is None or token is None:
            return False
        password, _ = stored
        employee_id = str(token[1].get("employee_id", ""))
        try:
            self.login(session, employee_id, password, remember=True)
        except IamError:
            return False
        return True

    def forget_password(self, session: SessionLike) -> None:
        self._delete(session, PASSWORD_KIND)

    def set_active_project(self, session: SessionLike, project_id: str) -> Project:
        project = self.projects.activate(session, project_id)
        current = self._context
        self._publish(
            InjectionContext(
                token=current.token,
                expires_at=current.expires_at,
                project=project,
                reason=current.reason,
            )
        )
        self._record(session, "project.switch", project_id, "ok", "")
        return project

    def status(self, session: SessionLike | None) -> TokenStatus:
        context = self._context
        now = self._clock()
        remembered = session is not None and self._has(session, PASSWORD_KIND)
        employee_id = None
        if session is not None:
            stored = self._load(session, TOKEN_KIND)
            employee_id = str(stored[1].get("employee_id")) if stored else None
        seconds_left = None
        state: TokenState
        if context.token is None:
            state = "failed" if self._last_error else "none"
        elif context.expires_at is not None and context.expires_at <= now:
            state = "expired"
        else:
            seconds_left = int(context.expires_at - now) if context.expires_at else None
            if self._last_error and self._refresh_blocked:
                state = "failed"
            elif seconds_left is not None and seconds_left < EXPIRING_SOON_S:
                state = "expiring"
            else:
                state = "valid"
        return TokenStatus(
            state=state,
            employee_id=employee_id,
            expires_at=context.expires_at,
            seconds_left=seconds_left,
            remembered=remembered,
            refresh_blocked=self._refresh_blocked,
            last_error=self._last_error,
            project=context.project,
        )

    # -- storage (sealed with the user's key) ------------------------------------------

    def _store(
        self, session: SessionLike, grant: TokenGrant, employee_id: str, password: str | None
    ) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows: list[dict[str, Any]] = [
            {
                "kind": TOKEN_KIND,
                "label": employee_id,
                "value": session.seal(grant.token.encode(), f"{TOKEN_KIND}:{session.user_id}"),
                "meta": json.dumps({"employee_id": employee_id, "expires_at": grant.expires_at}),
                "expires_at": grant.expires_at,
            }
        ]
        if password is not None:
            rows.append(
                {
                    "kind": PASSWORD_KIND,
                    "label": employee_id,
                    "value": session.seal(password.encode(), f"{PASSWORD_KIND}:{session.user_id}"),
                    "meta": "{}",
                    "expires_at": None,
                }
            )
        kinds = [TOKEN_KIND] + ([] if password is None else [PASSWORD_KIND])
        with self._db.transaction() as conn:
            self._db.changed("token")
            conn.execute(
                delete(_secrets).where(
                    and_(_secrets.c.owner_id == session.user_id, _secrets.c.kind.in_(kinds))
                )
            )
            for row in rows:
                conn.execute(
                    insert(_secrets).values(
                        owner_id=session.user_id, created_at=now, updated_at=now, **row
                    )
                )

    def _load(self, session: SessionLike, kind: str) -> tuple[str, dict[str, Any]] | None:
        with self._db.reading() as conn:
            row = conn.execute(
                select(_secrets.c.value, _secrets.c.meta).where(
                    and_(_secrets.c.owner_id == session.user_id, _secrets.c.kind == kind)
                )
            ).first()
        if row is None:
            return None
        value = session.open(row.value, f"{kind}:{session.user_id}").decode()
        self._redactor.register(value)
        return value, json.loads(row.meta)

    def _has(self, session: SessionLike, kind: str) -> bool:
        with self._db.reading() as conn:
            return (
                conn.execute(
                    select(_secrets.c.id).where(
                        and_(_secrets.c.owner_id == session.user_id, _secrets.c.kind == kind)
                    )
                ).first()
                is not None
            )

    def _delete(self, session: SessionLike, kind: str) -> None:
        with self._db.transaction() as conn:
            self._db.changed("token")
            conn.execute(
                delete(_secrets).where(
                    and_(_secrets.c.owner_id == session.user_id, _secrets.c.kind == kind)
                )
            )

    def _record(
        self, session: SessionLike, action: str, target: str, outcome: str, detail: str
    ) -> None:
        if self._audit is not None:
            self._audit.record(session.username, action, target, outcome, detail)
