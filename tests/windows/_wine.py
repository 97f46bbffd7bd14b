"""Driving the Windows build under Wine from the Linux test run, as a person would from a
terminal: every command goes through scripts/windows.sh (or its --exe mode for a packaged
build), whose output is what the person reads."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WINDOWS_SH = REPO / "scripts" / "windows.sh"
ADMIN, ADMIN_PW = "root", "Admin-Password-42!"


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"}
    env.update(extra)
    return env


def wine(
    home: Path,
    *args: str,
    stdin: str | None = None,
    exe: Sequence[str] = (),
    timeout: float = 300,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    """``litellm-bridge ARGS`` of the Windows build (the checkout; ``exe=("--exe", DIR)``:
    a packaged build)."""
    return subprocess.run(
        ["bash", str(WINDOWS_SH), *exe, *args],
        env=env_for(home, **extra),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class WineServe:
    """`serve` of the Windows build in the background; ``stop()`` is Ctrl+C."""

    def __init__(
        self, home: Path, port: int, *, exe: Sequence[str] = (), ready_timeout: float = 300
    ) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["bash", str(WINDOWS_SH), *exe, "serve", "--port", str(port)],
            env=env_for(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + ready_timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        self.ready_s = time.monotonic() - self.started
        if not any(line.startswith("Press Ctrl+C") for line in self.lines):
            out, err = self.stop()
            raise AssertionError(f"serve did not become ready: {self.lines}{out}\n{err[-3000:]}")

    def stop(self, timeout: float = 60) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # windows.sh: Ctrl+C for the program
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return out, err
