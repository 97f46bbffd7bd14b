"""The real Claude Code, Codex CLI and Gemini CLI (from npm) run a tool call end to end
through the bridge: configured by Apply alone (with the model ``agent-chat``, a
chat-completions-only internal endpoint), each asks the scripted agent model, gets a
streamed tool call back (arguments split across chunks), runs its own tool — a file write
or a shell command that writes the file — sends the result back, and finishes the turn with
the model's final answer. Every request carried the internal token and project."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from tests.conformance._agent_model import WRITTEN, AgentModel
from tests.conformance.conftest import signed_in
from tests.e2e.test_tools_real_cli import (
    RUN_TIMEOUT,
    free_port,
    tool_binary,
    tool_env,
    tools_at,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: the non-interactive run of each tool, allowed to use its tools without asking
COMMANDS = {
    "claude-code": ["claude", "--permission-mode", "acceptEdits", "-p"],
    "codex-cli": [
        "codex",
        "exec",
        "--skip-git-repo-check",
        "--sandbox",
        "danger-full-access",
        "--color",
        "never",
    ],
    "gemini-cli": ["gemini", "--yolo", "-p"],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, AgentModel]]:
    home = tmp_path_factory.mktemp("agents") / "bridge-home"
    services = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    with signed_in(services, port=free_port()) as (_session, model, _supervisor):
        yield services, model


@pytest.mark.parametrize("tool", list(COMMANDS))
def test_a_real_agent_runs_a_tool_call_through_the_bridge(
    stack: tuple[Services, AgentModel], tmp_path: Path, tool: str
) -> None:
    services, model = stack
    command = COMMANDS[tool]
    if not tool_binary(command[0]).exists():
        pytest.fail(f"{command[0]} is not installed in tests/e2e/node_modules")
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    tools = tools_at(services, home, tool)
    assert tools.apply(tool, model="agent-chat", folder=str(work)).done

    target = work / f"{tool}.txt"
    tag = f"{tool}-turn"
    before = len(model.seen)
    done = subprocess.run(
        [str(tool_binary(command[0])), *command[1:], f"[tool] write {target} ({tag})"],
        env=tool_env(home),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    said = services.redactor.redact(done.stdout + done.stderr)[-3000:]
    assert done.returncode == 0, said
    # The tool ran: the file the model asked for is there, written by the tool itself.
    assert target.is_file(), said
    assert target.read_text().strip() == WRITTEN
    # The turn finished: the model got the tool's result back and answered with it.
    turns = [s for s in model.seen[before:] if tag in str(s.body)]
    assert len(turns) >= 2, [s.path for s in model.seen[before:]]
    final = turns[-1]
    assert "tool" in str(final.body).lower()
    assert "Tool results:" in done.stdout, said
    token = services.tokens.current().token
    for seen in turns:
        assert seen.body.get("internal_token") == token and seen.body.get("project_id") == "P-7"
