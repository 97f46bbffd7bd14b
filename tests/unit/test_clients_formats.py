"""Merging the app's keys into a tool's config keeps everything else the user had."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomlkit

from bridge_app.clients import ConfigFileError
from bridge_app.clients._formats import (
    merge_dotenv,
    merge_json,
    merge_toml,
    merge_yaml,
    read_dotenv,
    read_yaml,
)

P = Path("/home/u/config")

CLAUDE_SETTINGS = """{
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "permissions": {
        "allow": ["Bash(npm run lint)", "Read(~/.zshrc)"],
        "deny": ["Read(./.env)"]
    },
    "env": {
        "HTTPS_PROXY": "http://proxy.corp:8080",
        "ANTHROPIC_MODEL": "old-model"
    },
    "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": []}]},
    "includeCoAuthoredBy": false,
    "theme": "dark"
}
"""


def test_json_merge_keeps_other_keys_their_order_and_the_indent() -> None:
    out = merge_json(
        P,
        CLAUDE_SETTINGS,
        {("env", "ANTHROPIC_MODEL"): "demo", ("env", "ANTHROPIC_BASE_URL"): "http://x"},
    )
    data = json.loads(out)
    assert list(data) == ["$schema", "permissions", "env", "hooks", "includeCoAuthoredBy", "theme"]
    assert data["permissions"] == json.loads(CLAUDE_SETTINGS)["permissions"]
    assert data["env"] == {
        "HTTPS_PROXY": "http://proxy.corp:8080",
        "ANTHROPIC_MODEL": "demo",
        "ANTHROPIC_BASE_URL": "http://x",
    }
    assert '\n    "permissions"' in out  # 4-space indent kept
    assert out.endswith("}\n")


def test_json_merge_creates_nested_objects_in_an_empty_file() -> None:
    out = merge_json(P, None, {("security", "auth", "selectedType"): "gemini-api-key"})
    assert json.loads(out) == {"security": {"auth": {"selectedType": "gemini-api-key"}}}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"a": 1,,}', "not valid JSON (line 1"),
        ("[1, 2]", "top level must be an object"),
        ('{"env": "oops"}', "'env' must be an object"),
        # Python keeps the last of two equal keys: the first env block would be lost.
        ('{"env": {"A": "1"}, "env": {"B": "2"}}', "the key 'env' appears twice"),
    ],
)
def test_json_merge_refuses_what_it_cannot_merge_safely(text: str, words: str) -> None:
    with pytest.raises(ConfigFileError) as err:
        merge_json(P, text, {("env", "X"): "1"})
    assert words in str(err.value)
    assert "nothing was changed" in str(err.value)


CODEX_CONFIG = """# Codex settings, maintained by hand
model = "gpt-5"  # my favourite
approval_policy = "on-request"

# projects I trust
[projects."/home/u/work"]
trust_level = "trusted"

[model_providers.other]  # a provider of mine
name = "Other"
base_url = "https://other.example/v1"

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"]
"""


def test_toml_merge_keeps_comments_tables_and_order() -> None:
    out = merge_toml(
        P,
        CODEX_CONFIG,
        {
            ("model",): "demo",
            ("model_provider",): "litellm-bridge",
            ("model_providers", "litellm-bridge", "base_url"): "http://127.0.0.1:4000/v1",
            ("model_providers", "litellm-bridge", "wire_api"): "responses",
        },
    )
    for line in (
        "# Codex settings, maintained by hand",
        "# projects I trust",
        "[model_providers.other]  # a provider of mine",
        'args = ["-y", "docs-mcp"]',
        'approval_policy = "on-request"',
    ):
        assert line in out
    data = tomlkit.parse(out).unwrap()
    assert data["model"] == "demo"
    assert data["model_provider"] == "litellm-bridge"  # top level, not inside a table
    assert data["model_providers"]["other"]["name"] == "Other"
    assert data["model_providers"]["litellm-bridge"]["wire_api"] == "responses"
    assert data["mcp_servers"]["docs"]["command"] == "npx"
    assert out.index("[projects.") < out.index("[model_providers.other]") < out.index("[mcp")


def test_toml_merge_refuses_invalid_toml() -> None:
    with pytest.raises(ConfigFileError, match="not valid TOML"):
        merge_toml(P, 'model = "a\n[broken', {("model",): "demo"})


ENV_FILE = (
    "# my gemini env\n"
    "export GEMINI_API_KEY=old-key\n"
    'OTHER_TOOL_TOKEN="keep me"   \n'
    "\n"
    "GEMINI_MODEL=gemini-2.5-pro\n"
)


def test_dotenv_merge_changes_only_owned_lines() -> None:
    out = merge_dotenv(
        P,
        ENV_FILE,
        {
            ("GEMINI_API_KEY",): "sk-new",
            ("GEMINI_MODEL",): "demo",
            ("GOOGLE_GEMINI_BASE_URL",): "u",
        },
    )
    assert out == (
        "# my gemini env\n"
        "export GEMINI_API_KEY=sk-new\n"
        'OTHER_TOOL_TOKEN="keep me"   \n'
        "\n"
        "GEMINI_MODEL=demo\n"
        "GOOGLE_GEMINI_BASE_URL=u\n"
    )
    assert read_dotenv(out)["OTHER_TOOL_TOKEN"] == "keep me"


def test_dotenv_values_with_spaces_are_quoted_and_read_back() -> None:
    out = merge_dotenv(P, "A=1", {("B",): 'has "quotes" and spaces'})
    assert out.startswith("A=1\n")
    assert read_dotenv(out)["B"] == 'has "quotes" and spaces'


AIDER_CONF = """# aider settings
dark-mode: true   # easier on the eyes
model: gpt-4o
read:
  - CONVENTIONS.md
"""


def test_yaml_merge_keeps_comments() -> None:
    out = merge_yaml(P, AIDER_CONF, {("model",): "openai/demo", ("openai-api-key",): "k"})
    assert "# aider settings" in out
    assert "dark-mode: true   # easier on the eyes" in out
    assert read_yaml(out)["model"] == "openai/demo"
    assert list(read_yaml(out)) == ["dark-mode", "model", "read", "openai-api-key"]
