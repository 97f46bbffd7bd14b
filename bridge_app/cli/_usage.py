"""`litellm-bridge usage [filters] [--by ...]` and `usage export --format csv|json FILE`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import GROUPS, GroupBy, UsageFilter, UsageGroup

_WHEN = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"])
F = TypeVar("F", bound=Callable[..., Any])


def _filters(func: F) -> F:
    for option in reversed(
        [
            click.option("--since", type=_WHEN, help="From this local date/time."),
            click.option("--until", type=_WHEN, help="Up to (not including) this date/time."),
            click.option("--user", "user", metavar="USER", help="Only this person (admins)."),
            click.option("--tool", metavar="TOOL", help="Only this tool (claude-code, ...)."),
            click.option("--model", metavar="MODEL", help="Only this model."),
            click.option(
                "--by",
                type=click.Choice(GROUPS),
                default="day",
                show_default=True,
                help="One line per day, model, tool, user or deployment (which one answered).",
            ),
        ]
    ):
        func = option(func)
    return func


def _filter(
    since: datetime | None,
    until: datetime | None,
    user: str | None,
    tool: str | None,
    model: str | None,
) -> UsageFilter:
    return UsageFilter(
        since.timestamp() if since else None,
        until.timestamp() if until else None,
        user,
        tool,
        model,
    )


def _line(g: UsageGroup) -> str:
    return (
        f"{g.key:<32} {g.requests:>8} {g.errors:>7} {g.refused:>7} {g.tokens_in:>10} "
        f"{g.tokens_out:>10} "
        f"{g.latency_ms_avg:>9.0f} {g.cost_usd:>10.4f}"
    )


@click.group("usage", invoke_without_command=True)
@_filters
@session_options
@click.pass_context
@friendly_errors
def usage_group(
    ctx: click.Context,
    since: datetime | None,
    until: datetime | None,
    user: str | None,
    tool: str | None,
    model: str | None,
    by: GroupBy,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Requests, tokens, errors, latency and estimated cost through the proxy (yours;
    an admin sees everybody's)."""
    if ctx.invoked_subcommand is not None:
        return
    obj: CliContext = ctx.obj
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        wanted = _filter(since, until, user, tool, model)
        report = obj.services().core.usage_report(session, wanted, (by,))
    groups, total = report.groups[by], report.total
    if not groups:
        click.echo("No usage recorded for this selection.")
        return
    click.echo(
        f"{by:<32} {'requests':>8} {'errors':>7} {'refused':>7} {'tokens in':>10} "
        f"{'tokens out':>10} "
        f"{'avg ms':>9} {'est. USD':>10}"
    )
    for g in groups:
        click.echo(_line(g))
    click.echo(_line(total))
    click.echo("Cost is estimated from LiteLLM's bundled price list (0 for unknown models).")
    if total.refused:
        click.echo(
            "Refused: answered by the bridge itself (the company's policy, a quota or a "
            "missing sign-in); no upstream was asked, so these are not errors."
        )


@usage_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_filters
@session_options
@click.pass_obj
@friendly_errors
def export_cmd(
    obj: CliContext,
    fmt: str,
    path: Path,
    since: datetime | None,
    until: datetime | None,
    user: str | None,
    tool: str | None,
    model: str | None,
    by: GroupBy,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Write the usage summary (one row per --by group, then the totals) to PATH."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        wanted = _filter(since, until, user, tool, model)
        count = obj.services().core.export_usage(session, path, fmt, wanted, by)
    click.echo(f"Wrote {count} {by} row(s) and the totals to {path}.")


COMMANDS = [usage_group]
