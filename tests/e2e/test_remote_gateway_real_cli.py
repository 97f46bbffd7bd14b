"""Real CLI tools (Claude Code, Gemini CLI, Codex CLI from npm) answer through the app's
proxy -> a team LiteLLM gateway (the standalone `litellm` command) -> the internal
endpoint, which accepts only requests carrying the current internal token and project:
the remote model was added in one step, and the injection still applies to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge_app.auth import Session
from bridge_app.devtools import FakeIam, FakeInternalUpstream
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from bridge_app.tokens import IamSettings, Project
from tests.e2e.test_tools_real_cli import (
    BIN,
    COMMANDS,
    free_port,
    run_tool,
    tools_at,
)
from tests.integration._litellm_cli import StandaloneLiteLLM
from tests.integration.test_remote_gateways import GATEWAY_KEY, gateway_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADMIN_PW = "Admin-Password-42!"
REPLY = "Hello from the internal endpoint, via the team gateway."
MODEL = "team-chat"


@dataclass
class Chain:
    services: Services
    session: Session
    upstream: FakeInternalUpstream


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    work = tmp_path_factory.mktemp("gateway")
    iam = FakeIam({"E42": "employee-pw-42"}).start()
    upstream = FakeInternalUpstream(token_valid=iam.valid, reply=REPLY).start()
    gateway = StandaloneLiteLLM(
        gateway_config(work / "gateway.yaml", upstream.url),
        env={"GATEWAY_MASTER_KEY": GATEWAY_KEY},
    ).start()
    home = tmp_path_factory.mktemp("bridge-home")
    services = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    try:
        services.auth.create_first_admin("root", ADMIN_PW)
        session = services.auth.login("root", ADMIN_PW)
        services.remote.add(session, "team", gateway.url, key=GATEWAY_KEY)
        services.remote.use_model("team", MODEL, author="root")
        services.tokens.set_iam_settings(
            session, IamSettings(url=iam.token_url, token_path="data.access_token")
        )
        services.tokens.projects.save(session, Project("P-7", "Apollo"))
        services.tokens.activate(session)
        services.tokens.login(session, "E42", "employee-pw-42")
        services.core.use_session(session)
        services.proxy.supervisor(port=free_port()).start()
        yield Chain(services, session, upstream)
    finally:
        services.close()
        gateway.stop()
        upstream.stop()
        iam.stop()


@pytest.mark.parametrize("tool", list(COMMANDS))
def test_real_cli_reaches_the_upstream_through_the_team_gateway_with_token_and_project(
    chain: Chain, tmp_path: Path, tool: str
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    svc = chain.services
    tools = tools_at(svc, home, tool, environ=False)
    assert tools.apply(tool, model=MODEL, folder=str(work)).done

    token = svc.tokens.current().token
    first = len(chain.upstream.seen)
    done = run_tool(tool, home, work, svc.redactor)
    assert REPLY in done.stdout, svc.redactor.redact(done.stdout + done.stderr)[-3000:]

    seen = chain.upstream.seen[first:]
    assert seen, "the internal endpoint saw no request"
    for request in seen:
        assert request.accepted, request.body.get("model")
        assert request.body.get("internal_token") == token
        assert request.body.get("project_id") == "P-7"
    assert token not in done.stdout + done.stderr
    assert GATEWAY_KEY not in done.stdout + done.stderr
