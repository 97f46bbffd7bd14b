"""`serve` in its own process on a data folder, and one-off CLI commands beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import UNDER_WINE

REPO = Path(__file__).resolve().parents[2]
ADMIN = "root"
ADMIN_PW = "Admin-Password-42!"


# Windows: Ctrl+Break (SIGBREAK) is the stop key that reaches a console program started in
# its own process group; send_signal(SIGINT) is not supported there.
NEW_GROUP = subprocess.CREATE_NEW_PROCESS_GROUP if sys.platform == "win32" else 0


def interrupt(proc: subprocess.Popen[str]) -> None:
    """Ctrl+C for a `serve` started with ``creationflags=NEW_GROUP``. Wine delivers no
    console control event (GenerateConsoleCtrlEvent fails): there the process is ended,
    and tests of the stop itself skip (the Windows leg stops `serve` with a real Ctrl+C
    from Linux, tests/windows/)."""
    if UNDER_WINE:
        proc.terminate()
    else:
        proc.send_signal(signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGINT)


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.setdefault("BRIDGE_POLICY_FILE", str(home / "no-machine-policy.yaml"))
    env.update(extra)
    return env


def cli(
    home: Path, *args: str, stdin: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        env=env_for(home, **extra),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def create_admin(home: Path) -> None:
    made = cli(home, "user", "create", ADMIN, "--admin", "--password-stdin", stdin=f"{ADMIN_PW}\n")
    assert made.returncode == 0, made.stderr


def as_admin(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return cli(home, *args, "--as", ADMIN, "--password-stdin", stdin=f"{ADMIN_PW}\n", **extra)


class Serve:
    def __init__(
        self, home: Path, port: int, *args: str, stdin: str | None = None, **extra: str
    ) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge_app", "serve", "--port", str(port), *args],
            env=env_for(home, **extra),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            creationflags=NEW_GROUP,
        )
        if stdin is not None and self.proc.stdin is not None:
            self.proc.stdin.write(stdin)
            self.proc.stdin.flush()
        self.lines = self._until_ready()
        assert any(ln.startswith("Press Ctrl+C") for ln in self.lines), (
            self.lines,
            self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else "",
        )

    def _until_ready(self) -> list[str]:
        assert self.proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        return lines

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            interrupt(self.proc)
        try:
            out, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return out, err


def wait_until(predicate, timeout: float = 20.0, step: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
