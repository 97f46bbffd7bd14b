from __future__ import annotations

import json
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from bridge_app.runtime import BridgeError
from bridge_app.services import (
    IamSettings,
    Project,
    TokenGrant,
    TokenStatus,
    example_data,
    parse_iam_settings,
)
from bridge_app.ui import strings as S
from bridge_app.ui._async import on_ui
from bridge_app.ui._base import BridgeScreen, button, form_dialog, text_field


class TokensScreen(BridgeScreen):
    """The internal token (employee ID + password, remember), the project metadata, and
    for admins the IAM settings (shape, URL, fields, TLS) with a test login."""

    status_text = StringProperty("")
    action_text = StringProperty("")  # what to do when something is wrong
    blocked = BooleanProperty(False)
    is_admin = BooleanProperty(False)
    iam_shape = StringProperty("oauth2-password")
    iam_result = StringProperty("")
    iam_failed = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._status: TokenStatus | None = None
        self._loaded_at = 0.0
        self._iam_loaded = False
        self.services.tokens.subscribe(lambda: on_ui(self._token_changed))
        Clock.schedule_interval(self._count_down, 1.0)

    def _token_changed(self) -> None:
        if self.allowed():
            self.refresh()

    def refresh(self) -> None:
        session = self.ctx.require_session()
        tokens = self.services.tokens
        self.is_admin = session.is_admin

        def job() -> tuple[TokenStatus, list[tuple[Project, bool]], IamSettings | None]:
            iam: IamSettings | None = None
            if session.is_admin:
                try:
                    iam = tokens.iam_settings()
                except BridgeError:
                    iam = None
            return tokens.status(session), tokens.projects.projects(session), iam

        self.work("token-status", job, self._show)

    def _show(
        self, result: tuple[TokenStatus, list[tuple[Project, bool]], IamSettings | None]
    ) -> None:
        status, projects, iam = result
        self._status = status
        self._loaded_at = Clock.get_boottime()
        self.status_text = status.describe()
        self.blocked = status.refresh_blocked
        self.action_text = f"What to do: {status.action}" if status.action else ""
        if iam is not None and not self._iam_loaded:
            self._iam_loaded = True
            self._fill_iam(iam.masked())
        if status.employee_id and not self.ids.employee.text:
            self.ids.employee.text = status.employee_id
        box = self.ids.projects
        box.clear_widgets()
        for project, active in projects:
            # A few rows inside the screen's own scroll view: built in place, not recycled.
            box.add_widget(
                Factory.TextRow(
                    headline=project.name + (" (active)" if active else ""),
                    supporting=project.project_id,
                    action=lambda p=project: self.project_actions(p),
                )
            )

    def _count_down(self, _dt: float) -> None:
        status = self._status
        if (
            status is None
            or status.seconds_left is None
            or status.state not in ("valid", "expiring")
            or status.last_error  # the reason stays readable instead of a countdown
        ):
            return
        left = max(0, int(status.seconds_left - (Clock.get_boottime() - self._loaded_at)))
        minutes, seconds = divmod(left, 60)
        hours, minutes = divmod(minutes, 60)
        text = f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"
        self.status_text = f"Valid for {text}" if left else "The internal token has expired."

    def get_token(self) -> None:
        session = self.ctx.require_session()
        employee, password = self.ids.employee.text.strip(), self.ids.password.text
        remember = self.ids.remember.active

        def done(_status: TokenStatus) -> None:
            self.ids.password.text = ""
            self.tell("Token received.")
            self.refresh()

        self.work(
            "iam-login",
            lambda: self.ctx.core.token_login(session, employee, password, remember=remember),
            done,
        )

    def project_actions(self, project: Project) -> None:
        dialog: Any = None

        def act(handler: Any) -> Any:
            return lambda: (dialog.dismiss(), handler(project))

        buttons = [button(S.USE, act(self.use_project)), button(S.REMOVE, act(self.remove_project))]
        dialog = form_dialog(
            project.name, buttons, lambda d: d.dismiss(), supporting=project.project_id
        )

    def remove_project(self, project: Project) -> None:
        session = self.ctx.require_session()

        def done(_r: object) -> None:
            self.tell(f"Project {project.name} removed.")
            self.refresh()

        self.work(
            "project-remove",
            lambda: self.ctx.core.delete_project(session, project.project_id),
            done,
        )

    def forget_password(self) -> None:
        session = self.ctx.require_session()

        def done(_r: object) -> None:
            self.tell(S.PASSWORD_FORGOTTEN)
            self.refresh()

        self.work("token-forget", lambda: self.ctx.core.forget_token_password(session), done)

    def use_project(self, project: Project) -> None:
        session = self.ctx.require_session()
        self.work(
            "project-use",
            lambda: self.ctx.core.use_project(session, project.project_id),
            lambda _p: self.refresh(),
        )

    def add_project(self) -> None:
        session = self.ctx.require_session()
        pid, name = text_field(S.PROJECT_ID), text_field(S.PROJECT_NAME)

        def ok(dialog: Any) -> None:
            project = Project(project_id=pid.text.strip(), name=name.text.strip())

            def done(_r: object) -> None:
                self.tell(f"Project {project.name} saved.")
                self.refresh()

            self.submit(
                dialog,
                "project-save",
                lambda: self.ctx.core.save_project(session, project),
                done,
            )

        form_dialog(S.ADD, [pid, name], ok, ok_text=S.SAVE)

    # -- IAM settings (admins) -----------------------------------------------------------

    def _iam_inputs(self) -> dict[str, Any]:
        return {
            child.key: child
            for child in self.ids.iam_fields.children
            if isinstance(getattr(child, "key", None), str)
        }

    def _fill_iam(self, data: dict[str, Any]) -> None:
        self.iam_shape = str(data.get("shape") or "custom")
        for key, field in self._iam_inputs().items():
            value = data.get(key)
            if key == "client_secret":
                value = None  # never shown; empty keeps the stored one
            field.text = "" if value is None else str(value)
        self.ids.verify_tls.active = bool(data.get("verify_tls", True))

    def load_example(self) -> None:
        data = example_data(self.iam_shape)
        self._fill_iam(data)
        self.iam_failed = False
        self.iam_result = f"This is an example ({self.iam_shape}): put in your IAM's own values."

    def _iam_settings(self) -> IamSettings:
        """The form as validated settings (one clear line when something is wrong)."""
        data: dict[str, Any] = {"shape": self.iam_shape, "verify_tls": self.ids.verify_tls.active}
        for key, field in self._iam_inputs().items():
            text = field.text.strip()
            if not text:
                continue
            if key == "timeout_s":
                try:
                    data[key] = float(text)
                except ValueError:
                    raise BridgeError("timeout_s must be a number of seconds.") from None
            else:
                data[key] = text
        if "client_secret" not in data and self.iam_shape != "custom":
            stored = self.services.tokens.iam_settings()
            if stored is not None and stored.client_secret:
                data["client_secret"] = stored.client_secret
        return parse_iam_settings(data)

    def _iam_failed(self, message: str) -> None:
        self.iam_failed = True
        self.iam_result = message

    def test_iam(self) -> None:
        session = self.ctx.require_session()
        employee, password = self.ids.employee.text.strip(), self.ids.password.text

        def job() -> tuple[IamSettings, TokenGrant]:
            settings = self._iam_settings()
            return settings, self.ctx.core.test_iam(session, settings, employee, password)

        def done(result: tuple[IamSettings, TokenGrant]) -> None:
            settings, grant = result
            self.iam_failed = False
            self.iam_result = (
                f"The IAM answered with a token ({settings.shape}); nothing was stored.\n"
                f"Lifetime {grant.lifetime_s:.0f} s, refresh token: "
                f"{'yes' if grant.refresh_token else 'no'}.\n"
                + json.dumps(grant.masked_answer(), indent=2)
            )

        self.iam_result = ""
        self.work("iam-test", job, done, failed=self._iam_failed)

    def save_iam(self) -> None:
        session = self.ctx.require_session()

        def job() -> IamSettings:
            settings = self._iam_settings()
            self.ctx.core.set_iam_settings(session, settings)
            return settings

        def done(settings: IamSettings) -> None:
            self.iam_failed = False
            self.iam_result = f"{S.IAM_SAVED} ({settings.shape}, {settings.url})"

        self.iam_result = ""
        self.work("iam-save", job, done, failed=self._iam_failed)
