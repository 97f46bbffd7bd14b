"""`litellm-bridge token ...`: the internal token, IAM settings and projects."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import (
    MAX_SETTINGS_BYTES,
    SHAPES,
    DevicePrompt,
    IamSettings,
    Project,
    TokenService,
    TokenStatus,
    example_settings,
    parse_iam_settings_text,
)


def _tokens(obj: CliContext) -> TokenService:
    service: TokenService = obj.services().tokens
    return service


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).isoformat(" ", "seconds")


def _print_status(status: TokenStatus) -> None:
    click.echo(f"State: {status.state}")
    click.echo(status.describe())
    if status.employee_id:
        click.echo(f"Employee ID: {status.employee_id}")
    if status.expires_at:
        click.echo(f"Expires: {_when(status.expires_at)}")
    if status.refresh_blocked:
        click.echo("Automatic refresh: BLOCKED — the IAM refused it; the app will not retry")
    elif status.refresh == "off":
        click.echo("Automatic refresh: off (you will be asked again)")
    else:
        due = f", next at {_when(status.next_refresh_at)}" if status.next_refresh_at else ""
        click.echo(f"Automatic refresh: on (via {status.refresh}{due})")
    if status.last_error and not status.refresh_blocked and status.state != "failed":
        click.echo(f"Last refresh error: {status.last_error}")
    if status.action:
        click.echo(f"What to do: {status.action}")
    if status.project:
        click.echo(f"Active project: {status.project.project_id} ({status.project.name})")


def _read_settings_file(path: Path) -> IamSettings:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SETTINGS_BYTES + 1)
    except OSError as exc:
        fail(f"Cannot read IAM settings from {path}: {exc.strerror or exc}.")
    return parse_iam_settings_text(raw, source=str(path))


@click.group()
def token() -> None:
    """The internal token: log in with your employee ID, see its state, manage projects."""


@token.command("login")
@click.option("--employee-id", help="Your employee ID (asked when not given).")
@click.option(
    "--browser",
    is_flag=True,
    help="Sign in with your company in the browser (IAM shape oidc): the browser opens the "
    "company's login page; the app waits for it.",
)
@click.option(
    "--device",
    is_flag=True,
    help="Sign in with a code instead (IAM shape oidc, where the provider offers it): the "
    "app shows an address and a code to enter on any device, for a session with no browser.",
)
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
    obj: CliContext,
    employee_id: str | None,
    browser: bool,
    device: bool,
    remember: bool,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Get a token from the company IAM. With --password-stdin: your app password on the
    first line, the employee password on the second. Where the company signs people in
    in the browser (IAM shape oidc), or with --browser: sign in on its own page; with
    --device: with a code entered on any device."""
    passwords = PasswordInput(password_stdin)
    with logged_in(obj, as_user, passwords) as session:
        core = obj.services().core
        iam = core.iam_settings(session)
        # Where the company signs people in in the browser, that is what `login` does.
        if device:
            status = core.token_login_browser(session, open_browser, show_code=show_code)
        elif browser or (employee_id is None and iam is not None and iam.browser):
            status = core.token_login_browser(session, open_browser)
        else:
            if employee_id is None:
                employee_id = click.prompt("Employee ID")
            employee_password = passwords.current("Employee password")
            status = core.token_login(session, employee_id, employee_password, remember=remember)
    _print_status(status)


def show_code(prompt: DevicePrompt) -> None:
    click.echo(prompt.text)
    if prompt.verification_uri_complete:
        click.echo(
            f"Or open this address, which carries the code: {prompt.verification_uri_complete}"
        )
    click.echo("Waiting for the sign-in to be approved (Ctrl+C stops).")


def open_browser(url: str) -> None:
    """The system browser (BROWSER names another); the address is printed too, for a
    session with no browser at hand."""
    import webbrowser

    click.echo("Sign in with your company in the browser; waiting for it (5 minutes at most).")
    click.echo(f"If no browser opened, open this address: {url}")
    try:
        webbrowser.open(url)
    except webbrowser.Error as exc:
        click.echo(f"No browser could be started ({exc}).", err=True)


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
        click.echo(json.dumps(result.to_json(), indent=2))
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
@click.option(
    "--example",
    "example",
    is_flag=False,
    flag_value="custom",
    default=None,
    type=click.Choice(SHAPES),
    help="Print a complete, commented example for a shape (default: custom).",
)
@click.option(
    "--test",
    "test_file",
    is_flag=False,
    flag_value="-",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    help="Log in once with the stored settings (or with FILE's) and show the IAM's answer, "
    "token masked; nothing is stored.",
)
@click.option("--employee-id", default=None, help="For --test: the employee ID to log in with.")
@session_options
@click.pass_obj
@friendly_errors
def iam(
    obj: CliContext,
    settings_file: Path | None,
    example: str | None,
    test_file: Path | None,
    employee_id: str | None,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Show the IAM connector settings; set them from a JSON file (admins); print an
    example (--example SHAPE); test a login without storing anything (--test [FILE]).

    Shapes: custom (JSON/form POST), oauth2-password (with refresh tokens),
    oauth2-client-credentials. docs/iam.md documents every key."""
    if example is not None:
        click.echo(example_settings(example))
        return
    if test_file is not None:
        _iam_test(obj, test_file, employee_id, as_user, password_stdin)
        return
    service = _tokens(obj)
    if settings_file is None:
        current = service.iam_settings()
        if current is None:
            fail(
                "No IAM is configured yet.", "An admin runs `litellm-bridge token iam --set FILE`."
            )
        click.echo(json.dumps(current.masked(), indent=2))
        return
    parsed = _read_settings_file(settings_file)  # before the login: a bad file asks nothing
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        obj.services().core.set_iam_settings(session, parsed)
    click.echo(f"IAM settings stored ({parsed.shape}, {parsed.url}).")
    if parsed.cleartext_warning:
        click.secho(f"warning: {parsed.cleartext_warning}", fg="yellow", err=True)


def _iam_test(
    obj: CliContext,
    test_file: Path,
    employee_id: str | None,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    service = _tokens(obj)
    if str(test_file) == "-":
        settings = service.iam_settings()
        if settings is None:
            fail("No IAM is configured yet.", "Pass a settings file: `token iam --test FILE`.")
    else:
        settings = _read_settings_file(test_file)
    passwords = PasswordInput(password_stdin)
    with logged_in(obj, as_user, passwords) as session:
        employee_password = ""
        if settings.needs_employee:
            if employee_id is None:
                employee_id = click.prompt("Employee ID")
            employee_password = passwords.current("Employee password")
        grant = obj.services().core.test_iam(
            session, settings, employee_id or "", employee_password, open_browser=open_browser
        )
    click.echo(f"The IAM answered with a token ({settings.shape}); nothing was stored.")
    if settings.cleartext_warning:
        click.secho(f"warning: {settings.cleartext_warning}", fg="yellow", err=True)
    click.echo(f"Token lifetime: {grant.lifetime_s:.0f} s (expires {_when(grant.expires_at)})")
    click.echo(f"Refresh token: {'yes' if grant.refresh_token else 'no'}")
    click.echo("The IAM's answer (secrets masked):")
    click.echo(json.dumps(grant.masked_answer(), indent=2))


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
        obj.services().core.save_project(session, Project(project_id, name, parsed))
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
        obj.services().core.delete_project(session, project_id)
    click.echo(f"Removed project {project_id}.")


COMMANDS = [token]
