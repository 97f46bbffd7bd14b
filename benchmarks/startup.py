"""Startup times: process start -> /health/readiness for `litellm-bridge serve` and for the
standalone `litellm --config` CLI, and in-process Start -> ready with and without warm-up.

    python benchmarks/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LITELLM_CLI, REPO, bench_env, free_port, machine, stop, wait_http_ok

MOCK_CONFIG = """model_list:
  - model_name: demo
    litellm_params: {model: openai/demo, mock_response: "hi", api_key: unused}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""

# Runs in a fresh interpreter so that LiteLLM is not imported yet.
IN_PROCESS = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from bridge_app.proxy import ProxySupervisor, new_proxy_key
from bridge_app.runtime import Redactor, resource_path
sup = ProxySupervisor(config=resource_path("configs", "demo.yaml"), master_key=new_proxy_key(),
                      redactor=Redactor(), port=0)
warm = sys.argv[1] == "warm"
if warm:
    sup.warm_up()
    sup._warm.join()  # what the app does while the user looks at the login screen
    t_warm = time.perf_counter() - t0
t1 = time.perf_counter()
sup.start()
t_start = time.perf_counter() - t1
t2 = time.perf_counter()
sup.stop()
t_stop = time.perf_counter() - t2
t3 = time.perf_counter()
sup.start()
t_restart = time.perf_counter() - t3
sup.stop()
print(json.dumps({"warm_up_s": t_warm if warm else None, "start_to_ready_s": t_start,
                  "stop_s": t_stop, "second_start_s": t_restart}))
"""


def process_to_ready(cmd: list[str], env: dict[str, str], port: int) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/health/readiness", proc=proc)
        return time.perf_counter() - t0
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="bridge-startup-"))
    env = bench_env(work / "home")
    subprocess.run(  # create the store and the key first: not part of a normal start
        [sys.executable, "-m", "bridge_app", "proxy-key"],
        env=env, cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    config = work / "mock.yaml"
    config.write_text(MOCK_CONFIG)
    cli_env = {**env, "LITELLM_MASTER_KEY": "sk-bench-" + secrets.token_hex(16)}
    figures: dict[str, list[float]] = {"serve": [], "litellm_cli": [], "start_after_warm_up": []}
    figures |= {"warm_up_import": [], "start_without_warm_up": [], "second_start": []}
    for run in range(args.runs):
        port = free_port()
        serve = [sys.executable, "-m", "bridge_app", "serve", "--port", str(port)]
        figures["serve"].append(process_to_ready(serve, env, port))
        port = free_port()
        cli = [
            str(LITELLM_CLI),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        figures["litellm_cli"].append(process_to_ready(cli, cli_env, port))
        for mode in ("warm", "cold"):
            out = subprocess.run(
                [sys.executable, "-c", IN_PROCESS, mode],
                env=env, cwd=REPO, check=True, capture_output=True, text=True,
            )  # fmt: skip
            data = json.loads(out.stdout.strip().splitlines()[-1])
            if mode == "warm":
                figures["warm_up_import"].append(data["warm_up_s"])
                figures["start_after_warm_up"].append(data["start_to_ready_s"])
                figures["second_start"].append(data["second_start_s"])
            else:
                figures["start_without_warm_up"].append(data["start_to_ready_s"])
        print(f"run {run + 1}: " + ", ".join(f"{k}={v[-1]:.2f}s" for k, v in figures.items()))
    summary = {
        k: {"median_s": round(statistics.median(v), 3), "runs": [round(x, 3) for x in v]}
        for k, v in figures.items()
    }
    print(
        json.dumps(
            {"when": datetime.now(UTC).isoformat(), "machine": machine(), **summary}, indent=1
        )
    )


if __name__ == "__main__":
    main()
