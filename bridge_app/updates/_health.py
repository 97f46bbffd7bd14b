"""The health check a pending update passes before the switch: its own `doctor`, its own
`serve` until the proxy is ready, and one demo request through it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HEALTH_CHECK_ENV = "BRIDGE_UPDATE_HEALTH_CHECK"  # set for the version being checked
# The windowed build runs the console one for the check: without this, each of its
# commands flashed a console window on the screen.
if sys.platform == "win32":
    _NO_WINDOW = subprocess.CREATE_NO_WINDOW
else:
    _NO_WINDOW = 0


def health_check(executable: Path, timeout_s: float) -> str | None:
    """`doctor`, then `serve` until the proxy is ready, then one demo request; None when
    all passed, else what failed."""
    if not executable.exists():
        return f"{executable} is missing"
    # The same data folder (BRIDGE_HOME) as this app; the version under test must not
    # start a health check of the pending update (itself) in turn.
    env = {**os.environ, HEALTH_CHECK_ENV: "1"}
    try:
        doctor = subprocess.run(
            [str(executable), "doctor", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            creationflags=_NO_WINDOW,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"doctor could not run: {exc}"
    if doctor.returncode != 0:
        return f"doctor failed (exit {doctor.returncode}): {_doctor_failures(doctor)[:300]}"
    return _serve_check(executable, env, timeout_s)


def _doctor_failures(doctor: subprocess.CompletedProcess[str]) -> str:
    """What the version under test's doctor found wrong: its failed checks by name (its
    --json report), else its last line of output."""
    try:
        report = json.loads(doctor.stdout)
        failed = [c for c in report["checks"] if c.get("status") == "fail"]
    except (ValueError, KeyError, TypeError, AttributeError):
        failed = []
    if failed:
        return "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in failed)
    last = (doctor.stderr or doctor.stdout).strip().splitlines()[-1:] or ["no output"]
    return last[0]


def _serve_check(executable: Path, env: dict[str, str], timeout_s: float) -> str | None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    # Its output goes to a file: a pipe nobody reads while waiting would fill and stall it.
    errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115
    serve = subprocess.Popen(
        [str(executable), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        text=True,
        creationflags=_NO_WINDOW,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=10, trust_env=False) as client:
            while True:
                if serve.poll() is not None:
                    errors.seek(0)
                    err = errors.read().strip()
                    return f"serve ended (exit {serve.returncode}): {err[-300:]}"
                try:
                    if client.get(f"{url}/health/readiness").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    errors.seek(0)
                    tail = errors.read().strip().splitlines()[-1:] or ["no output"]
                    return f"the proxy was not ready within {timeout_s:g} s ({tail[0][:300]})"
                time.sleep(0.2)
            printed = subprocess.run(
                [str(executable), "proxy-key"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                creationflags=_NO_WINDOW,
            )
            key = printed.stdout.strip()
            if printed.returncode != 0 or not key:
                said = (printed.stderr or printed.stdout).strip().splitlines()[-1:] or ["nothing"]
                return f"proxy-key gave no key (exit {printed.returncode}): {said[0][:300]}"
            response = client.post(
                f"{url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={"model": "demo", "messages": [{"role": "user", "content": "health"}]},
                timeout=60,
            )
            if response.status_code != 200:
                return f"the demo request answered HTTP {response.status_code}"
    except (OSError, httpx.HTTPError, subprocess.TimeoutExpired) as exc:
        return f"the health check failed: {exc}"
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGINT if os.name != "nt" else signal.SIGTERM)
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait(10)
        errors.close()
    return None
