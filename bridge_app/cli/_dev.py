"""`litellm-bridge dev ...`: local stand-ins for demos and tests (loopback only)."""

from __future__ import annotations

import json
import time

import click

from bridge_app.cli._app import CliContext, friendly_errors
from bridge_app.services import FakeIam, FakeInternalUpstream


@click.group(hidden=True)
def dev() -> None:
    """Developer and demo helpers."""


@dev.command("fake-internal")
@click.option("--iam-port", type=int, default=0, help="Port for the fake IAM (default: any).")
@click.option("--upstream-port", type=int, default=0, help="Port for the fake endpoint.")
@click.option("--employee", default="E12345", show_default=True, help="Employee ID it accepts.")
@click.option(
    "--lifetime", type=float, default=3600.0, show_default=True, help="Token lifetime in seconds."
)
@click.pass_obj
@friendly_errors
def fake_internal(
    obj: CliContext, iam_port: int, upstream_port: int, employee: str, lifetime: float
) -> None:
    """Run a fake company IAM and a fake internal chat endpoint on 127.0.0.1 until Ctrl+C.

    The endpoint refuses requests without a current token (issued by this IAM) and a
    project_id, like the real one would. Prints the settings to use."""
    password = "demo-password-123"  # noqa: S105 - a throwaway credential of a local fake
    iam = FakeIam({employee: password}, lifetime_s=lifetime, port=iam_port).start()
    upstream = FakeInternalUpstream(token_valid=iam.valid, port=upstream_port).start()
    click.echo(f"Fake IAM:               {iam.token_url}")
    click.echo(f"Fake internal endpoint: {upstream.url}/v1")
    click.echo(f"Employee ID / password: {employee} / {password}")
    click.echo("IAM settings for `litellm-bridge token iam --set FILE`:")
    click.echo(json.dumps({"url": iam.token_url, "token_path": "data.access_token"}))
    click.echo(f"Environment entry: INTERNAL_LLM_API_BASE={upstream.url}/v1")
    click.echo("Press Ctrl+C to stop.")
    try:
        seen = 0
        while True:
            time.sleep(0.5)
            for request in upstream.seen[seen:]:
                verdict = "accepted" if request.accepted else "REFUSED"
                click.echo(f"upstream {verdict}: project={request.body.get('project_id')!r}")
            seen = len(upstream.seen)
    except KeyboardInterrupt:
        pass
    finally:
        upstream.stop()
        iam.stop()


COMMANDS = [dev]
