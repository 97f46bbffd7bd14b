"""`litellm-bridge remote ...`, `models ...` and `team export`: remote LiteLLM gateways,
logical models with routing, and the team deployment."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import STRATEGIES, RemoteError, RemoteService


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
            key = _read_key() if password_stdin or not sys.stdin.isatty() else None
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
                    {"name": g.name, "url": g.url, "tls": g.tls, "has_key": g.has_key}
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
        click.echo(f"{g.name:<16} {g.url:<40} {g.tls:<18} {key}")


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
@session_options
@click.pass_obj
@friendly_errors
def remove_cmd(obj: CliContext, name: str, as_user: str | None, password_stdin: bool) -> None:
    """Forget the gateway NAME and its key (admins)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        still_used = obj.services().core.remove_gateway(session, name)
    click.echo(f"Removed the remote gateway {name.lower()} and its key.")
    if still_used:
        click.secho(
            "These local models still point at it: " + ", ".join(sorted(set(still_used))),
            fg="yellow",
        )
        click.echo("Remove them: litellm-bridge models remove DEPLOYMENT_ID")


# -- logical models -------------------------------------------------------------------------


@click.group("models")
def models() -> None:
    """Logical models: deployments, priority, fallbacks, retries, cooldown, key rotation."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def models_list(obj: CliContext, as_json: bool) -> None:
    """Every logical model, its deployments in order, and the router settings."""
    view = _remote(obj).routing()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "groups": [
                        {
                            "name": g.name,
                            "fallbacks": list(g.fallbacks),
                            "deployments": [d.__dict__ for d in g.deployments],
                        }
                        for g in view.groups
                    ],
                    "router": {**view.router.__dict__, "fallbacks": dict(view.router.fallbacks)},
                },
                indent=2,
            )
        )
        return
    for group in view.groups:
        falls = f"  (falls back to {', '.join(group.fallbacks)})" if group.fallbacks else ""
        click.echo(f"{group.name}{falls}")
        for d in sorted(group.deployments, key=lambda d: d.order or 1_000_000):
            where = f" @ {d.api_base}" if d.api_base else ""
            key = f" key {d.key_env}" if d.key_env else ""
            order = f"order {d.order}" if d.order else "order -"
            click.echo(f"  {d.id:<20} {order:<9} {d.model}{where}{key}")
    r = view.router

    def shown(value: Any) -> str:
        return (
            "default" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        )

    cooldown = "off" if r.cooldowns_disabled else shown(r.cooldown_s)
    click.echo(
        f"routing: {r.strategy or 'simple-shuffle'}, retries {shown(r.retries)}, "
        f"timeout {shown(r.timeout)}, cooldown {cooldown}, "
        f"allowed fails {shown(r.allowed_fails)}"
    )


@models.command("add")
@click.argument("group")
@click.argument("model")
@click.option("--api-base", help="The deployment's address (e.g. https://llm.corp/v1).")
@click.option(
    "--key-env",
    "key_envs",
    multiple=True,
    help="Shared environment entry with an API key; repeat for keys used in rotation.",
)
@click.option("--order", type=int, help="Priority: 1 is tried first, 2 when 1 cools down...")
@click.option("--timeout", type=float, help="Seconds before this deployment's call fails.")
@click.option("--retries", type=int, help="Retries on this deployment.")
@click.option("--id", "deployment_id", help="The deployment id (default: GROUP-N).")
@session_options
@click.pass_obj
@friendly_errors
def models_add(
    obj: CliContext,
    group: str,
    model: str,
    api_base: str | None,
    key_envs: tuple[str, ...],
    order: int | None,
    timeout: float | None,
    retries: int | None,
    deployment_id: str | None,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Add a deployment (provider/model) to the logical model GROUP (created if new)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        ids, result = obj.services().core.add_deployment(
            session,
            group,
            model,
            api_base=api_base,
            key_envs=key_envs,
            order=order,
            timeout=timeout,
            max_retries=retries,
            deployment_id=deployment_id,
        )
    click.echo(f"Added {', '.join(ids)} to {group}.")
    click.echo(result.message)


@models.command("remove")
@click.argument("deployment_id")
@session_options
@click.pass_obj
@friendly_errors
def models_remove(
    obj: CliContext, deployment_id: str, as_user: str | None, password_stdin: bool
) -> None:
    """Remove one deployment (by the id `models list` shows)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = obj.services().core.remove_deployment(session, deployment_id)
    click.echo(f"Removed {deployment_id}.")
    click.echo(result.message)


@models.command("fallbacks")
@click.argument("group")
@click.argument("targets", nargs=-1)
@session_options
@click.pass_obj
@friendly_errors
def models_fallbacks(
    obj: CliContext, group: str, targets: tuple[str, ...], as_user: str | None, password_stdin: bool
) -> None:
    """When every deployment of GROUP fails, try TARGETS in order (none: remove them)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = obj.services().core.set_fallbacks(session, group, list(targets))
    click.echo(f"{group} falls back to {', '.join(targets) or 'nothing'}.")
    click.echo(result.message)


@models.command("routing")
@click.option("--strategy", type=click.Choice(STRATEGIES), help="How deployments are chosen.")
@click.option("--retries", type=int, help="Retries of a failed request (router num_retries).")
@click.option("--timeout", type=float, help="Seconds before a request fails.")
@click.option("--cooldown", type=float, help="Seconds a failing deployment rests.")
@click.option(
    "--allowed-fails", type=int, help="Failures in a minute before a deployment cools down."
)
@session_options
@click.pass_obj
@friendly_errors
def models_routing(
    obj: CliContext,
    strategy: str | None,
    retries: int | None,
    timeout: float | None,
    cooldown: float | None,
    allowed_fails: int | None,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Router settings for every logical model (router_settings)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = obj.services().core.set_router(
            session,
            strategy=strategy,
            retries=retries,
            timeout=timeout,
            cooldown_s=cooldown,
            allowed_fails=allowed_fails,
        )
    click.echo(result.message)


@models.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def models_status(obj: CliContext, as_json: bool) -> None:
    """Each deployment's state (healthy, cooling down until, failing with its last error)
    and which deployment answered each recent request."""
    view = _remote(obj).routing()
    if as_json:
        data: dict[str, Any] = {
            "proxy_running": view.proxy_running,
            "deployments": [s.__dict__ for s in view.states],
            "recent": [r.__dict__ for r in view.recent],
        }
        click.echo(json.dumps(data, indent=2))
        return
    if not view.proxy_running:
        click.echo("The proxy is not running: no live state (start it or run `serve`).")
    for state in view.states:
        click.echo(state.line())
    if view.recent:
        click.echo("\nrecent requests (newest first):")
        for request in view.recent:
            click.echo("  " + request.line())


# -- team -----------------------------------------------------------------------------------


@click.group("team")
def team() -> None:
    """A team deployment with LiteLLM's own proxy, Redis and Postgres."""


@team.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--force", is_flag=True, help="Replace files exported there before.")
@click.pass_obj
@friendly_errors
def team_export(obj: CliContext, directory: Path, force: bool) -> None:
    """Write config.yaml, docker-compose.yaml, .env.example and README.md into DIRECTORY."""
    result = _remote(obj).export_team(directory, overwrite=force)
    for path in result.files:
        click.echo(f"wrote {path}")
    click.echo(f"variables to fill in (.env): {', '.join(result.variables)}")
    if result.skipped_models:
        click.echo(f"left out (desktop-only): {', '.join(result.skipped_models)}")
    for note in result.notes:
        click.echo(f"note: {note}")


COMMANDS: list[Any] = [remote, models, team]
