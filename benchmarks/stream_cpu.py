"""CPU per streamed chunk: direct vs standalone LiteLLM (old and current) vs the bridge.

An agent streams 50-100 chunks a second for minutes; what each chunk costs the proxy's
process is what a laptop running a few agents feels. Targets, all up at the same time on
127.0.0.1 and measured interleaved (the order rotates every round):

* ``direct``      the streaming upstream itself (``_stream_upstream.py``)
* ``litellm``     the standalone ``litellm --config`` CLI of this environment
* ``litellm-old`` the same CLI from another environment (``--old-litellm PATH``, e.g. a venv
  with litellm 1.106.2), when given
* ``bridge``      ``litellm-bridge serve --as root`` with the internal-enterprise template:
  a user logged in to a fake IAM, the token and project injected into every request, usage
  recorded

Each case sends ``--streams`` streamed chat completions of ``--chunks`` chunks per client
from 1 and 8 concurrent clients, and reads the target process's CPU time (user + system,
/proc) before and after: CPU ms per chunk = CPU used / chunks the clients received.

``--soak SECONDS`` instead streams through the bridge from 8 clients without pause for that
long and reports stalls (a gap of more than ``--stall`` seconds between two chunks, or a
read timeout); ``--burn N`` starts N busy processes first (load average above 8 with N=8
on 2 cores). Usage:

    python benchmarks/stream_cpu.py --old-litellm /path/to/venv-1106/bin/litellm
    python benchmarks/stream_cpu.py --soak 300 --burn 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
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
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LITELLM_CLI, REPO, bench_env, free_port, machine, stop, wait_http_ok
from agent_traffic import Target, _prepare_bridge_home, _start_serve, process_cpu_s

#: one of the upstream's words (each of its chunks carries one)
_WORD = re.compile(r" t[0-9]\b")


def configs(upstream: str, chunks: int | str) -> tuple[str, str]:
    """(bridge config with placeholders, standalone config with static values)."""
    template = yaml.safe_load((REPO / "configs" / "internal-enterprise.yaml").read_text())
    entry = template["model_list"][0]
    entry["model_name"] = "stream"
    entry["litellm_params"]["api_base"] = f"{upstream}/{chunks}/v1"
    bridge = {**template, "model_list": [entry]}
    standalone = json.loads(json.dumps(bridge))
    standalone["model_list"][0]["litellm_params"]["extra_body"] = {
        "internal_token": "os.environ/BENCH_INTERNAL_TOKEN",
        "project_id": "P-1",
        "project_name": "Bench",
    }
    return yaml.safe_dump(bridge, sort_keys=False), yaml.safe_dump(standalone, sort_keys=False)


def start(
    work: Path, chunks: int | str, old_litellm: str | None, started: list[Target]
) -> list[Target]:
    up_port = free_port()
    up = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_stream_upstream.py")), str(up_port)]
    )
    direct = Target("direct", f"http://127.0.0.1:{up_port}", "x", up)
    started.append(direct)
    wait_http_ok(f"{direct.base}/health", proc=up)
    bridge_cfg, standalone_cfg = configs(direct.base, chunks)
    home = work / "home"
    _prepare_bridge_home(home, bridge_cfg)
    env = {**bench_env(home), "BENCH_INTERNAL_TOKEN": "tok-" + secrets.token_hex(8)}
    (work / "standalone.yaml").write_text(standalone_cfg)
    targets = [direct]
    for name, cli in (("litellm", str(LITELLM_CLI)), ("litellm-old", old_litellm)):
        if not cli:
            continue
        key = "sk-bench-" + secrets.token_hex(16)
        port = free_port()
        proc = subprocess.Popen(
            [cli, "--config", str(work / "standalone.yaml"), "--host", "127.0.0.1",
             "--port", str(port)],
            env={**env, "LITELLM_MASTER_KEY": key, "PYTHONPATH": ""},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        targets.append(Target(name, f"http://127.0.0.1:{port}", key, proc))
        started.append(targets[-1])
    key = subprocess.run(
        [sys.executable, "-m", "bridge_app", "proxy-key"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout.strip()
    port, serve = _start_serve(env, REPO)
    targets.append(Target("bridge", f"http://127.0.0.1:{port}", key, serve))
    started.append(targets[-1])
    for target in targets[1:]:
        assert target.proc is not None
        wait_http_ok(f"{target.base}/health/readiness", proc=target.proc, timeout=300)
    return targets


def _request(target: Target, chunks: int) -> tuple[str, dict[str, Any], dict[str, str]]:
    if target.name == "direct":
        url = f"{target.base}/{chunks}/v1/chat/completions"
    else:
        url = f"{target.base}/v1/chat/completions"
    body = {"model": "stream", "stream": True, "messages": [{"role": "user", "content": "stream"}]}
    return url, body, {"Authorization": f"Bearer {target.key}"}


async def one_stream(
    client: httpx.AsyncClient, target: Target, chunks: int, stall_s: float
) -> tuple[int, float, str | None]:
    """(the model's chunks received, longest gap between two SSE events in seconds, error
    or None). Chunks are counted by their content (each upstream chunk is one word): LiteLLM
    may put several into one event (about 2 per event here), so events are not chunks."""
    url, body, headers = _request(target, chunks)
    got, longest, last = 0, 0.0, time.monotonic()
    try:
        async with client.stream("POST", url, json=body, headers=headers) as response:
            if response.status_code != 200:
                return (
                    got,
                    longest,
                    f"HTTP {response.status_code}: {(await response.aread())[:200]!r}",
                )
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    now = time.monotonic()
                    longest = max(longest, now - last)
                    last = now
                    got += len(_WORD.findall(line))
    except httpx.HTTPError as exc:
        return got, max(longest, time.monotonic() - last), f"{type(exc).__name__}: {exc}"
    return got, longest, None


async def first_byte(target: Target, spec: str) -> dict[str, float | str | None]:
    """One streamed /v1/messages request (Claude Code's format): seconds to the first byte
    of the answer, to the first content delta, and to the end."""
    body = {
        "model": "stream", "max_tokens": 1024, "stream": True,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }  # fmt: skip
    if target.name == "direct":
        url = f"{target.base}/{spec}/v1/chat/completions"
        body = {"model": "stream", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    else:
        url = f"{target.base}/v1/messages"
    headers = {"x-api-key": target.key, "anthropic-version": "2023-06-01"}
    out: dict[str, float | str | None] = {"target": target.name, "first_byte_s": None}
    t0 = time.perf_counter()
    async with (
        httpx.AsyncClient(timeout=120, trust_env=False) as client,
        client.stream("POST", url, json=body, headers=headers) as response,
    ):
        out["status"] = str(response.status_code)
        async for raw in response.aiter_raw():
            now = time.perf_counter() - t0
            if out["first_byte_s"] is None and raw:
                out["first_byte_s"] = round(now, 3)
            if "first_content_s" not in out and (
                b"content_block_delta" in raw or b'"content": " t' in raw
            ):
                out["first_content_s"] = round(now, 3)
    out["total_s"] = round(time.perf_counter() - t0, 3)
    return out


async def run_case(target: Target, clients: int, streams: int, chunks: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    timeout = httpx.Timeout(connect=10, read=120, write=30, pool=120)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
        await one_stream(client, target, chunks, 60)  # warm: first request builds routes
        cpu0, t0 = process_cpu_s(target), time.perf_counter()
        results = await _clients(client, target, clients, streams, chunks)
        wall, cpu = time.perf_counter() - t0, process_cpu_s(target) - cpu0
    received = sum(r[0] for r in results)
    errors = [r[2] or f"{r[0]} of {chunks} chunks" for r in results if r[2] or r[0] != chunks]
    return {
        "target": target.name, "clients": clients, "streams": len(results), "chunks": received,
        "errors": len(errors), "first_error": errors[0] if errors else None,
        "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
        "cpu_ms_per_chunk": round(cpu * 1000 / received, 4) if received else None,
        "chunks_per_s": round(received / wall, 1) if wall else None,
    }  # fmt: skip


async def _clients(
    client: httpx.AsyncClient, target: Target, clients: int, streams: int, chunks: int
) -> list[tuple[int, float, str | None]]:
    async def worker() -> list[tuple[int, float, str | None]]:
        return [await one_stream(client, target, chunks, 60) for _ in range(streams)]

    done = await asyncio.gather(*(worker() for _ in range(clients)))
    return [r for rs in done for r in rs]


async def soak(target: Target, seconds: float, chunks: int, stall_s: float) -> dict[str, Any]:
    """8 clients streaming through ``target`` without pause for ``seconds``."""
    deadline = time.monotonic() + seconds
    loads: list[float] = []
    timeout = httpx.Timeout(connect=10, read=max(stall_s * 10, 300), write=30, pool=300)
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:

        async def worker() -> list[tuple[int, float, str | None]]:
            out = []
            while time.monotonic() < deadline:
                out.append(await one_stream(client, target, chunks, stall_s))
            return out

        async def sample_load() -> None:
            while time.monotonic() < deadline:
                loads.append(os.getloadavg()[0])
                await asyncio.sleep(5)

        cpu0 = process_cpu_s(target)
        done, _ = await asyncio.gather(asyncio.gather(*(worker() for _ in range(8))), sample_load())
        cpu = process_cpu_s(target) - cpu0
    results = [r for rs in done for r in rs]
    return {
        "target": target.name, "seconds": seconds, "streams": len(results),
        "complete": sum(1 for r in results if r[0] == chunks and not r[2]),
        "chunks": sum(r[0] for r in results),
        "stalls": sum(1 for r in results if r[1] > stall_s),
        "longest_gap_s": round(max((r[1] for r in results), default=0), 3),
        "errors": [r[2] for r in results if r[2]][:5],
        "cpu_ms_per_chunk": round(cpu * 1000 / max(1, sum(r[0] for r in results)), 4),
        "load_min": round(min(loads, default=0), 1), "load_max": round(max(loads, default=0), 1),
        "load_mean": round(statistics.fmean(loads), 1) if loads else None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=600)
    parser.add_argument("--streams", type=int, default=4, help="streams per client per case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--old-litellm", help="the litellm CLI of another environment")
    parser.add_argument(
        "--soak", type=float, help="seconds of 8 clients streaming through the bridge"
    )
    parser.add_argument("--stall", type=float, default=30.0)
    parser.add_argument("--burn", type=int, default=0, help="busy processes during the run")
    parser.add_argument(
        "--first-byte", type=int, metavar="MS",
        help="time streamed /v1/messages answers whose first word comes after MS ms",
    )  # fmt: skip
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    started: list[Target] = []
    burners: list[subprocess.Popen[bytes]] = []
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="stream-cpu-") as tmp:
        try:
            spec: int | str = args.chunks
            if args.first_byte:
                spec = f"{args.chunks}-{args.first_byte}"
            targets = start(Path(tmp), spec, args.old_litellm, started)
            burners = [
                subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(args.burn)
            ]
            if burners and args.soak:  # let the load average climb before measuring
                while os.getloadavg()[0] < min(8.0, args.burn):
                    time.sleep(5)
                print(f"# load average {os.getloadavg()[0]:.1f} when the soak starts", flush=True)
            if args.first_byte:
                for round_ in range(args.rounds):
                    for target in targets:
                        row = asyncio.run(first_byte(target, str(spec)))
                        row["round"] = round_
                        rows.append(row)
                        print(json.dumps(row), flush=True)
            elif args.soak:
                bridge = next(t for t in targets if t.name == "bridge")
                result = asyncio.run(soak(bridge, args.soak, args.chunks, args.stall))
                result["bridge_status"] = bridge_restarts(Path(tmp) / "home")
                print(json.dumps(result, indent=2))
                rows.append(result)
            else:
                clients = [int(c) for c in args.clients.split(",")]
                for round_ in range(args.rounds):
                    order = targets[round_ % len(targets) :] + targets[: round_ % len(targets)]
                    for n in clients:
                        for target in order:
                            row = asyncio.run(run_case(target, n, args.streams, args.chunks))
                            row["round"] = round_
                            rows.append(row)
                            print(json.dumps(row), flush=True)
                print(render(rows))
        finally:
            for proc in burners:
                proc.kill()
            for target in reversed(started):
                if target.proc is not None:
                    stop(target.proc)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def bridge_restarts(home: Path) -> dict[str, Any]:
    """What `litellm-bridge status` says about the bridge's restarts during the run."""
    done = subprocess.run(
        [sys.executable, "-m", "bridge_app", "status", "--json"],
        env=bench_env(home), capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    try:
        status = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"error": (done.stdout + done.stderr)[-500:]}
    return {
        "state": status.get("state"),
        "restarts": status.get("restarts"),
        "recent_restarts": [
            {k: r.get(k) for k in ("reason", "outcome")}
            for r in status.get("recent_restarts") or []
        ],
    }


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| target | clients | CPU ms per chunk (median of rounds) | chunks/s | errors |",
        "|---|---|---|---|---|",
    ]
    keys = sorted({(r["target"], r["clients"]) for r in rows}, key=lambda k: (k[1], k[0]))
    for name, clients in keys:
        mine = [r for r in rows if r["target"] == name and r["clients"] == clients]
        cpu = statistics.median(r["cpu_ms_per_chunk"] or 0 for r in mine)
        rate = statistics.median(r["chunks_per_s"] or 0 for r in mine)
        lines.append(
            f"| {name} | {clients} | {cpu:.3f} | {rate:,.0f} | {sum(r['errors'] for r in mine)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
