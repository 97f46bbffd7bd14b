"""`litellm-bridge user ...` and `litellm-bridge login`."""

from __future__ import annotations

import time

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, resolve_username, session_options
from bridge_app.services import NoAdminError


@click.command()
@click.argument("username", required=False)
@session_options
@click.pass_obj
@friendly_errors
def login(obj: CliContext, username: str | None, as_user: str | None, password_stdin: bool) -> None:
    """Check your password and show who you are and your role."""
    passwords = PasswordInput(password_stdin)
    with logged_in(obj, username or as_user, passwords) as session:
        name = session.display_name or session.username
        click.echo(f"Logged in as {name} ({session.username}), role: {session.role}.")
        if session.must_change_password:
            click.echo(
                "You must change your password now: run "
                f"`litellm-bridge user passwd --as {session.username}`."
            )


@click.group()
def user() -> None:
    """Local accounts: create, list, disable, enable, delete, reset, roles, passwd."""


@user.command("create")
@click.argument("username", required=False)
@click.option("--admin", "make_admin", is_flag=True, help="Give the account the admin role.")
@click.option("--display-name", help="Name shown in the app (default: the username).")
@session_options
@click.pass_obj
@friendly_errors
def create(
    obj: CliContext,
    username: str | None,
    make_admin: bool,
    display_name: str | None,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Create an account. On a new installation, the first one: `user create --admin`.

    Other accounts are created by an admin and must change their password at first login.
    """
    auth = obj.services().auth
    passwords = PasswordInput(password_stdin)
    if not auth.has_admin():
        if not make_admin:
            raise NoAdminError()
        if not username:
            if password_stdin:
                fail("Give the new admin's username as an argument.")
            username = str(click.prompt("Username for the first admin", err=True))
        password = passwords.new(f"New password for {username}")
        info = auth.create_first_admin(username, password, display_name=display_name)
        click.echo(
            f"Created the first admin account {info.username}. "
            f"Log in with `litellm-bridge login {info.username}`."
        )
        return
    if not username:
        fail("Give the new account's username as an argument.")
    with logged_in(obj, as_user, passwords) as session:
        password = passwords.new(f"Initial password for {username}")
        info = obj.services().core.create_user(
            session,
            username,
            password,
            role="admin" if make_admin else "user",
            display_name=display_name,
        )
    click.echo(
        f"Created {info.username} (role {info.role}); they must choose a new password at "
        "their first login."
    )


@user.command("list")
@session_options
@click.pass_obj
@friendly_errors
def list_(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """List the accounts."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        users = obj.services().auth.list_users(session)
    now = time.time()
    click.echo(f"{'USERNAME':<20} {'ROLE':<6} {'STATE':<9} {'LAST LOGIN':<26} NOTES")
    for u in users:
        state = "enabled" if u.enabled else "disabled"
        notes = []
        if u.must_change_password:
            notes.append("must change password")
        if u.is_locked(now):
            notes.append("locked after failed logins")
        if u.display_name != u.username:
            notes.append(f"shown as {u.display_name!r}")
        last = u.last_login_at or "never"
        click.echo(f"{u.username:<20} {u.role:<6} {state:<9} {last:<26} {', '.join(notes)}")


def _simple(name: str, verb: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("username")
    @session_options
    @click.pass_obj
    @friendly_errors
    def command(obj: CliContext, username: str, as_user: str | None, password_stdin: bool) -> None:
        with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
            core = obj.services().core
            (core.disable_user if verb == "disable" else core.enable_user)(session, username)
        click.echo(f"{verb.capitalize()}d {username}.")

    return command


user.add_command(_simple("disable", "disable", "Disable an account (it can no longer log in)."))
user.add_command(_simple("enable", "enable", "Enable a disabled account again."))


@user.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@session_options
@click.pass_obj
@friendly_errors
def delete(
    obj: CliContext, username: str, yes: bool, as_user: str | None, password_stdin: bool
) -> None:
    """Delete an account with its stored secrets (audit events stay)."""
    if not yes:
        if password_stdin:
            fail("Add --yes to delete an account from a script.")
        click.confirm(f"Delete {username} and their stored secrets?", abort=True, err=True)
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        obj.services().core.delete_user(session, username)
    click.echo(f"Deleted {username}.")


@user.command("reset-password")
@click.argument("username")
@session_options
@click.pass_obj
@friendly_errors
def reset_password(
    obj: CliContext, username: str, as_user: str | None, password_stdin: bool
) -> None:
    """Set a temporary password; the user must change it at the next login.

    Their stored secrets cannot be decrypted afterwards and are deleted.
    """
    passwords = PasswordInput(password_stdin)
    with logged_in(obj, as_user, passwords) as session:
        new = passwords.new(f"Temporary password for {username}")
        result = obj.services().core.reset_password(session, username, new)
    click.echo(result.notice)


@user.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["admin", "user"]))
@session_options
@click.pass_obj
@friendly_errors
def set_role(
    obj: CliContext, username: str, role: str, as_user: str | None, password_stdin: bool
) -> None:
    """Give an account the admin or the user role."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        info = obj.services().core.set_role(session, username, role)
    click.echo(f"{info.username} now has the role {info.role}.")


@user.command("passwd")
@session_options
@click.pass_obj
@friendly_errors
def passwd(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """Change your own password (stored secrets stay readable)."""
    auth = obj.services().auth
    auth.require_admin_exists()
    passwords = PasswordInput(password_stdin)
    username = resolve_username(as_user, passwords)
    current = passwords.current(f"Current password for {username}")
    core = obj.services().core
    session = core.login(username, current)
    try:
        core.change_password(session, current, passwords.new("New password"))
    finally:
        core.logout(session)
    click.echo(f"Password changed for {session.username}.")


COMMANDS = [login, user]
