"""The internal-token use-cases of the application core (AppCore inherits them): logins
(password, browser, device code), projects and the IAM settings, the same for
`litellm-bridge token` and the Token & projects screen and wizard."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge_app.auth import Session
from bridge_app.services._usecases import use_case
from bridge_app.store import Topic
from bridge_app.tokens import DevicePrompt, IamSettings, Project, TokenGrant, TokenStatus

if TYPE_CHECKING:
    from bridge_app.services._root import Services
    from bridge_app.store import Database


class TokenUseCases:
    services: Services
    db: Database

    @use_case(role="user", transactional=False)
    def token_login(
        self, session: Session, employee_id: str, password: str, *, remember: bool = False
    ) -> TokenStatus:
        # No transaction around it: the IAM call must not hold the database's write lock.
        # The token service stores the token and its audit event in one transaction.
        status = self.services.tokens.login(session, employee_id, password, remember=remember)
        self.db.changed(Topic.TOKEN)
        return status

    @use_case(role="user", transactional=False)
    def token_login_browser(
        self,
        session: Session,
        open_browser: Callable[[str], object],
        *,
        cancelled: threading.Event | None = None,
        show_code: Callable[[DevicePrompt], object] | None = None,
    ) -> TokenStatus:
        """Sign in at the company's identity provider in the browser (the oidc IAM shape),
        or with ``show_code`` by the device-code fallback."""
        status = self.services.tokens.login_browser(
            session, open_browser, cancelled=cancelled, show_code=show_code
        )
        self.db.changed(Topic.TOKEN)
        return status

    @use_case(role="user", topics=(Topic.PROJECT,))
    def use_project(self, session: Session, project_id: str) -> Project:
        return self.services.tokens.set_active_project(session, project_id)

    @use_case(role="user", topics=(Topic.TOKEN,))
    def forget_token_password(self, session: Session) -> None:
        self.services.tokens.forget_password(session)

    @use_case(role="user", topics=(Topic.PROJECT,))
    def save_project(self, session: Session, project: Project) -> None:
        self.services.tokens.save_project(session, project)

    @use_case(role="user", topics=(Topic.PROJECT,))
    def delete_project(self, session: Session, project_id: str) -> None:
        self.services.tokens.delete_project(session, project_id)

    @use_case(role="admin", topics=(Topic.TOKEN,))
    def set_iam_settings(self, session: Session, settings: IamSettings) -> None:
        self.services.tokens.set_iam_settings(session, settings)

    @use_case(role="user", transactional=False)
    def iam_settings(self, session: Session) -> IamSettings | None:
        """The company IAM's settings, or None before an admin describes it (how people
        sign in: a password form or the browser)."""
        return self.services.tokens.iam_settings()

    @use_case(role="admin", transactional=False)
    def test_iam(
        self,
        session: Session,
        settings: IamSettings,
        employee_id: str,
        password: str,
        *,
        open_browser: Callable[[str], object] | None = None,
    ) -> TokenGrant:
        """One login against the IAM with these settings (a sign-in in the browser for the
        oidc shape); nothing is stored."""
        return self.services.tokens.test_iam(
            session, settings, employee_id, password, open_browser=open_browser
        )
