from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

import bridge_app
from bridge_app.runtime import (
    AppPaths,
    BridgeError,
    Redactor,
    configure_logging,
    stdin_is_terminal,
    use_os_trust_store,
)

if TYPE_CHECKING:
    from bridge_app.services import Services

log = logging.getLogger("bridge_app.cli")

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILURE = 1
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug, not a user error


class CliContext:
    """What every command receives: paths, the redactor and the log file; services are
    built on demand so that `doctor` still runs when the database cannot open."""

    def __init__(self, paths: AppPaths, redactor: Redactor, log_file: str | None) -> None:
        self.paths = paths
        self.redactor = redactor
        self.log_file = log_file
        self._services: Services | None = None

    def services(self) -> Services:
        if self._services is None:
            from bridge_app.services import build_services

            self._services = build_services(self.paths, redactor=self.redactor)
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()


def output_gone(exc: BaseException) -> bool:
    """Did whoever read standard output go away (`| head -1`)? POSIX says EPIPE; Windows
    says EINVAL for a pipe whose reader has closed, so there it counts only when standard
    output really cannot be written (an EINVAL from anything else is a real error)."""
    if isinstance(exc, BrokenPipeError):
        return True
    if sys.platform != "win32" or not isinstance(exc, OSError) or exc.errno != errno.EINVAL:
        return False
    try:
        sys.stdout.flush()  # a failed write stays in the buffer: this fails again
    except OSError:
        return True
    return False


def leave_quietly() -> NoReturn:
    """Stop like other tools when the reader of our output has gone: no traceback, and no
    second failure when Python flushes standard output at exit."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_FAILURE)


def fail(message: str, hint: str | None = None, code: int = EXIT_FAILURE) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a BridgeError into one clear line and an exit code; a bug into a short note
    pointing at the log file (with the traceback there, redacted)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BridgeError as exc:
            fail(exc.message, exc.hint)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except click.exceptions.Abort:
            if stdin_is_terminal():
                raise  # Ctrl+C at a prompt, or "no" to a confirmation: Click's "Aborted!"
            # A prompt (password, confirmation) found its standard input closed: no
            # terminal, e.g. in a script. Not a bug: say what to do.
            fail(
                "a question was asked but standard input gave no answer (no terminal)",
                "run it in a terminal, or pass the answer with the command's -stdin option "
                "(see its --help), e.g. `--password-stdin`",
            )
        except Exception as exc:
            if output_gone(exc):  # `| head`: the reader went away
                leave_quietly()
            log.exception("unexpected error in %s", func.__name__)
            ctx = click.get_current_context(silent=True)
            where = ""
            if ctx is not None and isinstance(ctx.obj, CliContext) and ctx.obj.log_file:
                where = f" Details are in {ctx.obj.log_file}."
            fail(f"internal error: {exc.__class__.__name__}.{where}", code=EXIT_INTERNAL)

    return wrapper


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(bridge_app.__version__, prog_name="litellm-bridge")
@click.option("-v", "--verbose", is_flag=True, help="Also print informational log lines.")
@click.option("--kiosk", is_flag=True, help="With no command: open the window in kiosk mode.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, kiosk: bool) -> None:
    """LiteLLM Bridge: route your AI tools through an embedded LiteLLM proxy.

    With no command, opens the app window.
    """
    paths = AppPaths.from_environment()
    redactor = Redactor()
    log_file: str | None
    try:
        log_file = str(
            configure_logging(
                paths.log_dir, redactor, console_level=logging.INFO if verbose else logging.WARNING
            )
        )
    except OSError as exc:
        # Logging must not stop the command; commands that need the folder will say why.
        click.secho(f"warning: cannot write logs to {paths.log_dir}: {exc}", fg="yellow", err=True)
        log_file = None
    ctx.obj = CliContext(paths, redactor, log_file)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        ctx.invoke(gui, kiosk=kiosk)


@cli.command()
@click.option("--kiosk", is_flag=True, help="Full screen; quitting needs an admin.")
@click.pass_obj
@friendly_errors
def gui(obj: CliContext, kiosk: bool) -> None:
    """Open the app window (the default when no command is given)."""
    if not has_display():
        fail(
            "No graphical display is available here.",
            "Run `litellm-bridge serve` to run the proxy without a window.",
        )
    from bridge_app.ui import run_app

    run_app(paths=obj.paths, redactor=obj.redactor, kiosk=kiosk)


def _register_commands() -> None:
    from bridge_app.cli import (
        _audit,
        _config,
        _dev,
        _diagnostics,
        _doctor,
        _env,
        _integrity,
        _models,
        _policy,
        _proxy,
        _remote,
        _settings,
        _tokens,
        _tools,
        _updates,
        _usage,
        _users,
    )

    for module in (
        _doctor,
        _proxy,
        _users,
        _audit,
        _env,
        _config,
        _settings,
        _tokens,
        _tools,
        _remote,
        _models,
        _integrity,
        _diagnostics,
        _updates,
        _policy,
        _usage,
        _dev,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_commands()


def tolerant_output() -> None:
    """Never fail on a character the console cannot show.

    Redirected output on Windows is encoded in the ANSI code page (cp1252 and friends),
    which has no room for most user data (names, paths, model replies); a strict stream
    would end the command with UnicodeEncodeError half-way. Show a "?" instead.
    """
    # The windowed Windows executable (litellm-bridge-gui.exe) has no console: no streams.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - process-long
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="replace")


def main() -> None:
    tolerant_output()
    use_os_trust_store()  # before anything imports LiteLLM (it caches its SSL contexts)
    # A packaged build hands over to the installed update that became current (switched
    # after its health check); a source checkout always runs itself (and skips the import).
    if getattr(sys, "frozen", False):
        from bridge_app.services import run_installed_update

        run_installed_update(AppPaths.from_environment())
    try:
        try:
            cli(prog_name="litellm-bridge")
        finally:  # what is still buffered must reach the reader, or the reader has gone
            sys.stdout.flush()
    except OSError as exc:  # help or output written outside a command's own handling
        if output_gone(exc):
            leave_quietly()
        raise
