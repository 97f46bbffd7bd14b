"""Shared helpers for the benchmarks (loopback only; nothing here is imported by the app)."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
LITELLM_CLI = Path(sys.executable).with_name("litellm")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http_ok(
    url: str, timeout: float = 120.0, proc: subprocess.Popen[bytes] | None = None
) -> float:
    """Seconds until ``url`` answers 200 (polling every 20 ms)."""
    t0 = time.perf_counter()
    with httpx.Client(timeout=2, trust_env=False) as client:
        while time.perf_counter() - t0 < timeout:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
            try:
                if client.get(url).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    raise TimeoutError(url)


def bench_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env.pop("DISPLAY", None)
    return env


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load:.1f} at start"
    )


def stop(proc: subprocess.Popen[bytes], sig: int | None = None) -> None:
    import signal

    if proc.poll() is None:
        proc.send_signal(sig or signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
