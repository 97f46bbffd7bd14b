"""The real Claude Code, Codex CLI and Gemini CLI, pointed at the app's proxy: a model the
company's policy does not allow gets the proxy's 403 message shown to the person; a daily
quota that is used up stops each tool at once (Codex after its own few quick retries), with
the message that says when it frees up (told to retry in a minute, each retried silently
for minutes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from tests.e2e.test_tools_real_cli import (
    BIN,
    COMMANDS,
    free_port,
    run_cli,
    tools_at,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MESSAGE = "model demo is not allowed by your company's policy"


@contextmanager
def _serving(home: Path, policy_text: str) -> Iterator[Services]:
    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    policy = home / "policy.yaml"
    policy.write_text(policy_text, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("BRIDGE_POLICY_FILE", str(policy))
    built = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    try:
        built.proxy.supervisor(port=free_port()).start()
        yield built
    finally:
        built.close()
        mp.undo()


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with _serving(
        tmp_path_factory.mktemp("bridge-home"), 'models: {allow: ["internal-*"]}\n'
    ) as built:
        yield built


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
    done = run_cli(tool, home, work)
    shown = services.redactor.redact(done.stdout + done.stderr)
    assert done.returncode != 0, shown[-3000:]
    assert MESSAGE in shown, shown[-3000:]
    assert "403" in shown, shown[-3000:]


# What each tool shows for a used-up daily quota (measured with these versions): Claude Code
# "API Error: Request rejected (429) · Rate limit of your company's policy reached: …"; Codex
# and Gemini CLI retry any 429, so theirs is a 403 with the same message.
QUOTA_STATUS = {"claude-code": "429", "codex-cli": "403", "gemini-cli": "403"}
# How often each asks before it shows the message: Codex retries a 403 five times on its
# own short backoff (seconds; "Reconnecting... 1/5" on screen), the others stop at once.
QUOTA_ASKS = {"claude-code": 1, "codex-cli": 6, "gemini-cli": 1}


@pytest.mark.parametrize("tool", list(QUOTA_STATUS))
def test_a_used_up_daily_quota_stops_the_real_cli_at_its_first_refusal(
    tmp_path: Path, tool: str
) -> None:
    """Issue 26, item 9. With "429, Retry-After: 60" each of these tools retried silently
    for minutes (Claude Code and Codex more than 4, Gemini CLI more than 3): a person saw
    nothing. Now the tool stops at once and shows when the quota frees up."""
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    bridge = tmp_path / "bridge-home"
    bridge.mkdir()
    with _serving(bridge, "limits:\n  per_user: {requests_per_day: 1}\n") as services:
        tools = tools_at(services, home, tool, environ=False)
        assert tools.apply(tool, model="demo", folder=str(work)).done
        supervisor = services.proxy.supervisor()
        used = httpx.post(  # today's one request, by the same person with another client
            f"{supervisor.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {services.proxy.master_key()}"},
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            timeout=60,
        )
        assert used.status_code == 200, used.text
        done = run_cli(tool, home, work)
        shown = services.redactor.redact(done.stdout + done.stderr)
        assert done.returncode != 0, shown[-3000:]
        assert "requests_per_day = 1" in shown, shown[-3000:]
        assert "It allows requests again tomorrow at " in shown, shown[-3000:]
        assert QUOTA_STATUS[tool] in shown, shown[-3000:]
        metrics = supervisor.status().metrics
        # Stopped after the tool's own quick attempts: nothing waited for a minute.
        asks = QUOTA_ASKS[tool]
        assert (metrics["requests"], metrics["refused"]) == (1 + asks, asks), metrics
