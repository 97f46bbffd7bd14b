"""How long `litellm-bridge serve` takes to be ready again after it was SIGKILLed, compared
with a restart after a clean stop, and where that time goes.

Each round: start `serve` on a fixed port, wait until ready, then either SIGKILL it or stop
it with SIGINT, and start it again at once on the same port. The second start is timed from
`Popen` to the first 200 from /health/readiness, and split into phases read from the lines
`serve` prints (with `-X importtime` off) and from its log file:

    process start -> "Starting the proxy"   (imports, lock, store, update check, services)
    "Starting the proxy" -> ready           (LiteLLM import and the uvicorn start)

    python benchmarks/serve_restart.py [--runs 3] [--code OTHER_CHECKOUT ...]

With ``--code``, the same rounds run interleaved for each source tree given (for example the
main branch and this one), so that both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, bench_env, free_port, machine


class Serve:
    """One `serve` process whose stdout lines are time-stamped as they arrive."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge_app", "serve", "--port", str(port)],
            env=env,
            cwd=env["PYTHONPATH"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.port = port
        self.lines: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.perf_counter() - self.t0, line.rstrip()))

    def when(self, prefix: str) -> float | None:
        return next((t for t, line in self.lines if line.startswith(prefix)), None)

    def ready(self, timeout: float = 120.0) -> float:
        url = f"http://127.0.0.1:{self.port}/health/readiness"
        with httpx.Client(timeout=2, trust_env=False) as client:
            while time.perf_counter() - self.t0 < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"serve exited with {self.proc.returncode}: {self.lines}")
                try:
                    if client.get(url).status_code == 200:
                        return time.perf_counter() - self.t0
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        raise TimeoutError(url)

    def cpu(self) -> float:
        """CPU seconds the process has used (all its threads): less sensitive to other
        load on the machine than wall time. Linux only (NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def end(self, sig: int) -> None:
        self.proc.send_signal(sig)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def round_trip(env: dict[str, str], how: str) -> dict[str, float]:
    port = free_port()
    first = Serve(env, port)
    first.ready()
    time.sleep(1.0)  # let it write its status file at least once, as a running serve does
    first.end(signal.SIGKILL if how == "kill" else signal.SIGINT)
    again = Serve(env, port)
    ready = again.ready()
    cpu = again.cpu()
    starting = again.when("Starting the proxy") or float("nan")
    again.end(signal.SIGINT)
    return {
        "to_ready_s": ready,
        "to_starting_s": starting,
        "starting_to_ready_s": ready - starting,
        "cpu_to_ready_s": cpu,
    }


def phases(env: dict[str, str]) -> dict[str, float]:
    """The parts of a start measured on their own, in fresh interpreters."""

    def timed(args: list[str]) -> float:
        t0 = time.perf_counter()
        subprocess.run(args, env=env, cwd=env["PYTHONPATH"], check=True, capture_output=True)
        return time.perf_counter() - t0

    code = "import bridge_app.proxy._server"
    return {
        "cli_version_s": timed([sys.executable, "-m", "bridge_app", "--version"]),
        "python_only_s": timed([sys.executable, "-c", "pass"]),
        "import_litellm_s": timed([sys.executable, "-c", code]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", action="append", default=[], help="a source tree to time")
    parser.add_argument("--how", default="kill,clean", help="kill, clean or both")
    args = parser.parse_args()
    print(machine(), flush=True)
    trees = [Path(c).resolve() for c in args.code] or [REPO]
    envs: dict[str, dict[str, str]] = {}
    for tree in trees:
        work = Path(tempfile.mkdtemp(prefix="bridge-restart-"))
        env = {**bench_env(work / "home"), "PYTHONPATH": str(tree)}
        subprocess.run(  # create the store and the key first: not part of a restart
            [sys.executable, "-m", "bridge_app", "proxy-key"],
            env=env, cwd=tree, check=True, capture_output=True,
        )  # fmt: skip
        envs[str(tree)] = env
    figures: dict[str, list[dict[str, float]]] = {}
    for run in range(args.runs):
        for tree, env in envs.items():
            for how in args.how.split(","):
                result = round_trip(env, how)
                if run == 0 and how == args.how.split(",")[0]:
                    result |= phases(env)
                figures.setdefault(f"{tree} {how}", []).append(result)
                said = ", ".join(f"{k}={v:.2f}" for k, v in result.items())
                print(f"run {run + 1} {tree} {how}: {said}", flush=True)
    keys = ("to_ready_s", "to_starting_s", "starting_to_ready_s", "cpu_to_ready_s")
    summary = {
        how: {
            "median": {k: round(statistics.median(r[k] for r in rows), 2) for k in keys},
            "min": {k: round(min(r[k] for r in rows), 2) for k in keys},
            "phases": {k: round(v, 2) for k, v in rows[0].items() if k not in keys},
        }
        for how, rows in figures.items()
    }
    print(json.dumps({"when": datetime.now(UTC).isoformat(), "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
