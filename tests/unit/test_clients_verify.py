"""`tools verify` reaches the loopback proxy directly, whatever the system proxy says, and
stops a tool that hangs together with everything it started."""

from __future__ import annotations

import os
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from bridge_app.clients._model import Target
from bridge_app.clients._registry import tool_spec
from bridge_app.clients._verify import run_headless, verify
from bridge_app.devtools import LoopbackServer
from bridge_app.runtime import Redactor, pid_alive

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


class ChatProxy(LoopbackServer):
    """Stands where the app's proxy listens: answers one chat completion."""

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.read_body(handler)
        body = {"choices": [{"message": {"role": "assistant", "content": "pong"}}]}
        self.send(handler, 200, body)


class CorporateProxy(LoopbackServer):
    """An HTTP proxy from HTTP_PROXY: records what it is sent, answers 502."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.seen.append(f"{method} {handler.path} {handler.headers.get('Authorization')}")
        self.send(handler, 502, {"error": "proxy says no"})


def test_verify_ignores_http_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatProxy() as proxy, CorporateProxy() as corporate:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, corporate.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        target = Target(proxy_url=proxy.url, key="sk-bridge-loopback-key-1234", model="demo")
        result = verify("claude", "chat", target, redactor=Redactor(), timeout=10)
    assert result.ok, result.reason
    assert result.reply == "pong"
    assert corporate.seen == []  # the key never went to the corporate proxy


def test_a_tool_that_hangs_is_stopped_with_everything_it_started(tmp_path: Path) -> None:
    """An npm tool is a shim (cmd.exe on Windows) that starts node, which may start more;
    each of them holds the output pipe. After the timeout the whole tree is killed and the
    person gets an answer, instead of `tools verify` waiting for the grandchild."""
    pid_file = tmp_path / "grandchild.pid"
    grandchild = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    )
    child = tmp_path / "child.py"
    child.write_text(
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {grandchild!r}])\n"
        "time.sleep(120)\n",
        encoding="utf-8",
    )
    if sys.platform == "win32":
        binary = tmp_path / "fake-tool.cmd"
        binary.write_text(f'@"{sys.executable}" "{child}" %*\r\n', encoding="utf-8")
    else:
        binary = tmp_path / "fake-tool"
        binary.write_text(f"#!/bin/sh\n'{sys.executable}' '{child}' \"$@\"\n", "utf-8")
        binary.chmod(0o755)
    target = Target(proxy_url="http://127.0.0.1:9", key="sk-bridge-k", model="demo")
    started = time.monotonic()
    result = run_headless(
        tool_spec("claude-code"),
        str(binary),
        target,
        redactor=Redactor(),
        env=dict(os.environ),
        home=None,
        timeout=3,
    )
    assert time.monotonic() - started < 30
    assert not result.ok and "did not finish within 3 s" in result.reason
    for _ in range(100):  # the grandchild wrote its pid before the kill
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    grandchild_pid = int(pid_file.read_text())
    for _ in range(50):
        if not pid_alive(grandchild_pid):
            break
        time.sleep(0.1)
    assert not pid_alive(grandchild_pid), "the tool's grandchild still runs"
