"""The environment snippets people paste into their shell set exactly the values shown,
whatever characters those hold (a proxy URL with %-escapes, a key with & or !)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bridge_app.clients._snippets import shell_text
from tests.conftest import UNDER_WINE

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

NASTY = {
    "B_AMP": "a&b",
    "B_PCT": "50%",
    "B_VAR": "%PATH%",
    "B_BANG": "x!y!",
    "B_QUOTE": 'say "hi" & go',
    "B_OPS": "p|q<r>s",
    "B_PAREN": "(paren)",
    "B_CARET": "^caret^",
    "B_URL": "http://127.0.0.1:4000/v1?x=a%20b&y=1",
}


def test_cmd_lines_escape_what_cmd_would_interpret() -> None:
    cmd = shell_text(NASTY)["cmd"]
    assert "set B_AMP=a^&b\n" in cmd
    assert "set B_VAR=^%PATH^%\n" in cmd
    assert 'set B_QUOTE=say ^"hi^" ^& go\n' in cmd
    multi = shell_text({"MULTI": "one\ntwo"})["cmd"]
    assert multi == "rem MULTI holds a line break, which cmd cannot set: use PowerShell\n"


@pytest.mark.skipif(sys.platform != "win32", reason="needs the Windows Command Prompt")
@pytest.mark.skipif(UNDER_WINE, reason="Wine's cmd.exe reads no commands from a piped stdin")
def test_the_cmd_snippet_sets_exactly_these_values_in_a_real_command_prompt() -> None:
    """Pasted into cmd.exe (stdin: the interactive rules a paste meets), then read back."""
    lines = shell_text(NASTY)["cmd"] + "".join(f"set {name}\n" for name in NASTY) + "exit\n"
    done = subprocess.run(
        ["cmd.exe", "/d", "/q", "/k", "prompt $g"],
        input=lines.encode("ascii"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    seen = {}
    for line in done.stdout.decode("ascii", "replace").splitlines():
        name, sep, value = line.lstrip("> ").partition("=")
        if sep and name in NASTY:
            seen[name] = value
    assert seen == NASTY, done.stdout.decode("ascii", "replace")


def test_powershell_and_bash_quote_single_quotes() -> None:
    texts = shell_text({"Q": "it's"})
    assert texts["powershell"] == "$env:Q = 'it''s'\n"
    assert texts["bash"] == "export Q='it'\"'\"'s'\n"
