"""How a command learns who runs it: --as USER / BRIDGE_USER, and a password from a hidden
prompt or, for scripts, from standard input (--password-stdin). Never from argv."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from bridge_app.cli._app import CliContext
from bridge_app.runtime import BridgeError, stdin_is_terminal
from bridge_app.services import Session

USER_ENV = "BRIDGE_USER"
F = TypeVar("F", bound=Callable[..., Any])


class PasswordInput:
    """Passwords from a hidden prompt, or one per line from stdin in the order the command
    needs them (first the password of whoever runs it, then any new password)."""

    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def current(self, prompt: str) -> str:
        if self.from_stdin:
            return self._line()
        _need_terminal()
        return str(click.prompt(prompt, hide_input=True, err=True))

    def new(self, prompt: str) -> str:
        if self.from_stdin:
            return self._line()
        _need_terminal()
        return str(
            click.prompt(
                prompt,
                hide_input=True,
                confirmation_prompt="Repeat the new password",
                err=True,
            )
        )

    def _line(self) -> str:
        line = sys.stdin.readline()
        if not line:
            raise BridgeError(
                "Expected a password on standard input (one per line), but it ended.",
                hint="With --password-stdin, pass your own password first, then any new one.",
            )
        return line.rstrip("\r\n")


def _need_terminal() -> None:
    """A hidden prompt needs a person at a terminal: without one it would wait forever (on
    Windows it reads the console, whatever standard input is) or read a script's input."""
    if not stdin_is_terminal():
        raise BridgeError(
            "a password was asked but there is no terminal to type it in",
            hint="run it in a terminal, or pass the passwords on standard input with "
            "--password-stdin (see the command's --help)",
        )


def session_options(func: F) -> F:
    """--as USER and --password-stdin, for every command that needs someone logged in."""
    func = click.option(
        "--password-stdin",
        is_flag=True,
        help="Read passwords from standard input, one per line (for scripts): your own "
        "first, then any new password.",
    )(func)
    func = click.option(
        "--as",
        "as_user",
        metavar="USER",
        envvar=USER_ENV,
        help=f"Who runs this command (default: ${USER_ENV}, else asked).",
    )(func)
    return func


def resolve_username(as_user: str | None, passwords: PasswordInput) -> str:
    if as_user and as_user.strip():
        return as_user.strip()
    if passwords.from_stdin or not stdin_is_terminal():
        raise BridgeError(
            "Say who runs this command.", hint=f"Add --as USER or set {USER_ENV}=USER."
        )
    return str(click.prompt("Username", err=True)).strip()


@contextmanager
def logged_in(obj: CliContext, as_user: str | None, passwords: PasswordInput) -> Iterator[Session]:
    """Log in for one command, and out again afterwards whatever happens."""
    auth = obj.services().auth
    auth.require_admin_exists()
    username = resolve_username(as_user, passwords)
    core = obj.services().core
    session = core.login(username, passwords.current(f"Password for {username}"))
    try:
        yield session
    finally:
        core.logout(session)
