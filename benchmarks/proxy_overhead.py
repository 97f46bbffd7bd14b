"""Latency and throughput the proxy adds, standalone LiteLLM CLI vs `litellm-bridge serve`.

Three targets get the same chat-completion requests (streaming and not, 1 and 32
concurrent clients): (a) a local upstream that answers instantly, (b) the standalone
`litellm --config` CLI of the installed version in front of it, (c) `litellm-bridge serve`
with the same config. Everything runs on 127.0.0.1. Usage:

    python benchmarks/proxy_overhead.py [--requests 300] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LITELLM_CLI, REPO, bench_env, free_port, machine, stop, wait_http_ok

CASES = [(1, False), (1, True), (32, False), (32, True)]


def config_text(upstream_port: int) -> str:
    return (
        "model_list:\n"
        "  - model_name: fast\n"
        "    litellm_params:\n"
        "      model: openai/fast\n"
        f"      api_base: http://127.0.0.1:{upstream_port}/v1\n"
        "      api_key: os.environ/BENCH_UPSTREAM_KEY\n"
        "general_settings:\n"
        "  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )


async def run_case(
    url: str, key: str, concurrency: int, stream: bool, total: int
) -> dict[str, Any]:
    body = {"model": "fast", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as client:

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            async with client.stream("POST", url, json=body, headers=headers) as response:
                await response.aread()
                if response.status_code != 200:
                    errors += 1
            latencies.append((time.perf_counter() - t0) * 1000)

        for _ in range(20):  # warm-up, not measured
            await one()
        latencies.clear()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(total):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await one()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "rps": round(total / wall, 1),
        "errors": errors,
    }


def measure(name: str, url: str, key: str, total: int) -> dict[str, Any]:
    out = {}
    for concurrency, stream in CASES:
        label = f"c{concurrency}-{'stream' if stream else 'plain'}"
        out[label] = asyncio.run(run_case(url, key, concurrency, stream, total))
        print(f"  {name:<8} {label:<14} {out[label]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(machine(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_fast_upstream.py")), str(up_port)]
    )
    results: dict[str, list[dict[str, Any]]] = {"direct": [], "litellm": [], "bridge": []}
    try:
        wait_http_ok(f"http://127.0.0.1:{up_port}/v1/models", proc=upstream)  # any path: 200
        config = work / "config.yaml"
        config.write_text(config_text(up_port))
        home = work / "home"
        env = {**bench_env(home), "BENCH_UPSTREAM_KEY": "sk-upstream-" + secrets.token_hex(8)}
        (home / "config" / "litellm").mkdir(parents=True)
        (home / "config" / "litellm" / "config.yaml").write_text(config_text(up_port))
        bridge_key = subprocess.run(
            [sys.executable, "-m", "bridge_app", "proxy-key"],
            env=env, capture_output=True, text=True, check=True, cwd=REPO,
        ).stdout.strip()  # fmt: skip
        cli_key = "sk-bench-" + secrets.token_hex(16)
        for round_no in range(args.rounds):
            print(f"round {round_no + 1}", flush=True)
            results["direct"].append(
                measure(
                    "direct", f"http://127.0.0.1:{up_port}/v1/chat/completions", "x", args.requests
                )
            )
            port = free_port()
            cli = [str(LITELLM_CLI), "--config", str(config), "--host", "127.0.0.1"]
            proc = subprocess.Popen(
                [*cli, "--port", str(port)],
                env={**env, "LITELLM_MASTER_KEY": cli_key},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                wait_http_ok(f"http://127.0.0.1:{port}/health/readiness", proc=proc)
                url = f"http://127.0.0.1:{port}/v1/chat/completions"
                results["litellm"].append(measure("litellm", url, cli_key, args.requests))
            finally:
                stop(proc)
            port = free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "bridge_app", "serve", "--port", str(port)],
                env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                wait_http_ok(f"http://127.0.0.1:{port}/health/readiness", proc=proc)
                url = f"http://127.0.0.1:{port}/v1/chat/completions"
                results["bridge"].append(measure("bridge", url, bridge_key, args.requests))
            finally:
                stop(proc)
    finally:
        stop(upstream)
    summary = summarise(results)
    print(
        json.dumps(
            {"when": datetime.now(UTC).isoformat(), "machine": machine(), **summary}, indent=1
        )
    )


def summarise(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Best round per target and case (least disturbed by the shared machine)."""
    table: dict[str, Any] = {}
    for case in results["direct"][0]:
        best = {
            name: min((r[case] for r in rounds), key=lambda x: x["p50_ms"])
            for name, rounds in results.items()
        }
        direct, cli, bridge = best["direct"], best["litellm"], best["bridge"]
        table[case] = {
            "direct": direct,
            "litellm_cli": cli,
            "bridge": bridge,
            "added_p50_ms": {
                "litellm_cli": round(cli["p50_ms"] - direct["p50_ms"], 2),
                "bridge": round(bridge["p50_ms"] - direct["p50_ms"], 2),
            },
            "added_p95_ms": {
                "litellm_cli": round(cli["p95_ms"] - direct["p95_ms"], 2),
                "bridge": round(bridge["p95_ms"] - direct["p95_ms"], 2),
            },
            "ratio_bridge_over_cli_p50": round(bridge["p50_ms"] / cli["p50_ms"], 3),
            "ratio_cli_over_bridge_rps": round(cli["rps"] / bridge["rps"], 3),
        }
    return table


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    main()
