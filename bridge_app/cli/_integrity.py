from __future__ import annotations

import json

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.services import check_integrity, prepare_gui_environment, run_self_test


@click.command()
@click.option(
    "--require",
    is_flag=True,
    help="Fail (exit 1) unless this is a packaged build whose files all verify.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@friendly_errors
def verify(require: bool, as_json: bool) -> None:
    """Check every file of this app against its signed manifest.

    Names each file that was added, removed or changed since the release was built.
    """
    status = check_integrity()
    report = status.report
    if as_json:
        data = {"state": status.state, "message": status.message}
        if report is not None:
            data.update(report.to_dict())
        click.echo(json.dumps(data, indent=2))
    elif status.state == "verified":
        click.secho(status.message, fg="green")
    elif status.state == "not_packaged":
        click.echo(status.message)
    else:
        click.secho("Integrity check FAILED", fg="red", bold=True)
        click.echo(report.summary() if report else status.message)
        for line in report.lines() if report else []:
            click.echo(f"  {line}")
    if status.state == "failed" or (require and status.state != "verified"):
        raise SystemExit(1)


def _gui_window() -> str:
    # Loading the window provider opens a real window: only where a display exists.
    from bridge_app.ui import load_window_modules

    prepare_gui_environment()
    load_window_modules()
    return "the GUI modules import and a window provider loads"


@click.command("self-test", hidden=True)
@click.option("--gui", is_flag=True, help="Also load the GUI modules (needs a display).")
@click.pass_obj
def self_test(obj: CliContext, gui: bool) -> None:
    """Check that this build holds every part the app needs (used by the bundle smoke test)."""
    failed = 0
    for result in run_self_test(gui=_gui_window if gui else None):
        mark = click.style("ok  ", fg="green") if result.ok else click.style("FAIL", fg="red")
        click.echo(f"  {mark} {result.name}: {result.detail}")
        failed += not result.ok
    if failed:
        click.echo(f"Self-test: {failed} check(s) failed.")
        raise SystemExit(1)
    click.echo("Self-test passed.")


COMMANDS = [verify, self_test]
