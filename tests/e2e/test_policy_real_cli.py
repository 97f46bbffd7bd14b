"""The real Claude Code and Codex CLI, pointed at the app's proxy, ask for a model the
company's policy does not allow: each shows the proxy's 403 message to the person."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from tests.e2e.test_tools_real_cli import (
    BIN,
    COMMANDS,
    RUN_TIMEOUT,
    free_port,
    tool_env,
    tools_at,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MESSAGE = "model demo is not allowed by your company's policy"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    home = tmp_path_factory.mktemp("bridge-home")
    policy = home / "policy.yaml"
    policy.write_text('models: {allow: ["internal-*"]}\n', encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("BRIDGE_POLICY_FILE", str(policy))
    built = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    built.proxy.supervisor(port=free_port()).start()
    yield built
    built.close()
    mp.undo()


@pytest.mark.parametrize("tool", ["claude-code", "codex-cli"])
def test_real_cli_shows_the_policy_refusal(services: Services, tmp_path: Path, tool: str) -> None:
    command = COMMANDS[tool]
    if not (BIN / command[0]).exists():
        pytest.fail(f"{command[0]} is not installed in tests/e2e/node_modules")
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    tools = tools_at(services, home, tool, environ=False)
    assert tools.apply(tool, model="demo", folder=str(work)).done
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        env=tool_env(home),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    shown = services.redactor.redact(done.stdout + done.stderr)
    assert done.returncode != 0, shown[-3000:]
    assert MESSAGE in shown, shown[-3000:]
    assert "403" in shown, shown[-3000:]
