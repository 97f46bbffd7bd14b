"""`litellm-bridge env ...`: the environment manager from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.services import EnvService, ImportPreview, Scope

_shared = click.option(
    "--shared", is_flag=True, help="The shared entry (admins only) instead of your personal one."
)


def _scope(shared: bool) -> Scope:
    return "shared" if shared else "personal"


def _env(obj: CliContext) -> EnvService:
    service: EnvService = obj.services().env
    return service


@click.group()
def env() -> None:
    """Environment entries (API keys, endpoints, corporate proxy) the proxy sees."""


@env.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (values masked).")
@session_options
@click.pass_obj
@friendly_errors
def list_(obj: CliContext, as_json: bool, as_user: str | None, password_stdin: bool) -> None:
    """Your entries and the shared ones, values masked; says which one the proxy uses."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        entries = _env(obj).entries(session)
    if as_json:
        click.echo(json.dumps([e.__dict__ for e in entries], indent=2))
        return
    if not entries:
        click.echo("No entries yet. Add one with `litellm-bridge env set NAME`.")
        return
    width = max(len(e.name) for e in entries)
    for e in entries:
        used = "*" if e.wins else " "
        state = "enabled " if e.enabled else "disabled"
        note = f"  ({e.note})" if e.note and e.note != "disabled" else ""
        click.echo(
            f"{used} {e.name:<{width}}  {e.scope:<8}  {state}  {e.masked:<10}  {e.updated_at}{note}"
        )
    click.echo("* = the value the proxy uses")


@env.command("set")
@click.argument("name")
@_shared
@click.option("--disabled", is_flag=True, help="Store it disabled.")
@click.option(
    "--value-stdin",
    is_flag=True,
    help="Read the value from standard input (after any password lines) instead of a prompt.",
)
@session_options
@click.pass_obj
@friendly_errors
def set_(
    obj: CliContext,
    name: str,
    shared: bool,
    disabled: bool,
    value_stdin: bool,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Create or change an entry. The value is asked for (hidden), never taken from argv."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        if value_stdin or password_stdin:
            value = sys.stdin.read()
            value = value[:-1] if value.endswith("\n") else value
            value = value[:-1] if value.endswith("\r") else value
        else:
            value = str(click.prompt(f"Value for {name}", hide_input=True, err=True))
        created = obj.services().core.set_env(
            session,
            name,
            value,
            scope=_scope(shared),
            enabled=False if disabled else None,
        )
    click.echo(f"{'Added' if created else 'Changed'} {_scope(shared)} entry {name}.")
    click.echo("A running proxy restarts with it within seconds.")


def _simple(verb: str, help_text: str) -> click.Command:
    @click.command(verb, help=help_text)
    @click.argument("name")
    @_shared
    @session_options
    @click.pass_obj
    @friendly_errors
    def command(
        obj: CliContext, name: str, shared: bool, as_user: str | None, password_stdin: bool
    ) -> None:
        scope = _scope(shared)
        with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
            if verb == "unset":
                obj.services().core.unset_env(session, name, scope=scope)
            else:
                obj.services().core.set_env_enabled(session, name, verb == "enable", scope=scope)
        click.echo(
            f"{verb.capitalize()}d {scope} entry {name}."
            if verb != "unset"
            else f"Removed {scope} entry {name}."
        )

    return command


env.add_command(_simple("unset", "Delete an entry."))
env.add_command(_simple("enable", "Enable an entry (the proxy sees it at its next start)."))
env.add_command(_simple("disable", "Disable an entry without deleting it."))


def _print_preview(preview: ImportPreview) -> None:
    for line in preview.lines:
        name = line.name or "-"
        reason = f"  {line.reason}" if line.reason else ""
        click.echo(f"  line {line.line:>4}  {line.status:<9}  {name}{reason}")
    click.echo(
        f"{preview.count('new')} new, {preview.count('changed')} changed, "
        f"{preview.count('unchanged')} unchanged, {preview.count('invalid')} invalid."
    )


@env.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_shared
@click.option("--yes", is_flag=True, help="Apply without asking (after the preview).")
@session_options
@click.pass_obj
@friendly_errors
def import_(
    obj: CliContext,
    file: Path,
    shared: bool,
    yes: bool,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Import a .env file: preview every line first, then apply new and changed ones."""
    scope = _scope(shared)
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        service = _env(obj)
        preview = service.preview_import_file(session, file, scope=scope)
        _print_preview(preview)
        if not preview.applicable:
            click.echo("Nothing to apply.")
            return
        if not yes and not click.confirm(
            f"Apply {len(preview.applicable)} {scope} entr(ies)?", err=True
        ):
            click.echo("Nothing applied.")
            return
        result = obj.services().core.import_env(session, preview, scope=scope)
    click.echo(f"Imported: {result.added} added, {result.changed} changed.")


@env.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--template", is_flag=True, help="Names only, no values.")
@click.option("--yes", is_flag=True, help="Do not ask before writing plaintext secrets.")
@session_options
@click.pass_obj
@friendly_errors
def export(
    obj: CliContext,
    file: Path,
    template: bool,
    yes: bool,
    as_user: str | None,
    password_stdin: bool,
) -> None:
    """Export the entries you see to a .env file (0600), or a names-only template."""
    if not template and not yes:
        click.echo(
            "Warning: the file will hold your secrets in plaintext. Keep it private and "
            "delete it when done.",
            err=True,
        )
        if not click.confirm("Write it?", err=True):
            fail("Nothing written.")
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        count = _env(obj).export(session, file, values=not template)
    click.echo(f"Wrote {count} name(s) to {file}" + (" (template)." if template else "."))


@env.command("check")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The LiteLLM config to check (default: the active one).",
)
@session_options
@click.pass_obj
@friendly_errors
def check(
    obj: CliContext, config_file: Path | None, as_user: str | None, password_stdin: bool
) -> None:
    """Which os.environ/NAME references of the config are missing or disabled, and which
    entries no config uses. Exits 1 when the proxy would miss something."""
    path = config_file or obj.paths.active_config_file
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"Cannot read the config {path}: {exc}.")
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        result = _env(obj).check(session, text)
    click.echo(f"Config: {path}")
    click.echo(f"Referenced: {', '.join(result.referenced) or 'none'}")
    for label, names in (
        ("Missing", result.missing),
        ("Disabled", result.disabled),
        ("Unused", result.unused),
    ):
        if names:
            click.echo(f"{label}: {', '.join(names)}")
    if not result.ok:
        fail(
            "The proxy would start without some referenced variables.",
            "Add them with `litellm-bridge env set NAME` or enable them.",
        )
    click.echo("Every referenced variable is defined and enabled.")


COMMANDS = [env]
