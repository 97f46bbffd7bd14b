from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import StringProperty
from kivy.utils import escape_markup
from kivymd.uix.list import MDListItem, MDListItemHeadlineText, MDListItemSupportingText

from bridge_app.tokens import Project, TokenStatus
from bridge_app.ui import strings as S
from bridge_app.ui._async import on_ui
from bridge_app.ui._base import BridgeScreen, form_dialog, text_field


class TokensScreen(BridgeScreen):
    """The internal token (employee ID + password, remember) and the project metadata."""

    status_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._status: TokenStatus | None = None
        self._loaded_at = 0.0
        self.services.tokens.subscribe(lambda: on_ui(self._token_changed))
        Clock.schedule_interval(self._count_down, 1.0)

    def _token_changed(self) -> None:
        if self.allowed():
            self.refresh()

    def refresh(self) -> None:
        session = self.ctx.require_session()
        tokens = self.services.tokens

        def job() -> tuple[TokenStatus, list[tuple[Project, bool]]]:
            return tokens.status(session), tokens.projects.projects(session)

        self.work("token-status", job, self._show)

    def _show(self, result: tuple[TokenStatus, list[tuple[Project, bool]]]) -> None:
        status, projects = result
        self._status = status
        self._loaded_at = Clock.get_boottime()
        self.status_text = status.describe()
        if status.employee_id and not self.ids.employee.text:
            self.ids.employee.text = status.employee_id
        box = self.ids.projects
        box.clear_widgets()
        for project, active in projects:
            item = MDListItem(
                MDListItemHeadlineText(
                    text=escape_markup(project.name + (" (active)" if active else ""))
                ),
                MDListItemSupportingText(text=escape_markup(project.project_id)),
            )
            item.bind(on_release=lambda _i, p=project: self.use_project(p))
            box.add_widget(item)

    def _count_down(self, _dt: float) -> None:
        status = self._status
        if (
            status is None
            or status.seconds_left is None
            or status.state not in ("valid", "expiring")
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
            lambda: self.services.tokens.login(session, employee, password, remember=remember),
            done,
        )

    def use_project(self, project: Project) -> None:
        session = self.ctx.require_session()
        self.work(
            "project-use",
            lambda: self.services.tokens.set_active_project(session, project.project_id),
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
                lambda: self.services.tokens.projects.save(session, project),
                done,
            )

        form_dialog(S.ADD, [pid, name], ok, ok_text=S.SAVE)
