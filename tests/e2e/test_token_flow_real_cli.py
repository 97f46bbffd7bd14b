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
from bridge_app.clients import ToolsService
from bridge_app.devtools import FakeIam, FakeInternalUpstream
from bridge_app.runtime import AppPaths, Redactor, resource_path
from bridge_app.services import Services, build_services
from bridge_app.services._root import derive_install_key
from bridge_app.tokens import IamSettings, Project
from tests.e2e.test_tools_real_cli import (
    BIN,
    COMMANDS,
    ORIGINALS,
    free_port,
    run_tool,
    tool_env,
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
    services.tokens.projects.save(session, Project("P-7", "Apollo"))
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
    for rel, text in ORIGINALS[tool].items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    svc = internal.services
    tools = ToolsService(
        db=svc.db,
        seal_key=derive_install_key(svc.db_key, "tool-config"),
        settings=svc.settings,
        proxy=svc.proxy,
        redactor=svc.redactor,
        home=home,
        search_path=str(BIN),
        environ=tool_env(home),
    )
    assert MODEL in tools.models()
    assert tools.apply(tool, model=MODEL).done

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
