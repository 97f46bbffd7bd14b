"""Apply → the real Claude Code / Gemini CLI / Codex CLI / OpenCode (from npm, pinned in
package.json) answer through the app's proxy with only what Apply wrote (no variable of
ours, no trust switch: Gemini CLI's folder trust comes from Apply too); `tools verify` runs
the real tool and fails when it would fail; Revert → the files are exactly what they were.

The tools run with a temporary HOME, a minimal environment, telemetry and updates off, and
HTTP(S)_PROXY pointing at a closed loopback port, so anything but the proxy fails fast.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge_app.clients import ToolsService
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from bridge_app.store import tables
from tests._tools import tools_service
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BIN = Path(__file__).parent / "node_modules" / ".bin"


def tool_binary(name: str) -> Path:
    """npm's launcher for a CLI: a shell script on POSIX, a .cmd shim on Windows."""
    return BIN / (f"{name}.cmd" if sys.platform == "win32" else name)


def system_path() -> list[str]:
    if sys.platform == "win32":  # cmd.exe runs the .cmd shims
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        return [os.path.join(root, "System32"), root]
    return ["/usr/bin", "/bin"]


DEMO_REPLY = "Hello from the LiteLLM Bridge demo model"
RUN_TIMEOUT = 180

# The user's own settings before Apply: other keys the merge must keep, and the switches
# that keep each tool from calling anything but the proxy.
ORIGINALS = {
    "claude-code": {
        ".claude/settings.json": (
            "{\n"
            '  "includeCoAuthoredBy": false,\n'
            '  "env": {\n'
            '    "DISABLE_TELEMETRY": "1",\n'
            '    "DISABLE_ERROR_REPORTING": "1"\n'
            "  },\n"
            '  "permissions": {"allow": ["Bash(ls:*)"]}\n'
            "}\n"
        ),
    },
    "gemini-cli": {
        ".gemini/settings.json": (
            "{\n"
            '    "privacy": {"usageStatisticsEnabled": false},\n'
            '    "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false},\n'
            '    "ui": {"hideTips": true}\n'
            "}\n"
        ),
        ".gemini/.env": "# my own variables\nSOME_OTHER_VAR=kept\n",
    },
    "codex-cli": {
        ".codex/config.toml": (
            "# my codex settings\n"
            'approval_policy = "never"  # I run it in CI\n'
            "check_for_update_on_startup = false\n"
            "\n"
            "[analytics]\n"
            "enabled = false\n"
            "\n"
            "[feedback]\n"
            "enabled = false\n"
        ),
    },
    "opencode": {
        ".config/opencode/opencode.json": (
            "{\n"
            '  "$schema": "https://opencode.ai/config.json",\n'
            '  "autoupdate": false,\n'
            '  "share": "disabled"\n'
            "}\n"
        ),
    },
}

