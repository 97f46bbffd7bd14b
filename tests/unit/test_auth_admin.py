"""Roles are enforced in the services, and there is always an enabled admin."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bridge_app.auth import (
    AccountDisabledError,
    AuthenticationError,
    LastAdminError,
    PermissionDeniedError,
    SessionEndedError,
    UserNotFoundError,
    admin_operations,
)
from bridge_app.store import tables
from tests.unit._auth_stack import ADMIN_PW, USER_PW, open_stack, with_admin_and_user


def _placeholder_args(method: object) -> list[None]:
    params = list(inspect.signature(method).parameters.values())[1:]  # after the session
    return [
        None
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def test_a_user_cannot_call_any_admin_operation(tmp_path: Path) -> None:
    stack = open_stack(tmp_path / "bridge.db")
    admin, bob = with_admin_and_user(stack)
    services = {"auth": stack.auth, "audit": stack.audit}
    operations = {name: admin_operations(svc) for name, svc in services.items()}
    # the registry is what is enumerated: a new @admin_only method is covered automatically
    assert {
        "create_user",
        "delete_user",
        "disable_user",
        "enable_user",
        "list_users",
        "reset_password",
        "set_role",
    } <= set(operations["auth"])
    assert {"export", "list_events", "verify"} <= set(operations["audit"])

    users_before = stack.auth.list_users(admin)
    denied = 0
    for service_name, names in operations.items():
        for name in names:
            method = getattr(services[service_name], name)
            with pytest.raises(PermissionDeniedError, match="needs an admin account"):
                method(bob, *_placeholder_args(method))
            denied += 1
    assert stack.auth.list_users(admin) == users_before
    with stack.db.reading() as conn:
        refusals = conn.execute(
            select(func.count()).where(
                tables["audit_events"].c.action == "access.denied",
                tables["audit_events"].c.actor == "bob",
                tables["audit_events"].c.outcome == "denied",
            )
        ).scalar_one()
    assert refusals == denied


def test_a_demoted_admin_loses_admin_rights_in_an_open_session(tmp_path: Path) -> None:
    stack = open_stack(tmp_path / "bridge.db")
    admin, _ = with_admin_and_user(stack)
    stack.auth.set_role(admin, "bob", "admin")
    bob = stack.auth.login("bob", USER_PW)
    assert bob.is_admin
    stack.auth.set_role(admin, "bob", "user")
    with pytest.raises(PermissionDeniedError):
        stack.auth.list_users(bob)
    assert bob.role == "user"


def test_the_last_enabled_admin_cannot_be_deleted_demoted_or_disabled(tmp_path: Path) -> None:
    stack = open_stack(tmp_path / "bridge.db")
    admin, _ = with_admin_and_user(stack)
    with pytest.raises(LastAdminError, match="last enabled admin"):
        stack.auth.delete_user(admin, "root")
    with pytest.raises(LastAdminError):
        stack.auth.set_role(admin, "ROOT", "user")
    with pytest.raises(LastAdminError):
        stack.auth.disable_user(admin, "root")
    # a disabled second admin does not count
    stack.auth.set_role(admin, "bob", "admin")
    stack.auth.disable_user(admin, "bob")
    with pytest.raises(LastAdminError):
        stack.auth.set_role(admin, "root", "user")
    stack.auth.enable_user(admin, "bob")
    stack.auth.set_role(admin, "root", "user")  # now bob remains
    assert {
        u.username: u.role for u in stack.auth.list_users(stack.auth.login("bob", USER_PW))
    } == {
        "bob": "admin",
        "root": "user",
    }


def test_disabling_ends_sessions_and_refuses_logins(tmp_path: Path) -> None:
    stack = open_stack(tmp_path / "bridge.db")
    admin, bob = with_admin_and_user(stack)
    stack.auth.disable_user(admin, "bob")
    with pytest.raises(SessionEndedError):
        stack.auth.whoami(bob)
    with pytest.raises(AuthenticationError):
        stack.auth.login("bob", "wrong-password-x")
    with pytest.raises(AccountDisabledError):
        stack.auth.login("bob", USER_PW)
    stack.auth.enable_user(admin, "bob")
    assert stack.auth.login("bob", USER_PW).username == "bob"


def test_deleting_a_user_removes_their_data_but_keeps_the_audit_trail(tmp_path: Path) -> None:
    stack = open_stack(tmp_path / "bridge.db")
    admin, bob = with_admin_and_user(stack)
    with stack.db.transaction() as conn:
        conn.execute(
            insert(tables["secrets"]).values(
                owner_id=bob.user_id,
                kind="token",
                label="iam",
                value=bob.seal(b"t", "x"),
                meta="{}",
                created_at="t",
                updated_at="t",
            )
        )
    stack.auth.delete_user(admin, "Bob")
    with pytest.raises(UserNotFoundError, match="no account named 'bob'"):
        stack.auth.delete_user(admin, "bob")
    with stack.db.reading() as conn:
        assert conn.execute(select(tables["secrets"])).all() == []
    assert [e.action for e in stack.audit.list_events(admin, user="bob")][:2] == [
        "auth.login",
        "auth.password_change",
    ]
    assert stack.audit.list_events(admin, action="user.delete")[0].target == "bob"
    assert stack.auth.login("root", ADMIN_PW).is_admin
