"""`litellm-bridge settings ...`: the app's settings, changed through the application core
(validated, machine settings for admins only, audited), as in the Settings screen."""

from __future__ import annotations

import json

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.cli._session import PasswordInput, logged_in, session_options


@click.group("settings")
def settings_group() -> None:
    """Show and change settings (port, autostart, idle lock, ...)."""


@settings_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def list_cmd(obj: CliContext, as_json: bool) -> None:
    """Every setting with its current value."""
    from bridge_app.services import setting_keys

    values = obj.services().settings.all()
    shown = {key: values.get(key) for key in setting_keys()}
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    for key, value in shown.items():
        click.echo(f"{key:<26} {json.dumps(value)}")


# A value may start with "-" (`settings set proxy.port -1` must reach the validator, not be
# taken for an option).
@settings_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@session_options
@click.pass_obj
@friendly_errors
def set_cmd(
    obj: CliContext, key: str, value: str, as_user: str | None, password_stdin: bool
) -> None:
    """Change KEY to VALUE (machine settings need an admin). A running proxy or window
    picks the change up within seconds; a new port or address applies at its next start."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        stored = obj.services().core.change_settings(session, {key: value})
    click.echo(f"{key} = {json.dumps(stored[key])}")


@settings_group.command("start-at-login")
@click.argument("state", type=click.Choice(["on", "off"]), required=False)
@click.option("--kiosk", is_flag=True, help="With on: open the window in kiosk mode.")
@session_options
@click.pass_obj
@friendly_errors
def start_at_login(
    obj: CliContext, state: str | None, kiosk: bool, as_user: str | None, password_stdin: bool
) -> None:
    """Open the app window when you log in to this computer (on / off), or show whether it
    does. Where the company policy sets ui.start_at_login, the policy decides."""
    with logged_in(obj, as_user, PasswordInput(password_stdin)) as session:
        core = obj.services().core
        if state is None:
            shown = core.start_at_login(session)
        else:
            shown = core.set_start_at_login(session, state == "on", kiosk=kiosk)
    click.echo(shown.describe())
    if shown.on and shown.entry.command:
        click.echo(f"It runs: {shown.entry.command}")


COMMANDS = [settings_group]
