from __future__ import annotations

import threading
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from bridge_app.runtime import BridgeError
from bridge_app.services import (
    IamSettings,
    Project,
    TokenStatus,
    example_data,
)
from bridge_app.ui import strings as S
from bridge_app.ui._async import on_ui
from bridge_app.ui._base import IamScreen, button, form_dialog, text_field


class TokensScreen(IamScreen):
    """The internal token (employee ID + password, remember), the project metadata, and
    for admins the IAM settings (shape, URL, fields, TLS) with a test login."""

    status_text = StringProperty("")
    action_text = StringProperty("")  # what to do when something is wrong
    blocked = BooleanProperty(False)
    is_admin = BooleanProperty(False)
    browser = BooleanProperty(False)  # the IAM signs people in in the browser (oidc)
    waiting = StringProperty("")  # said while the browser sign-in is under way

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._status: TokenStatus | None = None
        self._loaded_at = 0.0
        self._iam_loaded = False
        self._browser_iam = False
        self._cancel_sign_in = threading.Event()
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
            try:
                iam = self.ctx.core.iam_settings(session)
            except BridgeError:
                iam = None
            self._browser_iam = iam is not None and iam.browser
            if not session.is_admin:
                iam = None  # the form with the IAM settings is for admins
            return tokens.status(session), tokens.projects.projects(session), iam

        self.work("token-status", job, self._show)

    def _show(
        self, result: tuple[TokenStatus, list[tuple[Project, bool]], IamSettings | None]
    ) -> None:
        status, projects, iam = result
        self.browser = self._browser_iam
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
            self.tell(S.TOKEN_RECEIVED)
            self.refresh()

        self.work(
            "iam-login",
            lambda: self.ctx.core.token_login(session, employee, password, remember=remember),
            done,
        )

    def sign_in_browser(self) -> None:
        """The company's own login page in the system browser; the app waits for it (the
        window stays usable) and says what it waits for."""
        import webbrowser

        session = self.ctx.require_session()
        self._cancel_sign_in = cancel = threading.Event()
        self.waiting = S.SIGN_IN_WAITING

        def finished(_status: TokenStatus) -> None:
            self.waiting = ""
            self.tell(S.SIGNED_IN)
            self.refresh()

        def failed(message: str) -> None:
            self.waiting = ""
            self.error = message
            self.tell(message, "error")

        self.work(
            "oidc-login",
            lambda: self.ctx.core.token_login_browser(session, webbrowser.open, cancelled=cancel),
            finished,
            failed=failed,
        )

    def on_leave(self, *_args: Any) -> None:
        self._cancel_sign_in.set()  # a sign-in left behind stops waiting

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

    def _fill_iam(self, data: dict[str, Any]) -> None:
        self.ids.iam_form.fill(data)

    def load_example(self) -> None:
        form = self.ids.iam_form
        form.fill(example_data(form.shape))
        self.iam_failed = False
        self.iam_result = f"This is an example ({form.shape}): put in your IAM's own values."

    def _iam_settings(self) -> IamSettings:
        form = self.ids.iam_form
        stored = self.services.tokens.iam_settings() if form.shape != "custom" else None
        settings: IamSettings = form.settings(stored)
        return settings

    def test_iam(self) -> None:
        employee, password = self.ids.employee.text.strip(), self.ids.password.text
        self.run_iam_test(self._iam_settings, employee, password)

    def save_iam(self) -> None:
        session = self.ctx.require_session()

        def job() -> IamSettings:
            settings = self._iam_settings()
            self.ctx.core.set_iam_settings(session, settings)
            return settings

        def done(settings: IamSettings) -> None:
            self.iam_failed = False
            self.iam_result = f"{S.IAM_SAVED} ({settings.shape}, {settings.url})"
            if settings.cleartext_warning:
                self.iam_result += f"\n{settings.cleartext_warning}"

        self.iam_result = ""
        self.work("iam-save", job, done, failed=self.iam_refused)
