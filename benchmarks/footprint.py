"""Start-up and memory: `litellm-bridge serve` vs the standalone `litellm` CLI, and which
installed packages a serving process never imports (candidates for the bundle's excludes).

Each run starts both, one after the other (order alternating), with the same
internal-enterprise-style config in front of a local upstream, and records process start ->
/health/readiness, RSS once ready and idle for a few seconds, and RSS after a bounded
number of coding-agent requests. Loopback only. Usage:

    python benchmarks/footprint.py [--runs 3] [--requests 200] [--modules] [--baseline DIR]

With ``--baseline DIR`` (a ``git archive`` of an older commit) each run also starts that
version's ``serve`` (``before``) on the same data folder, interleaved with the others.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LITELLM_CLI, REPO, bench_env, free_port, machine, stop, wait_http_ok
from agent_traffic import Target, _configs, _prepare_bridge_home, process_cpu_s, run_case


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def one(
    kind: str,
    work: Path,
    env: dict[str, str],
    requests: int,
    importtime: Path | None = None,
    baseline: Path | None = None,
) -> dict[str, Any]:
    port = free_port()
    cwd = REPO
    if kind == "before":
        assert baseline is not None
        env, cwd = {**env, "PYTHONPATH": str(baseline)}, baseline
    if kind == "litellm":
        key = "sk-bench-" + secrets.token_hex(16)
        cmd = [str(LITELLM_CLI), "--config", str(work / "standalone.yaml"), "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
        run_env = {**env, "LITELLM_MASTER_KEY": key}
        stdin = None
    else:
        key = subprocess.run(
            [sys.executable, "-m", "bridge_app", "proxy-key"],
            env=env, capture_output=True, text=True, check=True, cwd=cwd,
        ).stdout.strip()  # fmt: skip
        cmd = [sys.executable, "-m", "bridge_app", "serve", "--port", str(port), "--as", "root",
               "--password-stdin"]  # fmt: skip
        if importtime is not None:  # every import, also the lazy ones during requests
            cmd[1:1] = ["-X", "importtime"]
        run_env = env
        stdin = subprocess.PIPE
    t0 = time.perf_counter()
    errors = importtime.open("wb") if importtime is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        cmd, env=run_env, cwd=cwd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=errors,
    )  # fmt: skip
    try:
        if proc.stdin is not None:
            proc.stdin.write(b"Bench-Admin-Password-42!\n")
            proc.stdin.close()
        wait_http_ok(f"http://127.0.0.1:{port}/health/readiness", proc=proc, timeout=300)
        ready = time.perf_counter() - t0
        ready_cpu = process_cpu_s(target_of(kind, port, key, proc))
        time.sleep(5)
        idle = rss_mb(proc.pid)
        target = target_of(kind, port, key, proc)
        for fmt in ("messages", "responses", "chat"):
            asyncio.run(run_case(target, fmt, "usage", 100_000, 4, requests // 3))
        time.sleep(2)
        return {
            "ready_s": round(ready, 2),
            # CPU the process used until ready: unlike ready_s, hardly moved by other jobs
            # (but blind to work that overlaps on two cores, which ready_s shows).
            "ready_cpu_s": round(ready_cpu, 2),
            "idle_rss_mb": idle,
            "rss_after_mb": rss_mb(proc.pid),
        }
    finally:
        stop(proc)
        if importtime is not None:
            errors.close()  # type: ignore[union-attr]


def target_of(kind: str, port: int, key: str, proc: subprocess.Popen[bytes]) -> Target:
    return Target(kind, f"http://127.0.0.1:{port}", key, proc)


def never_imported(importtime: Path) -> list[tuple[str, float]]:
    """Installed top-level packages (MB on disk) that the serving process never imported."""
    import site

    imported = set()
    for line in importtime.read_text(errors="replace").splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            imported.add(name.split(".")[0])
    out = []
    for root in site.getsitepackages():
        for entry in Path(root).iterdir():
            name = entry.name.removesuffix(".py")
            if entry.suffix in (".dist-info", ".pth") or name.startswith(("_", ".")):
                continue
            if name in imported or not (entry.is_dir() or entry.suffix == ".py"):
                continue
            files = [f for f in entry.rglob("*") if f.is_file()] if entry.is_dir() else [entry]
            out.append((name, round(sum(f.stat().st_size for f in files) / 2**20, 1)))
    return sorted(out, key=lambda x: -x[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument(
        "--modules", action="store_true", help="one more serve run: packages it never imports"
    )
    parser.add_argument(
        "--baseline", type=Path, help="source tree of an older version, served as `before`"
    )
    args = parser.parse_args()
    print(machine(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="bridge-footprint-"))
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_agent_upstream.py")), str(up_port)]
    )
    kinds = ["litellm", "bridge"] + (["before"] if args.baseline else [])
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    try:
        wait_http_ok(f"http://127.0.0.1:{up_port}/health", proc=upstream)
        bridge_cfg, standalone_cfg = _configs(f"http://127.0.0.1:{up_port}")
        (work / "standalone.yaml").write_text(standalone_cfg)
        _prepare_bridge_home(work / "home", bridge_cfg)
        env = {**bench_env(work / "home"), "BENCH_INTERNAL_TOKEN": "tok-" + secrets.token_hex(8)}
        for run in range(args.runs):
            shift = run % len(kinds)
            for kind in kinds[shift:] + kinds[:shift]:
                results[kind].append(one(kind, work, env, args.requests, baseline=args.baseline))
                print(kind, results[kind][-1], flush=True)
        if args.modules:
            log = work / "importtime.txt"
            one("bridge", work, env, args.requests, importtime=log)
            unused = never_imported(log)
            print("never imported by serve (MB on disk):", json.dumps(unused[:40]))
    finally:
        stop(upstream)
    summary = {
        kind: {m: statistics.median(r[m] for r in rows) for m in rows[0]}
        for kind, rows in results.items()
    }
    print(json.dumps({"machine": machine(), "median": summary, "runs": results}, indent=1))


if __name__ == "__main__":
    main()
