"""`litellm-bridge diagnostics export FILE.zip | show`."""

from __future__ import annotations

from pathlib import Path

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options


@click.group()
def diagnostics() -> None:
    """One archive for the support desk: doctor, versions, config, status, logs, checks.
    It never contains a password, key or token."""


@diagnostics.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@session_options
@click.pass_obj
@friendly_errors
def export(obj: CliContext, path: Path, as_user: str | None, password_stdin: bool) -> None:
    """Write the diagnostics archive to PATH (a .zip)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:

        def progress(what: str, fraction: float) -> None:
            if what != "done":
                click.echo(f"[{fraction * 100:3.0f}%] {what}", err=True)

        result = obj.services().diagnostics.export(session, path, progress)
    click.echo(result.describe())


@diagnostics.command("show")
@click.option("--file", "name", metavar="NAME", help="Print this file of the archive in full.")
@session_options
@click.pass_obj
@friendly_errors
def show(obj: CliContext, name: str | None, as_user: str | None, password_stdin: bool) -> None:
    """Preview what `diagnostics export` writes (already masked)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        parts = obj.services().diagnostics.preview(session)
    if name is not None:
        match = next((p for p in parts if p.name == name), None)
        if match is None:
            fail(
                f"The archive has no file {name}.",
                "Files: " + ", ".join(p.name for p in parts),
            )
        click.echo(match.text, nl=False)
        return
    click.echo("The diagnostics archive holds (secrets masked):")
    for part in parts:
        lines = part.text.count("\n")
        click.echo(f"  {part.name:<26} {part.description} ({lines} lines)")
    click.echo("`diagnostics show --file NAME` prints one of them.")


COMMANDS = [diagnostics]
