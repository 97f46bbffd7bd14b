"""`litellm-bridge audit list | export | verify | forward` (admins)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import EXAMPLES, ForwardStatus

_WHEN = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"])


@click.group()
def audit() -> None:
    """Read, export and verify the tamper-evident audit log (admins)."""


@audit.command("list")
@click.option("--user", "user_filter", metavar="USER", help="Only events by this account.")
@click.option("--action", metavar="ACTION", help="An action (user.create) or area (auth).")
@click.option("--since", type=_WHEN, help="From this local date/time.")
@click.option("--until", type=_WHEN, help="Up to this local date/time.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@session_options
@click.pass_obj
@friendly_errors
def list_(
    obj: CliContext,
    user_filter: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Show the newest matching events, oldest first."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        events = obj.services().audit.list_events(
            session, user=user_filter, action=action, since=since, until=until, limit=limit
        )
    if not events:
        click.echo("No matching events.")
    for e in events:
        detail = f"  {e.detail}" if e.detail else ""
        click.echo(
            f"#{e.seq:<5} {e.ts[:19]}Z {e.actor:<16} {e.action:<22} {e.outcome:<6} "
            f"{e.target}{detail}"
        )


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", "user_filter", metavar="USER", help="Only events by this account.")
@click.option("--action", metavar="ACTION", help="An action (user.create) or area (auth).")
@click.option("--since", type=_WHEN, help="From this local date/time.")
@click.option("--until", type=_WHEN, help="Up to this local date/time.")
@session_options
@click.pass_obj
@friendly_errors
def export(
    obj: CliContext,
    fmt: str,
    path: Path,
    user_filter: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Write the events to PATH as CSV or JSON (whole file or nothing)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = obj.services().audit.export(
            session, path, fmt, user=user_filter, action=action, since=since, until=until
        )
    click.echo(f"Exported {result.count} event(s) to {result.path} ({result.format}).")


@audit.command("verify")
@session_options
@click.pass_obj
@friendly_errors
def verify(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """Check that no event was altered, removed or reordered (exit code 1 if one was)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = obj.services().audit.verify(session)
    if result.ok:
        click.echo(result.message)
        return
    click.secho(result.message, fg="red", err=True)
    sys.exit(1)


@audit.group("forward")
def forward() -> None:
    """Send every audit event to the company's collectors (syslog, HTTPS, Event Log)."""


def _show_status(status: ForwardStatus) -> None:
    audit_rows = [r for r in status.destinations if not r.destination.carries_alerts]
    alert_rows = [r for r in status.destinations if r.destination.carries_alerts]
    managed = " (set by the company policy)" if status.source == "policy" else ""
    if not audit_rows:
        where = "the company policy forwards nowhere" if status.source == "policy" else "nowhere"
        click.echo(f"Audit events are not forwarded ({where}).")
    else:
        click.echo(f"Audit events go to{managed}:")
    for row in audit_rows:
        click.secho(f"  {row.describe()}", fg="red" if row.state.error or row.unavailable else None)
    if alert_rows:
        click.echo("Alerts (quota, token refresh, proxy failures, refusal bursts, integrity):")
    for row in alert_rows:
        click.secho(f"  {row.describe()}", fg="red" if row.state.error else None)
    who = status.forwarder
    click.echo(
        f"Sending: {'the running instance ' + who if who else 'when the window or serve runs'}"
        f"; newest event #{status.head}."
    )


@forward.command("show")
@session_options
@click.pass_obj
@friendly_errors
def forward_show(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """Where events go, how far each collector is, and the last error."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        _show_status(obj.services().core.audit_forward_status(session))


@forward.command("set")
@click.argument("urls", nargs=-1, metavar="URL...")
@click.option("--none", "nowhere", is_flag=True, help="Forward nowhere.")
@session_options
@click.pass_obj
@friendly_errors
def forward_set(
    obj: CliContext, urls: tuple[str, ...], nowhere: bool, as_user: str | None, password_stdin: bool
) -> None:
    """Forward to these destinations (replacing the list), for example
    syslog+tls://collector.corp:6514 or https://siem.corp/ingest; see docs/fleet.md."""
    if bool(urls) == nowhere:
        fail("Name one or more destinations, or --none.", hint="Examples: " + ", ".join(EXAMPLES))
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        chosen = obj.services().core.set_audit_forward(session, list(urls))
    if not chosen:
        click.echo("Audit events are no longer forwarded.")
    else:
        click.echo("Audit events now go to: " + ", ".join(d.url for d in chosen))
        click.echo("Every event not yet sent goes, oldest first, while the window or serve runs.")


@forward.command("send")
@session_options
@click.pass_obj
@friendly_errors
def forward_send(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """Send what is waiting now (exit code 1 if a collector failed)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:

        def progress(waiting: int) -> None:
            click.echo(
                f"  {waiting} event(s) still waiting", err=True
            )  # ASCII: a Windows console is cp1252

        status = obj.services().core.send_audit_now(session, progress)
    _show_status(status)
    if any(row.state.error for row in status.destinations):
        sys.exit(1)


COMMANDS = [audit]
