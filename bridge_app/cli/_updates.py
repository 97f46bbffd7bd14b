"""`litellm-bridge update configure | check | download | apply | rollback | status`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options


def _progress(done: int, total: int) -> None:
    from bridge_app.services import describe_bytes

    click.echo(f"\r  downloading {describe_bytes(done, total)}", nl=done >= total, err=True)


@click.group()
def update() -> None:
    """Signed updates (The Update Framework) from the source your IT department runs:
    installed beside this version, switched at the next start after a health check, and
    rolled back automatically when that fails."""


@update.command("configure")
@click.argument("source")
@click.option(
    "--root",
    "root_json",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The update source's root.json (from IT): the keys every update must be signed by.",
)
@session_options
@click.pass_obj
@friendly_errors
def configure(
    obj: CliContext, source: str, root_json: Path, as_user: str | None, password_stdin: bool
) -> None:
    """Use SOURCE (an https:// URL or a folder on a share) for updates (admins)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        obj.services().core.configure_updates(session, source, root_json)
    click.echo(f"Updates come from {source}; trusted root installed.")


@update.command("check")
@click.pass_obj
@friendly_errors
def check(obj: CliContext) -> None:
    """Is a newer version published? (Exit 0 either way.)"""
    click.echo(obj.services().core.check_update().describe())


@update.command("download")
@click.pass_obj
@friendly_errors
def download(obj: CliContext) -> None:
    """Download and verify the newer version (nothing is installed)."""
    available, path = obj.services().core.download_update(_progress)
    click.echo(f"Version {available.latest} downloaded and verified: {path}")


@update.command("apply")
@click.option("--yes", is_flag=True, help="Install even while the proxy serves requests.")
@session_options
@click.pass_obj
@friendly_errors
def apply(obj: CliContext, yes: bool, as_user: str | None, password_stdin: bool) -> None:
    """Download, verify and install the newer version beside this one (admins); it starts
    at the next start, after a health check."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        outcome = obj.services().core.install_update(session, _progress, proxy_agreed=yes)
    click.echo(outcome[0].upper() + outcome[1:] + ".")


@update.command("rollback")
@session_options
@click.pass_obj
@friendly_errors
def rollback(obj: CliContext, as_user: str | None, password_stdin: bool) -> None:
    """Go back to the previous version at the next start (admins). If it cannot read the
    database (upgraded since), the copy made before the upgrade comes back; the newer one is
    kept beside it."""
    from bridge_app.services import finish_pending_rollback

    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        outcome = obj.services().core.rollback_update(session)
    click.echo(outcome[0].upper() + outcome[1:])
    obj.close()  # the database is swapped only while nobody has it open
    restored = finish_pending_rollback(obj.paths)
    if restored:
        click.echo(restored)


@update.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def status(obj: CliContext, as_json: bool) -> None:
    """Current, pending and previous versions, the source and the last outcome."""
    state = obj.services().core.update_status()
    if as_json:
        click.echo(json.dumps(state, indent=2))
        return
    click.echo(f"Current   {state['current']}")
    if state["pending"]:
        click.echo(f"Pending   {state['pending']} (starts at the next start)")
    if state["previous"]:
        click.echo(f"Previous  {state['previous']} (`update rollback` goes back to it)")
    click.echo(f"Source    {state['source'] or 'not configured'}")
    if state["last_outcome"]:
        click.echo(f"Last      {state['last_outcome']}")


COMMANDS = [update]
