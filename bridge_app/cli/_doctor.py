from __future__ import annotations

import json

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.services import run_doctor

_MARK = {"ok": ("ok  ", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red")}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def doctor(obj: CliContext, as_json: bool) -> None:
    """Check the installation: version, paths, database key, database, problems."""
    report = run_doctor(obj.paths)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(f"LiteLLM Bridge {report.version} on Python {report.python}, {report.platform}")
        click.echo("Packages: " + ", ".join(f"{k} {v}" for k, v in report.packages.items()))
        source = "BRIDGE_HOME" if report.paths_source == "BRIDGE_HOME" else "per-user defaults"
        click.echo(f"Paths (from {source}):")
        for label, path in report.paths.items():
            click.echo(f"  {label:<9} {path}")
        if report.key_source == "keyring":
            click.echo(f"Database key: OS keyring ({report.key_location})")
        elif report.key_source == "key-file":
            click.echo(f"Database key: key file {report.key_location}")
        click.echo("Checks:")
        for check in report.checks:
            mark, colour = _MARK[check.status]
            click.echo("  " + click.style(mark, fg=colour) + f" {check.name}: {check.detail}")
            if check.hint:
                click.echo(f"       hint: {check.hint}")
        click.echo("No problems found." if report.ok else "Problems found: see FAIL lines above.")
    if not report.ok:
        raise SystemExit(1)


COMMANDS = [doctor]
