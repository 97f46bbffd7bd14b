"""Verify talks to a real proxy in each tool's wire format and names what went wrong."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge_app.clients import ToolsService
from bridge_app.proxy import active_config_path, ensure_active_config
from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.services import Services, build_services
from bridge_app.store import tables
from tests._tools import tools_service
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEMO_REPLY = "Hello from the LiteLLM Bridge demo model"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def services(app_paths: AppPaths) -> Iterator[Services]:
    built = build_services(app_paths)
    yield built
    built.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def tools(services: Services, home: Path) -> ToolsService:
    return tools_service(services, home, search_path="")


def start_proxy(services: Services) -> None:
    supervisor = services.proxy.supervisor(port=free_port())
    supervisor.start()


def test_verify_succeeds_in_every_wire_format(services: Services, tools: ToolsService) -> None:
    start_proxy(services)
    for tool in ("claude-code", "codex-cli", "gemini-cli", "openai-sdk", "anthropic-sdk"):
        if tools.card(tool).can_apply:
            tools.apply(tool)
        result = tools.verify(tool)
        assert result.ok, (tool, result.reason)
        assert result.status == 200
        assert DEMO_REPLY in result.reply
    assert tools.verify("gemini-cli").url.endswith("/v1beta/models/demo:generateContent")


def test_verify_says_the_proxy_is_stopped(services: Services, tools: ToolsService) -> None:
    services.settings.set("proxy.port", free_port())
    result = tools.verify("claude-code", timeout=5)
    assert not result.ok and result.status is None
    assert "not running" in result.reason


def test_a_tool_key_names_the_tool_in_usage_and_a_revoked_one_gets_401(
    services: Services, tools: ToolsService, home: Path
) -> None:
    start_proxy(services)
    key = tools.create_key("codex-cli")  # added live to the running proxy
    tools.apply("codex-cli")
    assert key in (home / ".codex/config.toml").read_text()
    assert tools.verify("codex-cli").ok

    def usage_clients() -> list[str | None]:
        services.proxy.usage.flush()
        with services.db.reading() as conn:
            return list(conn.execute(select(tables["usage_records"].c.client)).scalars())

    assert "codex-cli" in wait_for(usage_clients, timeout=10)

    tools.revoke_key("codex-cli")
    result = tools.verify("codex-cli")
    assert not result.ok and result.status == 401
    assert "refused the key" in result.reason and "Invalid API key" in result.reason
    assert key not in result.reason


def test_verify_names_a_model_the_proxy_does_not_have(
    services: Services, tools: ToolsService, home: Path
) -> None:
    start_proxy(services)
    tools.apply("claude-code")
    settings = home / ".claude/settings.json"
    settings.write_text(settings.read_text().replace('"demo"', '"no-such-model"'))
    result = tools.verify("claude-code")
    assert not result.ok and result.status in (400, 404)
    assert "no-such-model" in result.reason and "not available" in result.reason


def test_verify_surfaces_an_unreachable_upstream(
    services: Services, tools: ToolsService, app_paths: AppPaths
) -> None:
    ensure_active_config(app_paths)
    active_config_path(app_paths).write_text(
        "model_list:\n"
        "  - model_name: corp\n"
        "    litellm_params:\n"
        "      model: openai/corp\n"
        f"      api_base: http://127.0.0.1:{free_port()}/v1\n"
        "      api_key: sk-upstream-dummy\n"
        "      timeout: 5\n"
        "litellm_settings:\n  num_retries: 0\n"
    )
    start_proxy(services)
    result = tools.verify("openai-sdk", timeout=60)
    assert not result.ok
    assert result.status is not None and result.status >= 500
    assert "connection" in result.reason.lower()


def test_verify_passes_on_what_a_request_hook_refuses_with(
    services: Services, tools: ToolsService
) -> None:
    supervisor = services.proxy.supervisor(port=free_port())

    def expired_token(data: dict[str, object], context: object) -> None:
        raise BridgeError("Your internal token expired at 10:42; log in again (Tokens).")

    supervisor.add_request_hook(expired_token)
    supervisor.start()
    result = tools.verify("claude-code")
    assert not result.ok and result.status is not None and result.status >= 400
    assert "internal token expired at 10:42" in result.reason
    assert "refused the key" not in result.reason


def test_verify_of_an_installed_tool_without_a_headless_run_says_so(
    services: Services, bridge_home: Path, tmp_path: Path
) -> None:
    """Issue 26, item 7: `tools verify opencode` said "tool not installed" while `tools
    list` showed OpenCode installed (OpenCode now runs headless: the e2e tests run the real
    one). A tool the app cannot run headless (Aider) must say so. Through the real
    command, with a real proxy."""
    import os
    import subprocess
    import sys

    from tests.unit.test_runtime_process import _fake_tool

    port = free_port()
    services.settings.set("proxy.port", port)
    bin_dir, user_home = tmp_path / "bin", tmp_path / "user"
    user_home.mkdir()
    _fake_tool(bin_dir, "aider", "print('aider 0.86.1')\n")
    env = {
        **os.environ,
        "BRIDGE_HOME": str(bridge_home),
        "BRIDGE_KEYRING": "off",
        "HOME": str(user_home),
        "XDG_CONFIG_HOME": str(user_home / ".config"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bridge_app", "tools", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    applied = run("apply", "aider")  # as a person would: its own key in its config
    assert applied.returncode == 0, applied.stdout + applied.stderr
    services.tools.load_keys()  # what a running serve does when the key appears
    services.proxy.supervisor(port=port).start()
    done = run("verify", "aider")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(
        "OK (Aider 0.86.1 is installed, but the app has no headless run for it: sent its "
        "request): demo answered through the proxy."
    ), done.stdout
    assert "not installed" not in done.stdout
