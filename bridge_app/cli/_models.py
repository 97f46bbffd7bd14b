"""`litellm-bridge models ...` and `team export`: logical models (deployments, priority,
fallbacks, routing) and what a team needs to run them on a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.cli._remote import _remote
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import STRATEGIES

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


COMMANDS: list[Any] = [models, team]
