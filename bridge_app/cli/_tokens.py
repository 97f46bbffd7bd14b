"""`litellm-bridge token ...`: the internal token, IAM settings and projects."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import IamSettings, Project, TokenService, TokenStatus


def _tokens(obj: CliContext) -> TokenService:
    service: TokenService = obj.services().tokens
    return service


def _print_status(status: TokenStatus) -> None:
    click.echo(f"State: {status.state}")
    click.echo(status.describe())
    if status.employee_id:
        click.echo(f"Employee ID: {status.employee_id}")
    if status.expires_at:
        click.echo(
            f"Expires: {datetime.fromtimestamp(status.expires_at).isoformat(' ', 'seconds')}"
        )
    click.echo(
        "Automatic refresh: "
        + ("on (password remembered)" if status.remembered else "off (you will be asked again)")
        + (" — paused after a rejected password" if status.refresh_blocked else "")
    )
    if status.project:
        click.echo(f"Active project: {status.project.project_id} ({status.project.name})")


@click.group()
def token() -> None:
    """The internal token: log in with your employee ID, see its state, manage projects."""


@token.command("login")
@click.option("--employee-id", prompt="Employee ID", help="Your employee ID.")
@click.option(
    "--remember",
    is_flag=True,
    help="Keep the employee password (encrypted with "
    "your key) so the token is refreshed automatically.",
)
@session_options
@click.pass_obj
@friendly_errors
def login(
    obj: CliContext, employee_id: str, remember: bool, as_user: str | None, password_stdin: bool
) -> None:
    """Get a token from the company IAM. With --password-stdin: your app password on the
    first line, the employee password on the second."""
    passwords = PasswordInput(password_stdin)
    with logged_in(obj, as_user, passwords) as session:
        employee_password = passwords.current("Employee password")
        status = obj.services().core.token_login(
            session, employee_id, employee_password, remember=remember
        )
    _print_status(status)


@token.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (no token).")
@session_options
@click.pass_obj
@friendly_errors
def status(obj: CliContext, as_json: bool, as_user: str | None, password_stdin: bool) -> None:
    """State of your token: valid until when, expiring, expired or failed (and why)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = _tokens(obj).activate(session)
    if as_json:
        data = {k: v for k, v in result.__dict__.items() if k != "project"} | {
            "project": result.project.project_id if result.project else None
        }
        click.echo(json.dumps(data, indent=2))
    else:
        _print_status(result)


@token.command("forget-password")
@session_options
@click.pass_obj
@friendly_errors
def forget_password(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """Delete the remembered employee password (automatic refresh stops)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        obj.services().core.forget_token_password(session)
    click.echo("The employee password is no longer stored.")


@token.command("iam")
@click.option(
    "--set",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON file with the IAM settings to store (admins only).",
)
@session_options
@click.pass_obj
@friendly_errors
def iam(
    obj: CliContext, settings_file: Path | None, as_user: str | None, password_stdin: bool
) -> None:
    """Show the IAM connector settings, or set them from a JSON file (admins)."""
    service = _tokens(obj)
    if settings_file is None:
        current = service.iam_settings()
        if current is None:
            fail(
                "No IAM is configured yet.", "An admin runs `litellm-bridge token iam --set FILE`."
            )
        click.echo(json.dumps(current.to_dict(), indent=2))
        return
    try:
        data = json.loads(settings_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"Cannot read IAM settings from {settings_file}: {exc}.")
    if not isinstance(data, dict):
        fail(f"{settings_file} must hold a JSON object.")
    parsed = IamSettings.from_dict(data)
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        service.set_iam_settings(session, parsed)
    click.echo(f"IAM settings stored ({parsed.url}).")


@token.group("project")
def project() -> None:
    """Your projects: the metadata every request carries."""


@project.command("list")
@session_options
@click.pass_obj
@friendly_errors
def project_list(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """List your projects; * marks the active one."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        items = _tokens(obj).projects.projects(session)
    if not items:
        click.echo("No projects yet: add one with `litellm-bridge token project add ID NAME`.")
    for item, active in items:
        fields = ", ".join(f"{k}={v}" for k, v in item.fields.items())
        click.echo(f"{'*' if active else ' '} {item.project_id}  {item.name}  {fields}")


@project.command("add")
@click.argument("project_id")
@click.argument("name")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="An extra metadata field (repeatable).",
)
@session_options
@click.pass_obj
@friendly_errors
def project_add(
    obj: CliContext,
    project_id: str,
    name: str,
    fields: tuple[str, ...],
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Add or update a project."""
    parsed: dict[str, str] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--field {item!r} must look like KEY=VALUE.")
        parsed[key.strip()] = value
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        _tokens(obj).projects.save(session, Project(project_id, name, parsed))
    click.echo(f"Saved project {project_id}.")


@project.command("use")
@click.argument("project_id")
@session_options
@click.pass_obj
@friendly_errors
def project_use(
    obj: CliContext, project_id: str, as_user: str | None, password_stdin: bool
) -> None:
    """Make a project the active one (the next request carries it)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        chosen = obj.services().core.use_project(session, project_id)
    click.echo(f"Active project: {chosen.project_id} ({chosen.name}).")


@project.command("remove")
@click.argument("project_id")
@session_options
@click.pass_obj
@friendly_errors
def project_remove(
    obj: CliContext, project_id: str, as_user: str | None, password_stdin: bool
) -> None:
    """Delete a project."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        _tokens(obj).projects.delete(session, project_id)
    click.echo(f"Removed project {project_id}.")


COMMANDS = [token]
