"""Issue 28, done when: with the company CA only in the machine's trust store and a PAC
file pointing at an authenticating proxy, the real Claude Code and Codex get their answers
from the private-CA internal endpoint, configured by `tools apply` alone; the proxy's log
shows the calls. The tools themselves have a dead HTTPS_PROXY (NO_PROXY: loopback) and no
CA setting: only the bridge goes out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_tools_real_cli import BIN, run_cli, seed_home, tool_env
from tests.integration._corp import (
    HOST,
    PASSWORD,
    REPLY,
    USER,
    Corp,
    PacServer,
    corporate_network,
    set_entry,
    tunnels,
)
from tests.integration._serve import Serve, cli, wait_until
from tests.integration._upstream import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def corp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corp]:
    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    with (
        corporate_network(tmp_path_factory.mktemp("corp")) as corp,
        PacServer(corp.squid.port) as pac,
    ):
        set_entry(corp.home, "PROXY_PAC_URL", f"{pac.url}/proxy.pac")
        set_entry(corp.home, "PROXY_USERNAME", USER)
        set_entry(corp.home, "PROXY_PASSWORD", PASSWORD)
        yield corp


@pytest.mark.parametrize("tool", ["claude-code", "codex-cli"])
def test_the_real_cli_answers_from_behind_the_company_proxy_and_ca_after_apply_alone(
    corp: Corp, tmp_path: Path, tool: str
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    seed_home(home, tool)
    before, reached = len(tunnels(corp.squid)), len(corp.upstream.seen)
    serve = Serve(corp.home, free_port(), **corp.trust)
    try:
        # The person's own step: `tools apply` in their session (their HOME), nothing else.
        applied = cli(
            corp.home, "tools", "apply", tool, "--model", "internal-chat", **tool_env(home)
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
        done = run_cli(tool, home, work)
    finally:
        serve.stop()  # squid logs a tunnel when it closes
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert REPLY in done.stdout, out[-3000:]
    assert PASSWORD not in out
    seen = corp.upstream.seen[reached:]
    assert seen and all(s.accepted for s in seen), seen
    # The calls went through the company proxy, as its user (the internal name resolves
    # nowhere else).
    calls = wait_until(lambda: tunnels(corp.squid)[before:] or None, timeout=10)
    assert calls, corp.squid.log()
    assert all(f" {USER} " in line and f"CONNECT {HOST}:" in line for line in calls), calls
