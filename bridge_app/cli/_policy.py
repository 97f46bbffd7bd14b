"""`litellm-bridge policy example | check | show | apply | trust | install`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import (
    EXAMPLE_POLICY,
    PolicyInvalidError,
    PolicyService,
    install_machine_policy,
)


def _service(obj: CliContext) -> PolicyService:
    service: PolicyService = obj.services().policy
    return service


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if ts else "-"


@click.group("policy")
def policy_group() -> None:
    """The company policy: allowed models, limits, config lock (see `policy example`)."""


@policy_group.command("example")
def example_cmd() -> None:
    """Print a complete, commented policy to start from."""
    click.echo(EXAMPLE_POLICY, nl=False)


@policy_group.command("check")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
@friendly_errors
def check_cmd(obj: CliContext, path: Path) -> None:
    """Validate a policy file: every problem with its line and column."""
    result, signature_problem = _service(obj).check_file(path)
    for problem in result.problems:
        where = problem.location() or "file"
        click.echo(f"{path}: {where}: " + click.style("error", fg="red") + f": {problem.message}")
        if problem.hint:
            click.echo(f"    hint: {problem.hint}")
    if signature_problem:
        click.echo(f"{path}: " + click.style("error", fg="red") + f": {signature_problem}")
    if result.ok and not signature_problem:
        click.echo("The policy is valid.")
        return
    click.echo(f"{len(result.errors) + (1 if signature_problem else 0)} error(s).")
    raise SystemExit(1)


@policy_group.command("show")
@click.pass_obj
@friendly_errors
def show_cmd(obj: CliContext) -> None:
    """Print the policy in force and where it came from."""
    service = _service(obj)
    service.refresh_machine_file(force=True)
    current = service.current()
    key = service.trusted_key()
    from bridge_app.services import fingerprint

    click.echo(f"Policy in force: {current.source}")
    if current.since:
        click.echo(f"  since        {_when(current.since)} ({current.actor})")
        click.echo(f"  sha256       {current.digest}")
        click.echo(f"  signed       {'yes' if current.signed else 'no'}")
    click.echo(
        f"  machine file {service.machine_file}"
        + ("" if service.machine_file.exists() else " (absent)")
    )
    click.echo(
        f"  company key  {fingerprint(key) if key else 'none enrolled (signatures not required)'}"
    )
    refusal = service.last_refusal()
    if refusal is not None:
        click.secho(
            f"  refused      {refusal.source} at {_when(refusal.at)}: {refusal.reason}",
            fg="yellow",
        )
        click.echo("               the policy above stays in force.")
    if current.content:
        click.echo("")
        click.echo(current.content, nl=not current.content.endswith("\n"))


@policy_group.command("apply")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@session_options
@click.pass_obj
@friendly_errors
def apply_cmd(obj: CliContext, path: Path, as_user: str | None, password_stdin: bool) -> None:
    """Put the policy in PATH in force on this machine (admins). With a company key
    enrolled, PATH.sig must hold its valid signature."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        try:
            current = _service(obj).apply(session, path)
        except PolicyInvalidError as exc:
            for problem in exc.result.errors:
                click.echo(f"{path}: {problem.location() or 'file'}: error: {problem.message}")
            fail(exc.message.split(" First:")[0], "Nothing was changed; the previous policy stays.")
    click.echo(f"Policy in force: {current.source} (signed: {'yes' if current.signed else 'no'}).")


@policy_group.command("trust")
@click.argument("keyfile", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@session_options
@click.pass_obj
@friendly_errors
def trust_cmd(obj: CliContext, keyfile: Path, as_user: str | None, password_stdin: bool) -> None:
    """Enrol the company's Ed25519 public key (admins): from now on only a policy with a
    valid detached signature (policy.yaml.sig) is accepted."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        fp = _service(obj).trust(session, keyfile)
    click.echo(f"Company key enrolled: {fp}. Only signed policies are accepted from now on.")
    refusal = _service(obj).last_refusal()
    if refusal is not None:
        click.secho(
            f"warning: {refusal.source} is refused: {refusal.reason}", fg="yellow", err=True
        )


@policy_group.command("install")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@friendly_errors
def install_cmd(path: Path) -> None:
    """Place the company policy in PATH (with PATH.sig, when there is one) at the
    machine-wide location, writable only by administrators (IT, as administrator or root;
    the MSI's POLICYFILE runs this). Running apps take it up within seconds."""
    try:
        target, signed = install_machine_policy(path)
    except PolicyInvalidError as exc:
        for problem in exc.result.errors:
            click.echo(f"{path}: {problem.location() or 'file'}: error: {problem.message}")
        fail(exc.message.split(" First:")[0], "Nothing was written; the machine keeps its policy.")
    signature = " and its signature" if signed else " (unsigned)"
    click.echo(f"Policy placed: {target}{signature}; only administrators may change it.")


COMMANDS = [policy_group]
