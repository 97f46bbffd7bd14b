from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from bridge_app.cli._app import CliContext, fail, friendly_errors
from bridge_app.runtime import BridgeError, InstanceLock, StopRequest
from bridge_app.services import is_loopback_host

log = logging.getLogger(__name__)

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LINE_LEVEL = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


def _print_exposure(host: str, port: int) -> None:
    """Beyond loopback (an admin allowed it): say exactly where the proxy can be reached."""
    from bridge_app.services import exposed_addresses, url_for

    addresses = exposed_addresses(host)
    click.secho(
        f"warning: listening on {host or 'all interfaces'} port {port}, as allowed by an "
        "admin (setting proxy.allow_non_loopback): other machines can reach the proxy at",
        fg="yellow",
        err=True,
    )
    for address in addresses:
        local = " (this machine only)" if ipaddress.ip_address(address).is_loopback else ""
        click.secho(f"  {url_for(address, port)}{local}", fg="yellow", err=True)


@click.command()
@click.option(
    "--host",
    help="Address to listen on (default: setting proxy.host, 127.0.0.1). Anything but a "
    "loopback address needs an admin to turn on the setting proxy.allow_non_loopback.",
)
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: setting proxy.port).")
@click.option(
    "--as",
    "as_user",
    metavar="USER",
    help="Serve for this account: its personal environment entries, internal token and "
    "project (asks for the password). Without it, only shared entries apply.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--sign-in",
    type=click.Choice(["browser", "device"]),
    help="With --as, where the company signs people in at its identity provider (IAM shape "
    "oidc): when there is no usable token, sign in first, in the browser or with a code.",
)
@click.pass_obj
@friendly_errors
def serve(
    obj: CliContext,
    host: str | None,
    port: int | None,
    as_user: str | None,
    password_stdin: bool,
    sign_in: str | None,
) -> None:
    """Run the proxy without a window until Ctrl+C (or Ctrl+Break on Windows)."""
    from bridge_app.cli._session import PasswordInput
    from bridge_app.services import (
        finish_pending_rollback,
        switch_pending_update,
        update_pending,
    )

    if sign_in and not as_user:
        fail("--sign-in signs in an account: give it with --as USER.")
    lock = InstanceLock(obj.paths.lock_file)
    obj.paths.ensure()
    lock.acquire()
    restored = finish_pending_rollback(obj.paths, lock_held=True)  # before the store opens
    if restored:
        click.echo(f"Update: {restored}")
    if update_pending(obj.paths):
        # An installed update switches now, after its health check (which runs that
        # version's own serve on this data folder: it needs the lock for a moment, and the
        # database must not be open here).
        lock.release()
        click.echo("Checking the installed update before switching to it ...")
        click.echo(f"Update: {switch_pending_update(obj.paths)}")
        lock.acquire()
    stop = StopRequest()
    session = None
    try:
        services = obj.services()
        core = services.core
        services.updates.flush_audit()
        bind_host = host or str(services.settings.get("proxy.host"))
        services.proxy.check_host(bind_host)  # before any password is asked
        if as_user:
            services.auth.require_admin_exists()
            password = PasswordInput(password_stdin).current(f"Password for {as_user}")
            session = core.login(as_user, password)
            core.use_session(session)
            status = services.tokens.status(session)
            if sign_in and (
                status.refresh_blocked or status.state in ("none", "expired", "failed")
            ):
                from bridge_app.cli._tokens import open_browser, show_code

                status = core.token_login_browser(
                    session, open_browser, show_code=show_code if sign_in == "device" else None
                )
            click.echo(f"Serving for {session.username}: internal token {status.describe()}")
            services.tokens.add_notifier(
                lambda title, message: click.secho(
                    f"warning: {title}: {message}", fg="yellow", err=True
                )
            )
        proxy = services.proxy
        # Ctrl+C, SIGTERM, and on Windows Ctrl+Break (how the release smoke test and
        # service wrappers stop a console program) and closing the console window.
        handled = stop.install()
        log.info("serve stops on: %s", ", ".join(handled))
        # Changes made by other processes (token, project, env, config, tool keys, users)
        # reach this proxy while it runs.
        core.on_alert(
            lambda title, message: click.secho(f"alert: {title}: {message}", fg="yellow", err=True)
        )
        services.live.start()
        try:
            supervisor = proxy.supervisor(host=host, port=port)
            click.echo(f"Starting the proxy on {supervisor.url} ...")
            exposed = not is_loopback_host(supervisor.host)
            if exposed and supervisor.port:  # said before it listens; port 0: once known
                _print_exposure(supervisor.host, supervisor.port)
            core.start_proxy(host=host, port=port)
            click.echo(f"Proxy ready at {supervisor.url}  (config: {proxy.active_config()})")
            if exposed and port == 0:
                _print_exposure(supervisor.host, supervisor.port)
            click.echo("API key: run `litellm-bridge proxy-key` to print it.")
            click.echo("Press Ctrl+C to stop.")
            while not stop.wait(0.5):
                pass
            click.echo(f"Stopping ({stop.reason}) ...")
        finally:
            services.live.stop()
            core.stop_proxy()
            proxy.close()
        click.echo("Stopped.")
    finally:
        try:
            if session is not None:
                obj.services().core.logout(session)
            obj.close()  # a rollback by hand waits for the database to be closed
            restored = finish_pending_rollback(obj.paths, lock_held=True)
            if restored:
                click.echo(f"Update: {restored}")
            lock.release()
        finally:
            stop.finished()


