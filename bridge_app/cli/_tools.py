"""`litellm-bridge tools ...`: set up Claude Code, Gemini CLI, Codex CLI ... for the proxy."""

from __future__ import annotations

import dataclasses
import getpass
import json
from typing import Any

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.runtime import stdin_is_terminal
from bridge_app.services import SHELLS, TOOLS, ChangeResult, ToolsService

_TOOL = click.Choice([t.id for t in TOOLS])


def _tools(obj: CliContext) -> ToolsService:
    service: ToolsService = obj.services().tools
    return service


def _actor() -> str:
    try:
        return f"os:{getpass.getuser()}"
    except (OSError, KeyError):
        return "os:unknown"


@click.group()
def tools() -> None:
    """Set up CLI tools and SDKs to use the proxy: list, show, apply, revert, verify, key."""


@tools.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def list_(obj: CliContext, as_json: bool) -> None:
    """Every tool: installed?, version, pointed at the proxy?, the model it will use."""
    cards = _tools(obj).cards()
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(c) for c in cards], indent=2))
        return
    for card in cards:
        installed = (
            f"installed {card.version or ''}".strip()
            if card.installed
            else ("SDK" if not card.can_apply else "not installed")
        )
        pointed = "pointed at the proxy" if card.pointed_at_proxy else "not set up"
        if not card.can_apply:
            pointed = "settings to copy"
        key = ", own key" if card.has_own_key else ""
        click.echo(f"{card.id:<14} {installed:<22} {pointed:<22} model {card.model}{key}")


@tools.command()
@click.argument("tool", type=_TOOL)
@click.option(
    "--shell",
    type=click.Choice([*SHELLS, "all"]),
    help="Only this shell's form (default: this platform's shells: PowerShell and cmd on "
    "Windows, bash elsewhere).",
)
@click.option("--model", help="A model from the proxy's config (default: the tool's choice).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def show(obj: CliContext, tool: str, shell: str | None, model: str | None, as_json: bool) -> None:
    """The environment variables and config files for TOOL — exactly what `tools apply`
    writes — with the tool's own proxy key (created on first use; never the master key)."""
    service = _tools(obj)
    settings = service.show(tool, model=model)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(settings), indent=2))
        return
    click.echo(f"# {tool}: proxy {settings.proxy_url}, model {settings.model}")
    click.echo(f"# models: {', '.join(settings.models)}")
    if not settings.env:
        click.echo("# no environment variables: everything is in the config file below")
    names = SHELLS if shell == "all" else (shell,) if shell else service.shells()
    for name in names if settings.env else ():
        click.echo(f"\n## {name}\n{settings.shells[name]}", nl=False)
    for path, text in settings.files.items():
        click.echo(f"\n## {path}\n{text}", nl=False)


def _print_changes(result: ChangeResult, *, diffs: bool) -> None:
    for change in result.changes:
        if change.action == "none":
            continue
        note = f"  ({change.conflict})" if change.conflict else ""
        click.echo(f"{change.action:<9} {change.path}{note}")
        if diffs and change.diff:
            click.echo(change.diff, nl=False)


def _confirm_conflicts(result: ChangeResult, verb: str) -> bool:
    """Conflicts: show them; go on only with a yes from a person at a terminal."""
    click.secho(
        f"These files were changed since LiteLLM Bridge wrote them; nothing was {verb}:",
        fg="yellow",
        err=True,
    )
    for change in result.conflicts:
        click.echo(change.diff or f"{change.path}: {change.conflict}\n", nl=False)
    if not stdin_is_terminal():
        return False
    return click.confirm(f"{verb.capitalize()} anyway?", default=False)


