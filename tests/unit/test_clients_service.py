"""Apply / revert / show / keys on real files in a temporary home and a real encrypted store."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit
from sqlalchemy import select

from bridge_app.clients import TOOLS, ConfigFileError, ToolsService, UnsafeTargetError
from bridge_app.proxy import active_config_path
from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.services import Services, build_services
from bridge_app.store import tables
from tests._tools import tools_service
from tests.conftest import UNDER_WINE

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


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


def make_tools(
    services: Services, home: Path, environ: dict[str, str] | None = None
) -> ToolsService:
    # never the developer's CODEX_HOME / XDG_CONFIG_HOME
    return tools_service(services, home, search_path="", environ=environ or {})


@pytest.fixture
def tools(services: Services, home: Path) -> ToolsService:
    return make_tools(services, home)


# Existing configs full of the user's own settings, one per file the app writes.
EXISTING = {
    ".claude/settings.json": (
        '{\n  "permissions": {"allow": ["Bash(ls)"]},\n  "env": {"HTTPS_PROXY": "http://p:8080"},'
        '\n  "theme": "dark"\n}\n'
    ),
    ".gemini/settings.json": (
        '{\n    "ui": {"theme": "GitHub"},\n    "general": {"vimMode": true}\n}'
    ),
    ".gemini/.env": "# mine\nSOME_TOKEN=abc\r\nGEMINI_MODEL=gemini-2.5-pro\n",
    ".codex/config.toml": (
        '# hand made\nmodel = "o3"  # fast\n\n[projects."/w"]\ntrust_level = "trusted"\n'
    ),
    ".config/opencode/opencode.json": (
        '{"$schema": "https://opencode.ai/config.json", "theme": "x"}'
    ),
    ".qwen/settings.json": '{"ui": {"hideTips": true}}\n',
    ".qwen/.env": "OPENAI_API_KEY=old\n",
    ".aider.conf.yml": "# aider\ndark-mode: true  # eyes\nmodel: gpt-4o\n",
}
FILE_TOOLS = ["claude-code", "gemini-cli", "codex-cli", "opencode", "qwen-code", "aider"]


def files_of(tools: ToolsService, tool: str) -> list[Path]:
    return [Path(p) for p in tools.card(tool).config_files]


def snapshot(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize("tool", FILE_TOOLS)
def test_apply_then_revert_restores_existing_files_byte_for_byte(
    tools: ToolsService, home: Path, tool: str
) -> None:
    for rel, text in EXISTING.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_bytes(text.encode())
        (home / rel).chmod(0o640)
    before = snapshot(home)

    result = tools.apply(tool)
    assert result.done
    assert snapshot(home) != before
    card = tools.card(tool)
    assert card.applied and card.pointed_at_proxy and card.model == "demo"

    assert tools.revert(tool).done
    assert snapshot(home) == before
    if sys.platform != "win32":  # NTFS has no POSIX modes to restore
        for rel in EXISTING:
            assert stat.S_IMODE((home / rel).stat().st_mode) == 0o640
    assert not tools.card(tool).applied


@pytest.mark.parametrize("tool", FILE_TOOLS)
def test_revert_removes_files_that_did_not_exist(
    tools: ToolsService, home: Path, tool: str
) -> None:
    tools.apply(tool)
    created = files_of(tools, tool)
    assert all(p.is_file() for p in created)
    if sys.platform != "win32":  # NTFS has no POSIX modes
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in created)  # hold a key
    tools.revert(tool)
    assert not any(p.exists() for p in created)


def test_apply_keeps_the_users_settings_and_writes_what_claude_code_reads(
    tools: ToolsService, home: Path, services: Services
) -> None:
    settings = home / ".claude/settings.json"
    settings.parent.mkdir()
    settings.write_text(EXISTING[".claude/settings.json"])
    tools.apply("claude-code")
    data = json.loads(settings.read_text())
    assert list(data) == ["permissions", "env", "theme"]
    assert data["permissions"] == {"allow": ["Bash(ls)"]}
    assert data["env"]["HTTPS_PROXY"] == "http://p:8080"
    assert data["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:4000"
    key = data["env"]["ANTHROPIC_AUTH_TOKEN"]
    assert key != services.proxy.master_key()  # never the master key in a tool's file
    assert services.proxy.keys.identify(key).name == "claude-code"  # type: ignore[union-attr]
    assert data["env"]["ANTHROPIC_MODEL"] == "demo"


def test_codex_gets_a_provider_with_the_responses_wire_api(tools: ToolsService, home: Path) -> None:
    tools.apply("codex-cli")
    data = tomlkit.parse((home / ".codex/config.toml").read_text()).unwrap()
    assert data["model_provider"] == "litellm-bridge"
    provider = data["model_providers"]["litellm-bridge"]
    assert provider["base_url"] == "http://127.0.0.1:4000/v1"
    assert provider["wire_api"] == "responses"


def test_windows_people_get_powershell_and_cmd_forms(services: Services, home: Path) -> None:
    tools = tools_service(services, home, platform="windows", search_path="", environ={})
    assert tools.shells() == ("powershell", "cmd")
    settings = tools.show("claude-code")
    key = tools.key_for("claude-code")  # the tool's own key, never the master key
    assert "$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:4000'" in settings.shells["powershell"]
    assert f"set ANTHROPIC_AUTH_TOKEN={key}\n" in settings.shells["cmd"]
    assert services.proxy.master_key() not in settings.shells["cmd"]
    here = ("powershell", "cmd") if sys.platform == "win32" else ("bash",)
    assert make_tools(services, home).shells() == here  # this platform's own


def test_codex_home_moves_codex_cli_config(services: Services, home: Path, tmp_path: Path) -> None:
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    tools = make_tools(services, home, {"CODEX_HOME": str(codex_home)})
    assert tools.card("codex-cli").config_files == (str(codex_home / "config.toml"),)
    tools.apply("codex-cli")
    data = tomlkit.parse((codex_home / "config.toml").read_text()).unwrap()
    assert data["model_provider"] == "litellm-bridge"
    assert not (home / ".codex").exists()
    tools.revert("codex-cli")
    assert not (codex_home / "config.toml").exists()


def test_xdg_config_home_and_opencode_config_move_opencodes_file(
    services: Services, home: Path, tmp_path: Path
) -> None:
    xdg = tmp_path / "xdg"
    tools = make_tools(services, home, {"XDG_CONFIG_HOME": str(xdg)})
    tools.apply("opencode")
    data = json.loads((xdg / "opencode" / "opencode.json").read_text())
    assert data["model"].startswith("litellm-bridge/")
    assert not (home / ".config").exists()
    tools.revert("opencode")

    chosen = tmp_path / "team" / "opencode.jsonc.json"
    chosen.parent.mkdir()
    chosen.write_text('{"theme": "light"}\n')
    tools = make_tools(
        services, home, {"XDG_CONFIG_HOME": str(xdg), "OPENCODE_CONFIG": str(chosen)}
    )
    tools.apply("opencode")
    data = json.loads(chosen.read_text())
    assert data["theme"] == "light" and "litellm-bridge" in data["provider"]


def test_a_relative_codex_home_is_not_guessed_at(services: Services, home: Path) -> None:
    # Relative to the tool's working folder, which the app cannot know: the default stays.
    tools = make_tools(services, home, {"CODEX_HOME": "relative/dir"})
    assert tools.card("codex-cli").config_files == (str(home / ".codex" / "config.toml"),)


def test_a_file_changed_since_apply_is_a_conflict_until_forced(
    tools: ToolsService, home: Path
) -> None:
    tools.apply("claude-code")
    settings = home / ".claude/settings.json"
    data = json.loads(settings.read_text())
    data["theme"] = "light-by-hand"
    settings.write_text(json.dumps(data, indent=2))
    edited = settings.read_bytes()

    again = tools.apply("claude-code", force=False)
    assert not again.done
    (conflict,) = again.conflicts
    assert conflict.path == settings
    assert "changed since" in (conflict.conflict or "")
    assert settings.read_bytes() == edited

    forced = tools.apply("claude-code", force=True)
    assert forced.done
    assert json.loads(settings.read_text())["theme"] == "light-by-hand"


def test_revert_of_a_changed_file_needs_force_and_keeps_the_users_version(
    tools: ToolsService, home: Path
) -> None:
    config = home / ".codex/config.toml"
    config.parent.mkdir()
    config.write_text(EXISTING[".codex/config.toml"])
    tools.apply("codex-cli")
    with config.open("a") as out:
        out.write('\n[profiles.mine]\nmodel = "x"\n')
    edited = config.read_bytes()

    refused = tools.revert("codex-cli")
    assert not refused.done
    assert "+" not in refused.conflicts[0].diff.splitlines()[0]
    assert "-[profiles.mine]" in refused.conflicts[0].diff
    assert config.read_bytes() == edited

    done = tools.revert("codex-cli", force=True)
    assert done.done
    assert config.read_text() == EXISTING[".codex/config.toml"]
    (copy,) = done.saved_copies
    assert copy.read_bytes() == edited


def test_diffs_never_show_the_proxy_key(tools: ToolsService, services: Services) -> None:
    preview = tools.preview("gemini-cli")
    text = "".join(c.diff for c in preview.changes)
    assert "GEMINI_API_KEY=" in text
    assert services.proxy.master_key() not in text


def test_invalid_json_stops_the_whole_apply(tools: ToolsService, home: Path) -> None:
    settings = home / ".gemini/settings.json"
    settings.parent.mkdir()
    settings.write_text('{"ui": {"theme": "x"},}')
    with pytest.raises(ConfigFileError) as err:
        tools.apply("gemini-cli")
    assert str(settings) in str(err.value) and "line 1" in str(err.value)
    assert settings.read_text() == '{"ui": {"theme": "x"},}'
    assert not (home / ".gemini/.env").exists()  # the other file was not written either
    assert not tools.card("gemini-cli").applied


@pytest.mark.skipif(UNDER_WINE, reason="Wine does not report symbolic links as links")
def test_a_symlinked_config_is_left_alone(tools: ToolsService, home: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "claude.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text('{"theme": "dark"}')
    (home / ".claude").mkdir()
    link = home / ".claude/settings.json"
    link.symlink_to(dotfiles)
    with pytest.raises(UnsafeTargetError, match="symbolic link"):
        tools.apply("claude-code")
    assert link.is_symlink()
    assert dotfiles.read_text() == '{"theme": "dark"}'


def test_a_read_only_config_is_not_changed(tools: ToolsService, home: Path) -> None:
    config = home / ".codex/config.toml"
    config.parent.mkdir()
    config.write_text('model = "o3"\n')
    config.chmod(0o444)
    with pytest.raises(UnsafeTargetError, match="read-only"):
        tools.apply("codex-cli")
    assert config.read_text() == 'model = "o3"\n'


def test_a_missing_home_folder_is_reported(services: Services, tmp_path: Path) -> None:
    tools = make_tools(services, tmp_path / "no-such-home")
    with pytest.raises(UnsafeTargetError, match="does not exist"):
        tools.apply("claude-code")
    assert not (tmp_path / "no-such-home").exists()


def test_sdks_have_settings_to_copy_but_nothing_to_apply(tools: ToolsService) -> None:
    shown = tools.show("openai-sdk")
    assert "export OPENAI_BASE_URL='http://127.0.0.1:4000/v1'\n" in shown.shells["bash"]
    assert "$env:OPENAI_API_KEY = 'sk-bridge-" in shown.shells["powershell"]
    assert "set OPENAI_MODEL=demo\n" in shown.shells["cmd"]
    assert not tools.card("openai-sdk").can_apply
    with pytest.raises(BridgeError, match="no config file"):
        tools.apply("openai-sdk")


def test_models_come_from_the_active_config(
    tools: ToolsService, services: Services, home: Path
) -> None:
    assert tools.models() == ["demo"]
    config = active_config_path(services.paths)
    config.write_text(
        "model_list:\n"
        "  - model_name: corp-gpt\n    litellm_params: {model: openai/gpt-4o}\n"
        "  - model_name: corp-claude\n    litellm_params: {model: openai/claude}\n"
    )
    assert tools.models() == ["corp-gpt", "corp-claude"]
    with pytest.raises(BridgeError, match="no model 'demo'") as err:
        tools.show("claude-code", model="demo")
    assert err.value.hint is not None and "corp-gpt" in err.value.hint
    tools.apply("gemini-cli", model="corp-claude")
    assert "GEMINI_MODEL=corp-claude" in (home / ".gemini/.env").read_text()
    assert tools.card("gemini-cli").model == "corp-claude"
    assert tools.show("gemini-cli").model == "corp-claude"


def test_tool_keys_are_sealed_persisted_loaded_and_revocable(
    tools: ToolsService, services: Services, home: Path
) -> None:
    key = tools.create_key("codex-cli")
    assert services.proxy.keys.identify(key).name == "codex-cli"  # type: ignore[union-attr]
    with services.db.reading() as conn:
        stored = conn.execute(
            select(tables["secrets"].c.value).where(tables["secrets"].c.kind == "tool-key")
        ).scalar_one()
    assert key.encode() not in stored

    tools.apply("codex-cli")
    assert key in (home / ".codex/config.toml").read_text()
    assert tools.card("codex-cli").has_own_key

    # A new process (new registry) loads it at start.
    fresh = build_services(services.paths)
    try:
        assert fresh.proxy.keys.identify(key).name == "codex-cli"  # type: ignore[union-attr]
    finally:
        fresh.close()

    assert tools.revoke_key("codex-cli")
    assert services.proxy.keys.identify(key) is None
    assert not tools.revoke_key("codex-cli")


def test_apply_revert_and_keys_are_audited(tools: ToolsService, services: Services) -> None:
    tools.create_key("claude-code", actor="os:alice")
    tools.apply("claude-code", actor="os:alice")
    tools.revert("claude-code", actor="os:alice")
    with services.db.reading() as conn:
        rows = conn.execute(
            select(
                tables["audit_events"].c.actor,
                tables["audit_events"].c.action,
                tables["audit_events"].c.target,
                tables["audit_events"].c.detail,
            )
        ).all()
    mine = [(r.action, r.target) for r in rows if r.actor == "os:alice"]
    assert mine == [
        ("tools.key_create", "claude-code"),
        ("tools.apply", "claude-code"),
        ("tools.revert", "claude-code"),
    ]
    assert all("sk-bridge" not in r.detail for r in rows)


def test_cards_report_installed_tools_with_their_version(
    tools: ToolsService, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if sys.platform == "win32":  # what npm installs there: a .cmd shim found through PATHEXT
        fake = bin_dir / "codex.cmd"
        fake.write_text("@echo codex-cli 9.8.7\r\n")
    else:
        fake = bin_dir / "codex"
        fake.write_text("#!/bin/sh\necho 'codex-cli 9.8.7'\n")
        fake.chmod(0o755)
    tools.search_path = str(bin_dir)
    cards = {card.id: card for card in tools.cards()}
    assert cards["codex-cli"].installed and cards["codex-cli"].version == "9.8.7"
    assert cards["codex-cli"].binary == str(fake)
    assert not cards["claude-code"].installed
    assert not cards["claude-code"].pointed_at_proxy
    assert set(cards) == {
        "claude-code",
        "gemini-cli",
        "codex-cli",
        "opencode",
        "qwen-code",
        "aider",
        "openai-sdk",
        "anthropic-sdk",
    }


def test_a_pre_existing_env_file_keeps_its_line_endings(tools: ToolsService, home: Path) -> None:
    env = home / ".gemini/.env"
    env.parent.mkdir()
    env.write_bytes(b"A=1\r\nGEMINI_MODEL=x\r\n")
    tools.apply("gemini-cli")
    assert env.read_bytes().startswith(b"A=1\r\nGEMINI_MODEL=demo\r\n")
    assert os.access(env, os.R_OK)


def test_a_running_proxy_picks_up_keys_created_or_revoked_elsewhere(
    tools: ToolsService, services: Services
) -> None:
    serving = build_services(services.paths)  # stands for a `serve` process
    try:
        key = tools.create_key("aider")
        assert serving.proxy.keys.identify(key) is None
        serving.tools.sync_keys()
        assert serving.proxy.keys.identify(key).name == "aider"  # type: ignore[union-attr]

        replaced = tools.create_key("aider")
        serving.tools.sync_keys()
        assert serving.proxy.keys.identify(key) is None
        assert serving.proxy.keys.identify(replaced) is not None

        tools.revoke_key("aider")
        serving.tools.sync_keys()
        assert serving.proxy.keys.identify(replaced) is None
    finally:
        serving.close()


def test_show_and_apply_agree_for_every_tool(
    tools: ToolsService, services: Services, home: Path
) -> None:
    for spec in TOOLS:
        shown = tools.show(spec.id)
        assert services.proxy.master_key() not in repr(shown)
        if not spec.can_apply:
            continue
        tools.apply(spec.id)
        for path, text in shown.files.items():
            written = Path(path).read_text()
            # Every line show offers for this file is in the file apply wrote.
            for line in text.splitlines():
                if line.strip() and line.strip() not in ("{", "}", "},"):
                    assert line.strip().rstrip(",") in written, (spec.id, path, line)
        key = tools.show(spec.id).env
        for name, value in key.items():  # the variables show offers hold the same values
            assert any(value in Path(p).read_text() for p in shown.files), (spec.id, name)
    codex = tools.show("codex-cli")
    assert codex.env == {}  # Codex reads its key from config.toml, not a variable
    (snippet,) = codex.files.values()
    provider = tomlkit.parse(snippet).unwrap()["model_providers"]["litellm-bridge"]
    assert "env_key" not in provider
    assert provider["experimental_bearer_token"].startswith("sk-bridge-")