def _print_status(status: dict[str, Any]) -> None:
    state = status["state"]
    colour = {"running": "green", "degraded": "yellow", "failed": "red"}.get(state)
    error = status.get("last_error")
    # Degraded and failed carry their reason in the headline: "degraded: not answering".
    said = f"{state}: {error}" if error and state in ("degraded", "failed") else state
    pid = f"  (pid {status['pid']})" if status.get("pid") else ""
    click.echo("Proxy: " + click.style(said, fg=colour, bold=True) + f"  {status['url']}{pid}")
    if status.get("uptime_s") is not None:
        click.echo(f"  uptime     {status['uptime_s']:.0f} s, restarts {status['restarts']}")
    if status.get("config_path"):
        click.echo(f"  config     {status['config_path']}")
    if error and said == state:
        click.echo(f"  last error {error}")
    for record in (status.get("recent_restarts") or [])[-5:]:
        when = time.strftime("%H:%M:%S", time.localtime(record["at"]))
        click.echo(f"  restart    {when} {record['reason']}: {record['outcome']}")
    m = status.get("metrics") or {}
    if m.get("requests") or state in ("running", "degraded"):
        p50, p95 = m.get("latency_ms_p50"), m.get("latency_ms_p95")
        refused = int(m.get("refused") or 0)
        click.echo(
            f"  requests   {m.get('requests', 0)} ({m.get('errors', 0)} errors, "
            f"{100 * m.get('error_rate', 0):.1f}%"
            + (f"; {refused} refused by the bridge" if refused else "")
            + f"), open connections {m.get('open_connections', 0)}"
        )
        if p50 is not None:
            click.echo(f"  latency    p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        click.echo(f"  tokens     in {m.get('tokens_in', 0)}, out {m.get('tokens_out', 0)}")
        for model, mm in (m.get("per_model") or {}).items():
            refused_here = int(mm.get("refused") or 0)
            click.echo(
                f"    {model}: {mm['requests']} requests, {mm['errors']} errors, "
                + (f"{refused_here} refused, " if refused_here else "")
                + f"tokens {mm['tokens_in']}/{mm['tokens_out']}"
            )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@friendly_errors
def status(obj: CliContext, as_json: bool) -> None:
    """Show whether the proxy runs, where, and its live metrics."""
    from bridge_app.services import STATUS_FILE, read_status

    report = read_status(obj.paths.data_dir / STATUS_FILE).to_dict()
    deployments: list[Any] = []
    try:
        # The person the running proxy serves (`serve --as`), not this terminal's account.
        served = report.get("served_user") if report.get("state") != "stopped" else None
        report["quota_warnings"] = obj.services().policy.quota_warnings(user=served)
        view = obj.services().remote.routing()
        deployments = list(view.states) if view.proxy_running else []
    except BridgeError as exc:  # no database yet: the proxy part still answers
        report.setdefault("quota_warnings", [])
        log.debug("no quota or deployment status: %s", exc)
    report["deployment_states"] = [asdict(d) for d in deployments]
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print_status(report)
        # Each deployment as on the dashboard: healthy, cooling down until, failing.
        for deployment in deployments:
            colour = {"cooling down": "yellow", "failing": "red"}.get(deployment.state)
            click.secho(f"  deployment {deployment.sentence()}", fg=colour)
        for warning in report["quota_warnings"]:
            click.secho(f"  {warning}", fg="yellow")


def _line_level(line: str) -> int:
    match = _LINE_LEVEL.match(line)
    if match is None:
        return logging.INFO
    return logging.getLevelNamesMapping().get(match.group(1), logging.INFO)


def _follow(path: Path, stop: threading.Event) -> Iterator[str]:
    """New lines appended to ``path``; survives rotation (the file is replaced)."""
    handle = None
    inode = None
    while not stop.is_set():
        if handle is None:
            try:
                handle = path.open("r", encoding="utf-8", errors="replace")
                inode = path.stat().st_ino
                handle.seek(0, 2)
            except OSError:
                time.sleep(0.5)
                continue
        line = handle.readline()
        if line:
            yield line.rstrip("\n")
            continue
        try:
            if path.stat().st_size < handle.tell():  # truncated in place (Windows rotation)
                handle.seek(0)
                continue
            if path.stat().st_ino != inode:
                handle.close()
                handle = path.open("r", encoding="utf-8", errors="replace")
                inode = path.stat().st_ino
                continue
        except OSError:
            pass
        time.sleep(0.3)
    if handle is not None:
        handle.close()


@click.command()
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.option(
    "--level",
    type=click.Choice(_LEVELS, case_sensitive=False),
    default="DEBUG",
    help="Only lines at this level or above.",
)
@click.option("--grep", "pattern", help="Only lines containing this text (case-insensitive).")
@click.option("-n", "--lines", "count", type=int, default=200, show_default=True)
@click.pass_obj
@friendly_errors
def logs(obj: CliContext, follow: bool, level: str, pattern: str | None, count: int) -> None:
    """Show the proxy's log lines (from logs/proxy.log; secrets are already masked)."""
    from bridge_app.services import PROXY_LOG_NAME

    path = obj.paths.log_dir / PROXY_LOG_NAME
    min_level = logging.getLevelNamesMapping()[level.upper()]
    needle = pattern.lower() if pattern else None

    def wanted(line: str) -> bool:
        return _line_level(line) >= min_level and (needle is None or needle in line.lower())

    if not path.exists() and not follow:
        fail(f"No proxy log yet ({path}).", "Start the proxy with `litellm-bridge serve`.")
    if path.exists():
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for line in [ln for ln in text if wanted(ln)][-count:] if count > 0 else []:
            click.echo(line)
    if follow:
        stop = threading.Event()
        try:
            for line in _follow(path, stop):
                if wanted(line):
                    click.echo(line)
        except KeyboardInterrupt:
            stop.set()


@click.command("proxy-key")
@click.pass_obj
@friendly_errors
def proxy_key(obj: CliContext) -> None:
    """Print the proxy's API key (tools send it as their API key)."""
    click.echo(obj.services().proxy.master_key())


COMMANDS = [serve, status, logs, proxy_key]