@tools.command()
@click.argument("tool", type=_TOOL)
@click.option("--model", help="A model from the proxy's config.")
@click.option("--force", is_flag=True, help="Overwrite a file changed since the app wrote it.")
@click.option(
    "--own-key",
    is_flag=True,
    hidden=True,
    help="Kept for scripts: every tool always gets its own key now.",
)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, resolve_path=True),
    help="The folder you run the tool in (Gemini CLI trusts it and everything below; "
    "default: your home folder).",
)
@click.option("--diff", "show_diff", is_flag=True, help="Show what changes in each file.")
@click.pass_obj
@friendly_errors
def apply(
    obj: CliContext,
    tool: str,
    model: str | None,
    force: bool,
    own_key: bool,
    folder: str | None,
    show_diff: bool,
) -> None:
    """Write the proxy settings into TOOL's own config (backed up first; keeps the rest),
    with the tool's own proxy key (created when it has none; never the master key)."""
    core = obj.services().core
    result = core.apply_tool(tool, model=model, folder=folder, force=force, actor=_actor())
    if not result.done:
        if not _confirm_conflicts(result, "applied"):
            fail("Not applied.", hint="Look at the differences, then run again with --force.")
        result = core.apply_tool(tool, model=model, folder=folder, force=True, actor=_actor())
    _print_changes(result, diffs=show_diff)
    click.echo(f"{tool} now uses the proxy. Check it with: litellm-bridge tools verify {tool}")


@tools.command()
@click.argument("tool", type=_TOOL)
@click.option("--force", is_flag=True, help="Revert even if you changed the file since.")
@click.pass_obj
@friendly_errors
def revert(obj: CliContext, tool: str, force: bool) -> None:
    """Put TOOL's config files back exactly as they were before the first apply."""
    core = obj.services().core
    result = core.revert_tool(tool, force=force, actor=_actor())
    if not result.done:
        if not _confirm_conflicts(result, "reverted"):
            fail("Not reverted.", hint="Run again with --force; your version is kept aside.")
        result = core.revert_tool(tool, force=True, actor=_actor())
    if all(c.action == "none" for c in result.changes):
        click.echo(f"Nothing to revert: the app has not changed {tool}'s config.")
        return
    _print_changes(result, diffs=False)
    for copy in result.saved_copies:
        click.echo(f"your changed version was kept in {copy}")


@tools.command()
@click.argument("tool", type=_TOOL)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def verify(obj: CliContext, tool: str, timeout: float, as_json: bool) -> None:
    """Run the installed TOOL itself with a tiny prompt, non-interactively and with only its
    own configuration (not installed: send one tiny request the way it would). OK means
    the tool works through the proxy; exit 1 otherwise."""
    result = _tools(obj).verify(tool, timeout=timeout)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), indent=2))
    elif result.ok:
        how = "ran the tool" if result.ran_tool else result.instead
        click.secho(f"OK ({how}): {result.reason}", fg="green")
        click.echo(f"reply: {result.reply[:200]}")
    if not result.ok:
        hint = (
            "This is what the tool itself said; fix it, then verify again."
            if result.ran_tool
            else f"request: {result.wire} {result.url}"
        )
        fail(result.reason, hint=hint)


@tools.group()
def key() -> None:
    """A proxy key for one tool only (usage and audit then name the tool)."""


@key.command("create")
@click.argument("tool", type=_TOOL)
@click.pass_obj
@friendly_errors
def key_create(obj: CliContext, tool: str) -> None:
    """Create (or replace) TOOL's own key and print it once."""
    value = obj.services().core.create_tool_key(tool, actor=_actor())
    click.echo(value)
    click.echo(
        f"This is shown once. Run `litellm-bridge tools apply {tool}` to write it into the "
        "tool's config; a running proxy accepts it within seconds.",
        err=True,
    )


@key.command("revoke")
@click.argument("tool", type=_TOOL)
@click.pass_obj
@friendly_errors
def key_revoke(obj: CliContext, tool: str) -> None:
    """Revoke TOOL's own key (the tool stops working until `tools apply` gives it a new one)."""
    if not obj.services().core.revoke_tool_key(tool, actor=_actor()):
        fail(f"{tool} has no key of its own.")
    click.echo(f"{tool}'s key is revoked.")


COMMANDS: list[Any] = [tools]