COMMANDS = {
    "claude-code": ["claude", "-p", "say hi"],
    "gemini-cli": ["gemini", "-p", "say hi"],
    "codex-cli": [
        "codex",
        "exec",
        "--skip-git-repo-check",
        "--sandbox",
        "read-only",
        "--color",
        "never",
        "say hi",
    ],
    "opencode": ["opencode", "run", "say hi"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    home = tmp_path_factory.mktemp("bridge-home")
    built = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    built.proxy.supervisor(port=free_port()).start()
    yield built
    built.close()


def tool_env(home: Path) -> dict[str, str]:
    node = shutil.which("node")
    assert node, "node is needed to run the CLI tools"
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: any other call fails fast
    return {
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "PATH": os.pathsep.join([str(BIN), str(Path(node).parent), *system_path()]),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "CI": "1",
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "NO_PROXY": "127.0.0.1,localhost,::1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "GEMINI_CLI_NO_RELAUNCH": "true",
        "GEMINI_TELEMETRY_ENABLED": "false",
        # Windows: what node, npm shims and cmd.exe need to start at all.
        **{
            name: os.environ[name]
            for name in ("SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR", "TEMP", "TMP")
            if sys.platform == "win32" and name in os.environ
        },
        **(
            {"APPDATA": str(home / "AppData/Roaming"), "LOCALAPPDATA": str(home / "AppData/Local")}
            if sys.platform == "win32"
            else {}
        ),
    }


def seed_home(home: Path, tool: str) -> None:
    """The tool's own config files as a person has them before Apply."""
    for rel, text in ORIGINALS[tool].items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)


def tools_at(services: Services, home: Path, tool: str, *, environ: bool = True) -> ToolsService:
    """A ToolsService over ``services`` that finds the tools from npm and writes their
    config under ``home`` (seeded with the tool's originals)."""
    seed_home(home, tool)
    return tools_service(
        services,
        home,
        search_path=str(BIN),
        # where the tools look (XDG_CONFIG_HOME...) is where they run
        environ=tool_env(home) if environ else None,
    )


def run_cli(tool: str, home: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """One non-interactive run of the real CLI from ``work``, with only ``home``'s config."""
    command = COMMANDS[tool]
    return subprocess.run(
        [str(tool_binary(command[0])), *command[1:]],
        env=tool_env(home),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_tool(
    tool: str, home: Path, work: Path, redactor: Redactor
) -> subprocess.CompletedProcess[str]:
    """run_cli that fails the test (output redacted) unless the tool exits 0."""
    done = run_cli(tool, home, work)
    assert done.returncode == 0, redactor.redact(done.stdout + done.stderr)[-3000:]
    return done


@pytest.mark.parametrize("tool", list(COMMANDS))
def test_real_cli_answers_through_the_proxy_after_apply_and_revert_restores(
    services: Services, tmp_path: Path, tool: str
) -> None:
    command = COMMANDS[tool]
    if not tool_binary(command[0]).exists():
        pytest.fail(f"{command[0]} is not installed in tests/e2e/node_modules")
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    tools = tools_at(services, home, tool)
    card = tools.card(tool)
    assert card.installed and card.version and not card.pointed_at_proxy

    # Apply gives the tool its own key (usage rows name the tool) and, for Gemini CLI,
    # trusts the work folder: nothing else is set up for the run below.
    assert tools.apply(tool, folder=str(work)).done
    assert tools.card(tool).pointed_at_proxy and tools.card(tool).has_own_key
    master = services.proxy.master_key()
    for rel in ORIGINALS[tool]:
        assert master not in (home / rel).read_text()

    done = run_tool(tool, home, work, services.redactor)
    assert DEMO_REPLY in done.stdout, services.redactor.redact(done.stdout)[-3000:]

    # `tools verify` runs the installed tool itself, the same way.
    verified = tools.verify(tool, env=tool_env(home))
    assert verified.ok and verified.ran_tool, verified.reason
    assert DEMO_REPLY in verified.reply

    def clients() -> set[str | None]:
        services.proxy.usage.flush()
        with services.db.reading() as conn:
            return set(conn.execute(select(tables["usage_records"].c.client)).scalars())

    assert tool in wait_for(lambda: tool in clients() and clients(), timeout=10)

    result = tools.revert(tool)  # no conflict: running the tool did not touch our files
    assert result.done, [c.diff for c in result.conflicts]
    for rel, text in ORIGINALS[tool].items():
        assert (home / rel).read_bytes() == text.encode(), rel
    for path in tools.card(tool).config_files:
        rel = str(Path(path).relative_to(home))
        assert Path(path).exists() == (rel in ORIGINALS[tool])


def test_verify_fails_when_the_real_gemini_cli_would_fail(
    services: Services, tmp_path: Path
) -> None:
    # What an older Apply wrote (no folder trust): the synthetic request works, the tool
    # does not — verify must say what the tool says.
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    tools = tools_at(services, home, "gemini-cli", environ=False)
    assert tools.apply("gemini-cli", folder=str(work)).done
    (home / ".gemini" / "trustedFolders.json").unlink()
    result = tools.verify("gemini-cli", env=tool_env(home))
    assert result.ran_tool and not result.ok
    assert "gemini -p" in result.reason
    assert "GEMINI_API_KEY" in result.reason or "trust" in result.reason.lower(), result.reason
