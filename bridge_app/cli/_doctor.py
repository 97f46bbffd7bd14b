from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.services import run_doctor

_MARK = {"ok": ("ok  ", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red")}


@click.command()
@click.argument("part", required=False, type=click.Choice(["network"]))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def doctor(obj: CliContext, part: str | None, as_json: bool) -> None:
    """Check the installation: version, paths, database key, database, problems.
    `doctor network`: only the network path to each endpoint (proxy, trust, TLS)."""
    report = run_doctor(obj.paths)
    if part == "network":
        checks = [c for c in report.checks if c.network]
        if as_json:
            click.echo(json.dumps([dataclasses.asdict(c) for c in checks], indent=2))
        else:
            click.echo("Network (each endpoint of the active config):")
            _print_checks(checks)
            if len(checks) <= 1:
                click.echo("  The active config calls no http(s) endpoint.")
        if any(c.status == "fail" for c in checks):
            raise SystemExit(1)
        return
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
        _print_checks(report.checks)
        click.echo("No problems found." if report.ok else "Problems found: see FAIL lines above.")
    if not report.ok:
        raise SystemExit(1)


def _print_checks(checks: list[Any]) -> None:
    for check in checks:
        mark, colour = _MARK[check.status]
        click.echo("  " + click.style(mark, fg=colour) + f" {check.name}: {check.detail}")
        if check.hint:
            click.echo(f"       hint: {check.hint}")


COMMANDS = [doctor]
