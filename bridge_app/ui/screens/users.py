from __future__ import annotations

from typing import Any

from bridge_app.services import ResetResult, UserInfo
from bridge_app.ui import strings as S
from bridge_app.ui._base import (
    BridgeScreen,
    button,
    check_row,
    confirm,
    form_dialog,
    text_field,
)


class UsersScreen(BridgeScreen):
    """Admin only: accounts, roles, enable/disable, reset, delete. The auth service refuses
    every one of these for a non-admin session as well."""

    admin_only = True

    def refresh(self) -> None:
        session = self.ctx.require_session()
        self.work("users", lambda: self.services.auth.list_users(session), self._show)

    def _show(self, users: list[UserInfo]) -> None:
        rows = []
        for user in users:
            flags = [user.role, "enabled" if user.enabled else "disabled"]
            if user.must_change_password:
                flags.append("must change password")
            rows.append(
                {
                    "headline": f"{user.display_name} ({user.username})",
                    "supporting": " · ".join(flags)
                    + f" · last login {user.last_login_at or 'never'}",
                    "action": lambda u=user: self.actions(u),
                }
            )
        self.ids.users.data = rows

    def _run(self, name: str, job: Any, message: str) -> None:
        def done(_r: object) -> None:
            self.tell(message)
            self.refresh()

        self.work(name, job, done)

    def actions(self, user: UserInfo) -> None:
        session = self.ctx.require_session()
        core = self.ctx.core
        dialog: Any = None
        name = user.username

        def act(handler: Any) -> Any:
            return lambda: (dialog.dismiss(), handler())

        toggle = (
            (
                S.DISABLE,
                lambda: self._run(
                    "disable", lambda: core.disable_user(session, name), f"{name} disabled."
                ),
            )
            if user.enabled
            else (
                S.ENABLE,
                lambda: self._run(
                    "enable", lambda: core.enable_user(session, name), f"{name} enabled."
                ),
            )
        )
        role = "user" if user.role == "admin" else "admin"
        buttons = [
            button(toggle[0], act(toggle[1])),
            button(
                S.MAKE_USER if role == "user" else S.MAKE_ADMIN,
                act(
                    lambda: self._run(
                        "role", lambda: core.set_role(session, name, role), f"{name} is now {role}."
                    )
                ),
            ),
            button(S.RESET, act(lambda: self.reset(user))),
            button(
                S.DELETE,
                act(
                    lambda: confirm(
                        S.DELETE,
                        f"Delete {name} and their personal secrets?",
                        lambda: self._run(
                            "delete", lambda: core.delete_user(session, name), f"{name} deleted."
                        ),
                        yes=S.DELETE,
                    )
                ),
            ),
        ]
        dialog = form_dialog(name, buttons, lambda d: d.dismiss(), supporting=f"Role {user.role}")

    def reset(self, user: UserInfo) -> None:
        session = self.ctx.require_session()
        field = text_field("Temporary password", password=True)

        def ok(dialog: Any) -> None:
            password = field.text

            def done(result: ResetResult) -> None:
                self.tell(result.notice or f"Password of {user.username} reset.")
                self.refresh()

            self.submit(
                dialog,
                "reset",
                lambda: self.ctx.core.reset_password(session, user.username, password),
                done,
            )

        form_dialog(S.RESET, [field], ok, supporting="They must change it at the next login.")

    def create(self) -> None:
        session = self.ctx.require_session()
        username = text_field(S.USERNAME)
        display = text_field(S.DISPLAY_NAME)
        password = text_field("Initial password", password=True)
        admin_row, admin = check_row("Admin")

        def ok(dialog: Any) -> None:
            u, d, p = username.text.strip(), display.text.strip() or None, password.text
            role = "admin" if admin.active else "user"

            def done(_r: object) -> None:
                self.tell(f"{u} created: they change the password at first login.")
                self.refresh()

            self.submit(
                dialog,
                "create-user",
                lambda: self.ctx.core.create_user(session, u, p, role=role, display_name=d),
                done,
            )

        form_dialog(
            S.CREATE_USER,
            [username, display, password, admin_row],
            ok,
            ok_text=S.CREATE_USER,
        )
