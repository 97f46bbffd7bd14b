"""`litellm-bridge tools ...` as a user runs it: a real process, a temporary HOME."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths
from bridge_app.services import build_services
from tests.unit.test_cli import run_cli

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    return home


def tools(*args: str, bridge: Path, home: Path, path: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli(
        "tools",
        *args,
        home=bridge,
        extra_env={"HOME": str(home), "USERPROFILE": str(home), "PATH": path or "/usr/bin:/bin"},
    )


def test_list_shows_every_tool_and_whether_it_is_set_up(tmp_path: Path, user_home: Path) -> None:
    bridge = tmp_path / "bridge"
    listed = tools("list", "--json", bridge=bridge, home=user_home)
    assert listed.returncode == 0, listed.stderr
    cards = {c["id"]: c for c in json.loads(listed.stdout)}
    assert cards["claude-code"]["pointed_at_proxy"] is False
    assert cards["codex-cli"]["model"] == "demo"
    assert cards["openai-sdk"]["can_apply"] is False
    assert "sk-bridge" not in listed.stdout

    assert tools("apply", "claude-code", bridge=bridge, home=user_home).returncode == 0
    text = tools("list", bridge=bridge, home=user_home).stdout
    line = next(line for line in text.splitlines() if line.startswith("claude-code"))
    assert "pointed at the proxy" in line


def test_show_prints_settings_for_each_shell(tmp_path: Path, user_home: Path) -> None:
    bridge = tmp_path / "bridge"
    master = run_cli("proxy-key", home=bridge).stdout.strip()
    shown = tools("show", "gemini-cli", "--shell", "cmd", bridge=bridge, home=user_home)
    assert shown.returncode == 0, shown.stderr
    assert "set GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:4000\n" in shown.stdout
    key = shown.stdout.split("set GEMINI_API_KEY=", 1)[1].split("\n", 1)[0]
    assert key.startswith("sk-bridge-") and key != master  # the tool's own key
    assert master not in shown.stdout
    assert '"selectedType": "gemini-api-key"' in shown.stdout  # the settings.json part
    trusted = f"{json.dumps(str(user_home))}: " + '"TRUST_FOLDER"'
    assert trusted in shown.stdout  # the trustedFolders.json part
    assert "export " not in shown.stdout
    assert not (user_home / ".gemini").exists()  # showing writes nothing

    # Apply writes exactly what show printed.
    assert tools("apply", "gemini-cli", bridge=bridge, home=user_home).returncode == 0
    assert f"GEMINI_API_KEY={key}" in (user_home / ".gemini" / ".env").read_text()
    for path in (user_home / ".gemini").iterdir():
        assert master not in path.read_text()


def test_show_defaults_to_this_platforms_shell(tmp_path: Path, user_home: Path) -> None:
    shown = tools("show", "claude-code", bridge=tmp_path / "bridge", home=user_home)
    assert shown.returncode == 0, shown.stderr
    if sys.platform == "win32":
        assert "## powershell" in shown.stdout and "$env:ANTHROPIC_BASE_URL = " in shown.stdout
        assert "## cmd" in shown.stdout and "export " not in shown.stdout
    else:
        assert "## bash" in shown.stdout and "export ANTHROPIC_BASE_URL=" in shown.stdout
        assert "## powershell" not in shown.stdout and "$env:" not in shown.stdout


def test_apply_conflict_and_revert(tmp_path: Path, user_home: Path) -> None:
    bridge = tmp_path / "bridge"
    config = user_home / ".codex" / "config.toml"
    config.parent.mkdir()
    original = '# mine\nmodel = "o3"\n'
    config.write_text(original)

    applied = tools("apply", "codex-cli", "--diff", bridge=bridge, home=user_home)
    assert applied.returncode == 0, applied.stderr
    assert '+model_provider = "litellm-bridge"' in applied.stdout
    assert "sk-bridge" not in applied.stdout  # the diff masks the key

    config.write_text(config.read_text() + "# my note\n")
    edited = config.read_text()
    refused = tools("apply", "codex-cli", bridge=bridge, home=user_home)
    assert refused.returncode == 1
    assert "changed since" in refused.stderr + refused.stdout
    assert "--force" in refused.stderr
    assert config.read_text() == edited

    refused = tools("revert", "codex-cli", bridge=bridge, home=user_home)
    assert refused.returncode == 1 and config.read_text() == edited
    forced = tools("revert", "codex-cli", "--force", bridge=bridge, home=user_home)
    assert forced.returncode == 0, forced.stderr
    assert config.read_text() == original
    assert "kept in" in forced.stdout

    again = tools("revert", "codex-cli", bridge=bridge, home=user_home)
    assert again.returncode == 0 and "Nothing to revert" in again.stdout


def test_bad_input_is_one_clear_line(tmp_path: Path, user_home: Path) -> None:
    bridge = tmp_path / "bridge"
    settings = user_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{ not json")
    result = tools("apply", "claude-code", bridge=bridge, home=user_home)
    assert result.returncode == 1
    assert "is not valid JSON" in result.stderr and "Traceback" not in result.stderr
    assert settings.read_text() == "{ not json"

    unknown = tools("apply", "notepad", bridge=bridge, home=user_home)
    assert unknown.returncode == 2 and "claude-code" in unknown.stderr


def test_verify_when_the_proxy_is_stopped(tmp_path: Path, user_home: Path) -> None:
    bridge = tmp_path / "bridge"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # A stopped proxy at a port where nothing listens.
    services = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(bridge)}))
    services.settings.set("proxy.port", port)
    services.close()
    result = tools("verify", "claude-code", "--timeout", "5", bridge=bridge, home=user_home)
    assert result.returncode == 1
    assert f"not running at http://127.0.0.1:{port}" in result.stderr


def test_tool_key_is_printed_once_and_revocable(tmp_path: Path, user_home: Path) -> None:
    bridge = tmp_path / "bridge"
    created = tools("key", "create", "gemini-cli", bridge=bridge, home=user_home)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("sk-bridge-")
    assert key != run_cli("proxy-key", home=bridge).stdout.strip()

    tools("apply", "gemini-cli", bridge=bridge, home=user_home)
    assert f"GEMINI_API_KEY={key}" in (user_home / ".gemini" / ".env").read_text()
    assert key not in tools("list", "--json", bridge=bridge, home=user_home).stdout

    assert tools("key", "revoke", "gemini-cli", bridge=bridge, home=user_home).returncode == 0
    again = tools("key", "revoke", "gemini-cli", bridge=bridge, home=user_home)
    assert again.returncode == 1 and "no key of its own" in again.stderr
