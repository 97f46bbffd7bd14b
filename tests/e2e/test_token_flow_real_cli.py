"""Issue 7 end to end: Claude Code, Gemini CLI and Codex CLI (real, from npm) run through
the app's proxy to a fake *internal* endpoint that only accepts requests carrying the
current internal token and project; every request the endpoint saw, streaming included,
must carry them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge_app.auth import Session
from bridge_app.devtools import FakeIam, FakeInternalUpstream
from bridge_app.runtime import AppPaths, Redactor, resource_path
from bridge_app.services import Services, build_services
from bridge_app.tokens import IamSettings, Project
from tests.e2e.test_tools_real_cli import (
    BIN,
    COMMANDS,
    free_port,
    run_tool,
    tools_at,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MODEL = "internal-chat"
REPLY = "Hello from the internal endpoint."
ADMIN_PW = "Admin-Password-42!"


@dataclass
class Internal:
    services: Services
    session: Session
    iam: FakeIam
    upstream: FakeInternalUpstream


@pytest.fixture(scope="module")
def internal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Internal]:
    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    home = tmp_path_factory.mktemp("bridge-home")
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(home)})
    services = build_services(paths, redactor=Redactor())
    services.auth.create_first_admin("root", ADMIN_PW)
    session = services.auth.login("root", ADMIN_PW)
    iam = FakeIam({"E42": "employee-pw-42"}).start()
    upstream = FakeInternalUpstream(token_valid=iam.valid, reply=REPLY).start()
    services.env.set(session, "INTERNAL_LLM_API_BASE", f"{upstream.url}/v1", scope="shared")
    active = paths.proxy_config_dir / "config.yaml"
    active.parent.mkdir(parents=True, exist_ok=True)
    active.write_bytes(resource_path("configs", "internal-enterprise.yaml").read_bytes())
    services.tokens.set_iam_settings(
        session, IamSettings(url=iam.token_url, token_path="data.access_token")
    )
    services.tokens.save_project(session, Project("P-7", "Apollo"))
    services.tokens.activate(session)
    services.tokens.login(session, "E42", "employee-pw-42")
    services.proxy.supervisor(port=free_port()).start()
    try:
        yield Internal(services, session, iam, upstream)
    finally:
        services.close()
        upstream.stop()
        iam.stop()


@pytest.mark.parametrize("tool", list(COMMANDS))
def test_real_cli_requests_reach_the_internal_endpoint_with_token_and_project(
    internal: Internal, tmp_path: Path, tool: str
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    svc = internal.services
    tools = tools_at(svc, home, tool)
    assert MODEL in tools.models()
    assert tools.apply(tool, model=MODEL, folder=str(work)).done

    # A fresh token just before the run: the requests must carry this one, not an older.
    svc.tokens.login(internal.session, "E42", "employee-pw-42")
    token = svc.tokens.current().token
    first = len(internal.upstream.seen)
    done = run_tool(tool, home, work, svc.redactor)
    output = svc.redactor.redact(done.stdout + done.stderr)
    assert REPLY in done.stdout, output[-3000:]

    seen = internal.upstream.seen[first:]
    assert seen, "the internal endpoint saw no request"
    for request in seen:
        assert request.accepted, request.body.get("model")
        assert request.body.get("internal_token") == token
        assert request.body.get("project_id") == "P-7"
    assert any(request.body.get("stream") for request in seen), "no streaming request was made"
    assert token not in output  # the tool never sees the internal token


def test_oauth_password_once_then_refresh_tokens_with_a_real_cli_until_revoked(
    tmp_path: Path,
) -> None:
    """A standard OAuth 2.0 token endpoint (oauthlib) with 8 s tokens: the refresh margin
    is 5 s, so the keeper refreshes about every 3 s while Claude Code runs through the
    proxy. The employee password is sent once; then only refresh tokens, until the IAM
    revokes them: refresh stops, visibly, and the password is not tried again."""
    from tests._oauth_iam import OAuthIam
    from tests.integration.conftest import wait_for

    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "bridge")})
    services = build_services(paths, redactor=Redactor())
    services.auth.create_first_admin("root", ADMIN_PW)
    session = services.auth.login("root", ADMIN_PW)
    oauth = OAuthIam({"E42": "employee-pw-42"}, lifetime_s=8).start()
    upstream = FakeInternalUpstream(token_valid=oauth.valid, reply=REPLY).start()
    try:
        services.env.set(session, "INTERNAL_LLM_API_BASE", f"{upstream.url}/v1", scope="shared")
        active = paths.proxy_config_dir / "config.yaml"
        active.parent.mkdir(parents=True, exist_ok=True)
        active.write_bytes(resource_path("configs", "internal-enterprise.yaml").read_bytes())
        services.tokens.set_iam_settings(
            session,
            oauth.password_grant_settings(),
        )
        services.tokens.save_project(session, Project("P-7", "Apollo"))
        services.core.use_session(session)
        services.tokens.login(session, "E42", "employee-pw-42")  # not remembered
        services.proxy.supervisor(port=free_port()).start()

        home, work = tmp_path / "home", tmp_path / "work"
        work.mkdir()
        tools = tools_at(services, home, "claude-code", environ=False)
        assert tools.apply("claude-code", model=MODEL, folder=str(work)).done
        tokens_seen: set[str] = set()
        for _ in range(3):
            refreshes = oauth.calls["refresh_token"]
            assert wait_for(lambda r=refreshes: oauth.calls["refresh_token"] > r, 30)
            first = len(upstream.seen)
            done = run_tool("claude-code", home, work, services.redactor)
            assert REPLY in done.stdout
            seen = upstream.seen[first:]
            assert seen and all(r.accepted for r in seen)
            tokens_seen.update(str(r.body.get("internal_token")) for r in seen)
        assert len(tokens_seen) >= 2  # the tool ran on refreshed tokens
        assert oauth.calls["password"] == 1  # the password travelled once

        oauth.revoke_refresh_tokens()
        assert wait_for(lambda: services.tokens.status(session).refresh_blocked, 30)
        status = services.tokens.status(session)
        assert "The IAM refused the refresh token (invalid_grant)." in (status.last_error or "")
        assert oauth.calls["password"] == 1  # not remembered: never tried on its own
        blocked_at = oauth.calls["refresh_token"]
        assert wait_for(
            lambda: "refresh is blocked" in (services.proxy.status().last_error or ""), 10
        )
        # The token is still valid for a few seconds at most; then requests are refused
        # with a clear 401 and nothing reaches the IAM again.
        assert wait_for(lambda: not oauth.valid(services.tokens.current().token), 15)
        assert oauth.calls["refresh_token"] == blocked_at
    finally:
        services.close()
        upstream.stop()
        oauth.stop()
