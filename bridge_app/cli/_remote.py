"""`litellm-bridge remote ...`, `models ...` and `team export`: remote LiteLLM gateways,
logical models with routing, and the team deployment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.runtime import stdin_is_terminal
from bridge_app.services import RemoteError, RemoteService


def _remote(obj: CliContext) -> RemoteService:
    service: RemoteService = obj.services().remote
    return service


def _read_key() -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise RemoteError(
            "Expected the gateway key on standard input, but it was empty.",
            hint="Pipe it in (after the password line with --password-stdin).",
        )
    return value


# -- remote gateways ------------------------------------------------------------------------


@click.group("remote")
def remote() -> None:
    """Remote LiteLLM gateways: add, test, models, use, remove."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--key-stdin", is_flag=True, help="Read the gateway's key from standard input.")
@click.option(
    "--ca-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="PEM file of the private CA that signed the gateway's https certificate.",
)
@click.option("--no-check", is_flag=True, help="Keep it even if it cannot be reached now.")
@session_options
@click.pass_obj
@friendly_errors
def add_cmd(
    obj: CliContext,
    name: str,
    url: str,
    key_stdin: bool,
    ca_file: Path | None,
    no_check: bool,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Add (or replace) the gateway NAME at URL (admins); tested before it is kept."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        key = None
        if key_stdin:
            key = _read_key() if password_stdin or not stdin_is_terminal() else None
            if key is None:
                key = str(click.prompt("Gateway key", hide_input=True, err=True))
        ca = ca_file.read_text(encoding="utf-8", errors="replace") if ca_file else None
        result = obj.services().core.add_gateway(
            session, name, url, key=key, ca_pem=ca, check=not no_check
        )
    if result is not None:
        for line in result.lines():
            click.echo(line)
    click.echo(f"Added the remote gateway {name.lower()}.")
    click.echo(f"Use one of its models locally: litellm-bridge remote use {name.lower()} MODEL")


@remote.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def list_cmd(obj: CliContext, as_json: bool) -> None:
    """Every remote gateway: address, TLS, whether a key is stored."""
    gateways = _remote(obj).gateways()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": g.name,
                        "url": g.url,
                        "tls": g.tls,
                        "has_key": g.has_key,
                        "used_by": list(g.used_by),
                    }
                    for g in gateways
                ],
                indent=2,
            )
        )
        return
    if not gateways:
        click.echo("No remote gateways. Add one: litellm-bridge remote add NAME URL --key-stdin")
    for g in gateways:
        key = "key stored" if g.has_key else "no key"
        used = f"  used by {', '.join(g.used_by)}" if g.used_by else ""
        click.echo(f"{g.name:<16} {g.url:<40} {g.tls:<18} {key}{used}")


@remote.command("test")
@click.argument("name")
@click.pass_obj
@friendly_errors
def test_cmd(obj: CliContext, name: str) -> None:
    """Reachability, TLS, key, latency and LiteLLM version of the gateway NAME."""
    for line in _remote(obj).test(name).lines():
        click.echo(line)


@remote.command("models")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def models_cmd(obj: CliContext, name: str, as_json: bool) -> None:
    """The models the gateway NAME offers (/v1/models; details when /model/info allows)."""
    models = _remote(obj).models(name)
    if as_json:
        click.echo(json.dumps([m.__dict__ for m in models], indent=2))
        return
    if not models:
        click.echo("The gateway offers no model to this key.")
    for m in models:
        detail = ", ".join(x for x in (m.upstream_model, m.mode) if x)
        click.echo(f"{m.id:<30} {detail}")


@remote.command("use")
@click.argument("name")
@click.argument("model")
@click.option("--as-model", "local_name", help="The local model name (default: MODEL).")
@click.option("--order", type=int, help="Priority inside the local model group (1 first).")
@click.option(
    "--no-inject", is_flag=True, help="Do not add the internal token and project to requests."
)
@session_options
@click.pass_obj
@friendly_errors
def use_cmd(
    obj: CliContext,
    name: str,
    model: str,
    local_name: str | None,
    order: int | None,
    no_inject: bool,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Add the gateway's MODEL to the local config in one step (litellm_proxy/)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = obj.services().core.use_remote_model(
            session,
            name,
            model,
            local_name=local_name,
            inject={} if no_inject else None,
            order=order,
        )
    click.echo(f"Local model {local_name or model} -> {name}/{model}.")
    click.echo(result.message)


@remote.command("remove")
@click.argument("name")
@click.option(
    "--with-models",
    is_flag=True,
    help="Also remove the local models that use the gateway (one config change).",
)
@session_options
@click.pass_obj
@friendly_errors
def remove_cmd(
    obj: CliContext, name: str, with_models: bool, as_user: str | None, password_stdin: bool
) -> None:
    """Forget the gateway NAME and its key (admins). Refused while local models use it,
    unless --with-models removes them too."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        used, applied = obj.services().core.remove_gateway(session, name, with_models=with_models)
    if applied is not None:
        click.echo(f"Removed the local models {', '.join(used)}: {applied.message}")
    click.echo(f"Removed the remote gateway {name.lower()} and its key.")


COMMANDS = [remote]
