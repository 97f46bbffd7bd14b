from __future__ import annotations

from pathlib import Path

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options
from bridge_app.runtime import BridgeError, atomic_write
from bridge_app.services import (
    APP_PROVIDED,
    ConfigApplyError,
    ConfigInvalidError,
    ConfigService,
    ValidationResult,
)


def _service(obj: CliContext) -> ConfigService:
    service: ConfigService = obj.services().config
    return service


def _print_result(result: ValidationResult, source: str) -> None:
    for problem in result.problems:
        colour = "red" if problem.severity == "error" else "yellow"
        where = problem.location() or "file"
        click.echo(
            f"{source}: {where}: "
            + click.style(problem.severity, fg=colour)
            + ": "
            + problem.message
        )
        if problem.hint:
            click.echo(f"    hint: {problem.hint}")
        if problem.fix is not None and problem.fix.kind == "move_to_env":
            click.echo(
                f"    fix: the editor can move it into the encrypted environment store as "
                f"{problem.fix.env_name}"
            )
    click.echo(result.summary())


def _invalid(exc: ConfigInvalidError, source: str) -> None:
    _print_result(exc.result, source)
    fail(exc.message.split(" First:")[0], "Nothing was changed; fix the errors listed above.")


@click.group("config")
def config_group() -> None:
    """LiteLLM proxy config: validate, apply, history, templates."""


@config_group.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
@friendly_errors
def validate_cmd(obj: CliContext, path: Path | None) -> None:
    """Check a config file (default: the active config); list every problem by line."""
    service = _service(obj)
    target = path or service.active_path
    if path is None and not target.exists():
        fail(
            "There is no active config yet.",
            "Create one: litellm-bridge config new --template NAME",
        )
    result = service.validate_file(target)
    _print_result(result, str(target))
    if not result.ok:
        raise SystemExit(1)


@config_group.command("apply")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--comment", default="", help="Why this change (kept in the history).")
@session_options
@click.pass_obj
@friendly_errors
def apply_cmd(
    obj: CliContext, path: Path, comment: str, as_user: str | None, password_stdin: bool
) -> None:
    """Validate PATH and make it the active config (admins). A running proxy restarts
    with it, in this process or in the one that runs it, and goes back to the previous
    config when it does not become ready."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        try:
            services = obj.services()
            result = services.core.apply_config(
                session,
                services.config.read_file(path),
                comment=comment or f"imported from {path.name}",
                name=path.name,
            )
        except ConfigInvalidError as exc:
            _invalid(exc, str(path))
            return
        except ConfigApplyError as exc:
            fail(exc.message, exc.hint)
    for warning in result.validation.warnings:
        click.echo(f"{path}: {warning}")
    click.echo(result.message)


@config_group.command("show")
@click.pass_obj
@friendly_errors
def show_cmd(obj: CliContext) -> None:
    """Print the active config."""
    text = _service(obj).read_active()
    if text is None:
        fail(
            "There is no active config yet.",
            "Create one: litellm-bridge config new --template NAME",
        )
    click.echo(text, nl=not text.endswith("\n"))


@config_group.command("history")
@click.option("--limit", default=50, show_default=True, help="How many versions to list.")
@click.pass_obj
@friendly_errors
def history_cmd(obj: CliContext, limit: int) -> None:
    """List applied config versions, newest first."""
    versions = _service(obj).list_versions(limit)
    if not versions:
        click.echo("No config versions yet.")
        return
    for v in versions:
        state = "applied" if v.applied else "rolled back"
        note = f"  {v.comment}" if v.comment else ""
        click.echo(f"{v.id:>4}  {v.created_at}  {v.author:<16} {state:<11} {v.name}{note}")


@config_group.command("diff")
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.pass_obj
@friendly_errors
def diff_cmd(obj: CliContext, old: int, new: int) -> None:
    """Show what changed from version OLD to version NEW."""
    text = _service(obj).diff(old, new)
    click.echo(text if text else "The two versions are identical.", nl=not text)


@config_group.command("restore")
@click.argument("version", type=int)
@session_options
@click.pass_obj
@friendly_errors
def restore_cmd(obj: CliContext, version: int, as_user: str | None, password_stdin: bool) -> None:
    """Apply an earlier VERSION again (admins; recorded as a new version)."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        try:
            result = obj.services().core.restore_config(session, version)
        except ConfigInvalidError as exc:
            _invalid(exc, f"version {version}")
            return
        except ConfigApplyError as exc:
            fail(exc.message, exc.hint)
    click.echo(result.message)


@config_group.command("templates")
@click.pass_obj
@friendly_errors
def templates_cmd(obj: CliContext) -> None:
    """List the templates a new config can start from."""
    for template in _service(obj).list_templates():
        origin = "" if template.source == "builtin" else "  (your template)"
        click.echo(f"{template.name:<22} {template.title}{origin}")
        if template.description:
            click.echo(f"{'':<22} {template.description}")
        needs = [n for n in template.env_names if n not in APP_PROVIDED]
        if needs:
            click.echo(f"{'':<22} needs: {', '.join(needs)}")


@config_group.command("new")
@click.option(
    "--template", "template", required=True, help="Template name (see `config templates`)."
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of printing.",
)
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@click.pass_obj
@friendly_errors
def new_cmd(obj: CliContext, template: str, output: Path | None, force: bool) -> None:
    """Start a config from a template (edit it, then `config apply` it)."""
    text = _service(obj).new_from_template(template)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    if output.exists() and not force:
        raise BridgeError(
            f"{output} already exists.", hint="Choose another --output or add --force."
        )
    atomic_write(output, text.encode("utf-8"), mode=0o644, make_parents=True)
    click.echo(f"Wrote {output} from the {template!r} template.")


@config_group.command("export")
@click.argument("output", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--version", "version", type=int, help="A history version instead of the active config."
)
@click.pass_obj
@friendly_errors
def export_cmd(obj: CliContext, output: Path, version: int | None) -> None:
    """Write the active config (or a version) to OUTPUT; it holds no secret values."""
    _service(obj).export(output, version_id=version)
    click.echo(f"Wrote {output}.")


@config_group.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--comment", default="")
@session_options
@click.pass_obj
@friendly_errors
def import_cmd(
    obj: CliContext, path: Path, comment: str, as_user: str | None, password_stdin: bool
) -> None:
    """Validate a config file and apply it (same as `config apply`)."""
    click.get_current_context().invoke(
        apply_cmd, path=path, comment=comment, as_user=as_user, password_stdin=password_stdin
    )


COMMANDS = [config_group]
