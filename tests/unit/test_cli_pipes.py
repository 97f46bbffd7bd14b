"""Every command group in a pipe that closes early (`litellm-bridge status | head -1`): the
command ends quietly, never with a traceback or "internal error", and a change it makes is
made whole (issue 26, item 8). Real processes, a real pipe whose reader is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

from bridge_app.cli._app import cli as root_command
from tests.unit.test_cli_env_tokens import ADMIN_PW, cli

pytestmark = [pytest.mark.slow, pytest.mark.windows]  # real processes; Windows says EINVAL

AS_ROOT = ("--as", "root", "--password-stdin")

# One command per group that prints something worth piping, as a person would run it.
PRINTING: list[tuple[str, ...]] = [
    ("status",),
    ("status", "--json"),
    ("doctor",),
    ("logs",),
    ("proxy-key",),
    ("user", "list", *AS_ROOT),
    ("audit", "list", *AS_ROOT),
    ("audit", "verify"),
    ("env", "list", *AS_ROOT),
    ("env", "check"),
    ("config", "show"),
    ("config", "history"),
    ("config", "templates"),
    ("config", "new", "--template", "demo"),
    ("settings", "list"),
    ("token", "status", *AS_ROOT),
    ("token", "project", "list", *AS_ROOT),
    ("tools", "list"),
    ("tools", "show", "claude-code"),
    ("remote", "list"),
    ("models", "list"),
    ("models", "status"),
    ("diagnostics", "show"),
    ("update", "status"),
    ("policy", "example"),
    ("policy", "show"),
]


def _groups() -> list[tuple[str, ...]]:
    """Every command group's help, and the top level's."""
    found: list[tuple[str, ...]] = [()]

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found.append((*path, name))
                walk(command, (*path, name))

    walk(root_command, ())
    return found


def _closed_pipe(
    home: Path, args: tuple[str, ...], stdin: str = f"{ADMIN_PW}\n"
) -> tuple[int, str]:
    """Run with standard output a pipe whose reader has gone before anything is written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", *args],
        env={**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    try:
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the command did not read it
    err = proc.stderr.read().decode(errors="replace")
    return proc.wait(timeout=120), err


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("pipes") / "home"
    made = cli(home, "user", "create", "root", "--admin", "--password-stdin", stdin=f"{ADMIN_PW}\n")
    assert made.returncode == 0, made.stderr
    return home


def test_every_group_and_printing_command_ends_quietly_in_a_closed_pipe(home: Path) -> None:
    runs = [(*group, "--help") for group in _groups()] + PRINTING
    assert len(runs) >= 40
    if sys.platform == "win32":  # each start costs seconds under Wine: both paths, sampled
        runs = runs[::5]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda args: (args, *_closed_pipe(home, args)), runs))
    noisy = [
        f"{' '.join(args)} -> {code}: {err.strip()[-300:]}"
        for args, code, err in results
        if "Traceback" in err or "internal error" in err or "Exception ignored" in err
    ]
    assert noisy == [], "\n".join(noisy)
    # Help and output that never reached a reader is not success.
    assert all(code != 0 for args, code, _ in results if "--help" in args), results


def test_a_change_in_a_closed_pipe_is_made_whole_and_said_quietly(home: Path) -> None:
    code, err = _closed_pipe(
        home,
        ("env", "set", "PIPE_CHECK", "--shared", "--value-stdin", *AS_ROOT),
        stdin=f"{ADMIN_PW}\non\n",
    )
    assert "Traceback" not in err and "internal error" not in err, err
    assert code == 1  # the confirmation never reached anyone
    listed = cli(home, "env", "list", *AS_ROOT, stdin=f"{ADMIN_PW}\n")
    assert "PIPE_CHECK" in listed.stdout
    events = cli(home, "audit", "list", *AS_ROOT, stdin=f"{ADMIN_PW}\n")
    assert "env.set" in events.stdout
