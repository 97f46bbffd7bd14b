"""`status` from another process tells the truth about a frozen or vanished `serve`, and
the next start records that the previous one ended uncleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration._upstream import free_port
from tests.integration.conftest import wait_for
from tests.integration.test_proxy_cli import REPO, _cli, _env, _until_ready

pytestmark = [pytest.mark.integration, pytest.mark.skipif(os.name == "nt", reason="SIGSTOP")]
PASSWORD = "Admin-Password-42!"
_BRIDGE = (sys.executable, "-m", "bridge_app")
_AS_ROOT = ("--as", "root", "--password-stdin")


def _serve(home: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )


def _status(home: Path) -> dict[str, object]:
    return dict(json.loads(_cli(home, "status", "--json").stdout))


def test_frozen_then_killed_serve_and_the_unclean_shutdown_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = subprocess.run(
        [*_BRIDGE, "user", "create", "root", "--admin", "--password-stdin"],
        input=f"{PASSWORD}\n",
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert made.returncode == 0, made.stderr
    port = free_port()
    serve = _serve(home, port)
    try:
        assert any(ln.startswith("Press Ctrl+C") for ln in _until_ready(serve))
        assert _status(home)["state"] == "running"
        os.kill(serve.pid, signal.SIGSTOP)
        try:
            assert wait_for(lambda: _status(home)["state"] == "degraded", 30)
            text = _cli(home, "status").stdout
            assert "degraded: not answering" in text
            assert f"pid {serve.pid}" in text
        finally:
            os.kill(serve.pid, signal.SIGCONT)
        assert wait_for(lambda: _status(home)["state"] == "running", 30)
        serve.kill()  # SIGKILL: no chance to say goodbye
        serve.wait(30)
        gone = _status(home)
        assert gone["state"] == "stopped"
        assert str(gone["last_error"]).startswith(f"gone: the serving process (pid {serve.pid})")
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(30)

    again = _serve(home, port)
    try:
        assert any(ln.startswith("Press Ctrl+C") for ln in _until_ready(again))
        again.send_signal(signal.SIGINT)
        again.wait(60)
    finally:
        if again.poll() is None:
            again.kill()
            again.wait(30)
    listed = subprocess.run(
        [*_BRIDGE, "audit", "list", "--action", "proxy.unclean_shutdown", *_AS_ROOT],
        input=f"{PASSWORD}\n",
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert listed.returncode == 0, listed.stderr
    assert "proxy.unclean_shutdown" in listed.stdout
    assert f"pid {serve.pid}" in listed.stdout
    # A clean stop is not reported as unclean the next time.
    time.sleep(0.1)
    assert _status(home)["state"] == "stopped"
