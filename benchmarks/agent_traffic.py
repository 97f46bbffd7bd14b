"""Per-request cost on coding-agent traffic: direct vs standalone `litellm` vs the bridge.

Coding agents (Claude Code, Codex CLI, SDK agents) send large streaming requests: a long
history, a big system prompt, a dozen tool definitions. This benchmark sends such requests
in three wire formats (Anthropic `/v1/messages`, Responses `/v1/responses`, OpenAI chat
`/v1/chat/completions`), with 2 KB / 100 KB / 400 KB bodies, from 1 and 16 concurrent
clients, to three targets that all run at the same time on 127.0.0.1:

* ``direct``  the upstream itself (a chat-completions body of the same size)
* ``litellm`` the standalone ``litellm --config`` CLI of the installed version, with the
  ``internal-enterprise`` template (static ``extra_body`` values instead of placeholders)
* ``bridge``  ``litellm-bridge serve --as USER`` with the ``internal-enterprise`` template:
  a user logged in to a fake IAM, a project, the token injected into every request

The upstream (``_agent_upstream.py``) is a chat-completions-only endpoint that answers at
once, in three behaviours: its streams always carry ``usage`` (``usage``), only when asked
with ``stream_options.include_usage`` (``onrequest``), or never (``nousage``).

Targets are measured interleaved (direct, litellm, bridge for each case and round, the
order rotating every round) so that the load other jobs put on the shared machine hits
them alike; compare the ratios, not the absolute numbers, between runs. Bounded: every
loop has a fixed number of requests. Usage:

    python benchmarks/agent_traffic.py --quick
    python benchmarks/agent_traffic.py [--requests 25] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LITELLM_CLI, REPO, bench_env, free_port, machine, stop, wait_http_ok

FORMATS = ("messages", "responses", "chat")
SIZES = {"2KB": 2_000, "100KB": 100_000, "400KB": 400_000}
CLIENTS = (1, 16)
USAGE_MODES = ("nousage", "onrequest", "usage")
ADMIN, ADMIN_PW = "root", "Bench-Admin-Password-42!"
EMPLOYEE, EMPLOYEE_PW = "E4242", "employee-pw-4242"
PATHS = {
    "messages": "/v1/messages",
    "responses": "/v1/responses",
    "chat": "/v1/chat/completions",
}

_WORDS = [
    "def",
    "return",
    "self",
    "import",
    "class",
    "async",
    "await",
    "if",
    "else",
    "for",
    "in",
    "while",
    "try",
    "except",
    "raise",
    "with",
    "the",
    "file",
    "function",
    "test",
    "value",
    "config",
    "request",
    "response",
    "token",
    "model",
    "stream",
    "error",
    "path",
    "list",
    "dict",
    "str",
    "int",
    "None",
    "True",
    "False",
    "yield",
    "lambda",
    "assert",
    "print",
    "open",
    "read",
    "write",
    "json",
    "module",
    "package",
    "build",
    "run",
    "check",
    "update",
    "fix",
    "change",
    "line",
    "column",
    "index",
    "offset",
    "buffer",
]


def _text(rng: random.Random, size: int) -> str:
    """Code-and-prose-like text of about ``size`` characters (tokenizes like real prompts)."""
    out: list[str] = []
    n = 0
    while n < size:
        line = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14)))
        line = ("    " * rng.randint(0, 3)) + line + ("()" if rng.random() < 0.3 else "")
        out.append(line)
        n += len(line) + 1
    return "\n".join(out)[:size]


def _tools() -> list[dict[str, Any]]:
    names = [
        "read_file",
        "write_file",
        "edit_file",
        "list_dir",
        "glob",
        "grep",
        "run_shell",
        "web_fetch",
        "todo_write",
        "ask_user",
        "notebook_edit",
        "task",
    ]
    return [
        {
            "name": name,
            "description": f"{name.replace('_', ' ')}: " + "use it when the task needs it. " * 6,
            "schema": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "absolute path"},
                    "content": {"type": "string", "description": "text to write"},
                    "limit": {"type": "integer", "description": "lines at most"},
                },
                "required": ["path"],
            },
        }
        for name in names
    ]


def conversation(size: int, seed: int = 7) -> tuple[str, list[tuple[str, str]]]:
    """A system prompt and user/assistant turns whose text adds up to about ``size``."""
    rng = random.Random(seed)
    budget = max(size - 1_800, 200)  # the tool definitions take about 1.8 KB
    system = _text(rng, min(budget // 4, 12_000))
    rest = budget - len(system)
    turns: list[tuple[str, str]] = []
    n_turns = max(1, min(40, rest // 2_500))
    for i in range(n_turns):
        role = "user" if i % 2 == 0 else "assistant"
        turns.append((role, _text(rng, rest // n_turns)))
    if turns[-1][0] != "user":
        turns.append(("user", "Now fix the failing test."))
    return system, turns


def request_body(fmt: str, model: str, size: int, *, tagged: str = "") -> dict[str, Any]:
    system, turns = conversation(size)
    turns = [*turns[:-1], (turns[-1][0], turns[-1][1] + tagged)]
    tools = _tools()
    if fmt == "messages":
        return {
            "model": model,
            "max_tokens": 1024,
            "stream": True,
            "system": system,
            "messages": [{"role": r, "content": t} for r, t in turns],
            "tools": [
                {"name": t["name"], "description": t["description"], "input_schema": t["schema"]}
                for t in tools
            ],
        }
    if fmt == "responses":
        return {
            "model": model,
            "stream": True,
            "instructions": system,
            "input": [{"role": r, "content": t} for r, t in turns],
            "tools": [
                {
                    "type": "function",
                    "name": t["name"],
                    "description": t["description"],
                    "parameters": t["schema"],
                }
                for t in tools
            ],
        }
    return {
        "model": model,
        "stream": True,
        "messages": [{"role": "system", "content": system}]
        + [{"role": r, "content": t} for r, t in turns],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t["description"],
                    "parameters": t["schema"],
                },
            }
            for t in tools
        ],
    }


# -- targets -------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    base: str  # http://127.0.0.1:PORT
    key: str
    proc: subprocess.Popen[bytes] | None = None

    def url(self, fmt: str, usage: str) -> str:
        if self.name == "direct":  # the upstream only speaks chat completions
            return f"{self.base}/{usage}/v1/chat/completions"
        return self.base + PATHS[fmt]

    def model(self, usage: str) -> str:
        return f"internal-chat-{usage}"


def _configs(upstream: str) -> tuple[str, str]:
    """(bridge config, standalone config) from the shipped internal-enterprise template."""
    template = yaml.safe_load((REPO / "configs" / "internal-enterprise.yaml").read_text())
    entry = template["model_list"][0]
    bridge = dict(template)
    bridge["model_list"] = []
    for mode in USAGE_MODES:
        item = json.loads(json.dumps(entry))
        item["model_name"] = f"internal-chat-{mode}"
        item["litellm_params"]["api_base"] = f"{upstream}/{mode}/v1"
        bridge["model_list"].append(item)
    standalone = json.loads(json.dumps(bridge))
    for item in standalone["model_list"]:
        item["litellm_params"]["extra_body"] = {
            "internal_token": "os.environ/BENCH_INTERNAL_TOKEN",
            "project_id": "P-1",
            "project_name": "Bench",
        }
    return yaml.safe_dump(bridge, sort_keys=False), yaml.safe_dump(standalone, sort_keys=False)


def _prepare_bridge_home(home: Path, config_text: str) -> None:
    """A data folder where `root` is logged in to the IAM with an active project."""
    os.environ["BRIDGE_HOME"] = str(home)
    os.environ["BRIDGE_KEYRING"] = "off"
    from bridge_app.devtools import FakeIam
    from bridge_app.runtime import AppPaths, Redactor
    from bridge_app.services import build_services
    from bridge_app.tokens import IamSettings, Project

    iam = FakeIam({EMPLOYEE: EMPLOYEE_PW}, lifetime_s=24 * 3600).start()
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(home)})
    services = build_services(paths, redactor=Redactor())
    try:
        services.auth.create_first_admin(ADMIN, ADMIN_PW)
        session = services.auth.login(ADMIN, ADMIN_PW)
        services.env.set(session, "INTERNAL_LLM_API_BASE", "http://127.0.0.1:9/v1", scope="shared")
        active = paths.proxy_config_dir / "config.yaml"
        active.parent.mkdir(parents=True, exist_ok=True)
        active.write_text(config_text)
        services.tokens.set_iam_settings(
            session,
            IamSettings(url=iam.token_url, token_path="data.access_token"),  # noqa: S106
        )
        services.tokens.projects.save(session, Project("P-1", "Bench"))
        services.tokens.activate(session)
        services.tokens.login(session, EMPLOYEE, EMPLOYEE_PW)
    finally:
        services.close()
        iam.stop()  # the token lasts a day: serve needs no IAM while the run lasts


def _start_serve(env: dict[str, str], cwd: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """`litellm-bridge serve --as ADMIN` from the checkout in ``cwd`` on a free port."""
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(port), "--as", ADMIN,
         "--password-stdin"],
        env=env, cwd=cwd, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert serve.stdin is not None
    serve.stdin.write(ADMIN_PW.encode() + b"\n")
    serve.stdin.close()
    return port, serve


def start_targets(
    work: Path, extra_env: dict[str, str], baseline: Path | None, started: list[Target]
) -> tuple[list[Target], Target]:
    """Start every target; each one is appended to ``started`` at once, so that the caller
    stops them all even when a later one fails to start."""
    up_port = free_port()
    upstream_proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_agent_upstream.py")), str(up_port)]
    )
    upstream = Target("direct", f"http://127.0.0.1:{up_port}", "x", upstream_proc)
    started.append(upstream)
    wait_http_ok(f"{upstream.base}/health", proc=upstream_proc)
    bridge_cfg, standalone_cfg = _configs(upstream.base)
    home = work / "home"
    (work / "bridge.yaml").write_text(bridge_cfg)
    _prepare_bridge_home(home, bridge_cfg)
    env = {**bench_env(home), **extra_env, "BENCH_INTERNAL_TOKEN": "tok-" + secrets.token_hex(8)}
    (work / "standalone.yaml").write_text(standalone_cfg)
    cli_key = "sk-bench-" + secrets.token_hex(16)
    port = free_port()
    cli = subprocess.Popen(
        [str(LITELLM_CLI), "--config", str(work / "standalone.yaml"), "--host", "127.0.0.1",
         "--port", str(port)],
        env={**env, "LITELLM_MASTER_KEY": cli_key},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    standalone = Target("litellm", f"http://127.0.0.1:{port}", cli_key, cli)
    started.append(standalone)
    bridge_key = subprocess.run(
        [sys.executable, "-m", "bridge_app", "proxy-key"],
        env=env, capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout.strip()  # fmt: skip
    if baseline is not None:  # its own data folder, set up by that version of the app
        subprocess.run(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; sys.path.append(sys.argv[1]); "
             "from agent_traffic import _prepare_bridge_home as p; "
             "p(Path(sys.argv[2]), Path(sys.argv[3]).read_text())",
             str(Path(__file__).parent), str(work / "home-before"), str(work / "bridge.yaml")],
            env={**os.environ, "PYTHONPATH": str(baseline)}, cwd=baseline, check=True,
        )  # fmt: skip
    port, serve = _start_serve(env, REPO)
    bridge = Target("bridge", f"http://127.0.0.1:{port}", bridge_key, serve)
    started.append(bridge)
    targets = [upstream, standalone, bridge]
    if baseline is not None:
        # The same set-up served by an older checkout of the app (A/B in one run).
        env_before = {**env, **bench_env(work / "home-before"), "PYTHONPATH": str(baseline)}
        env_before["BENCH_INTERNAL_TOKEN"] = env["BENCH_INTERNAL_TOKEN"]
        port, before = _start_serve(env_before, baseline)
        targets.append(Target("before", f"http://127.0.0.1:{port}", "", before))
        started.append(targets[-1])
        targets[-1].key = subprocess.run(
            [sys.executable, "-m", "bridge_app", "proxy-key"],
            env=env_before, capture_output=True, text=True, check=True, cwd=baseline,
        ).stdout.strip()  # fmt: skip
    for target in targets[1:]:
        assert target.proc is not None
        wait_http_ok(f"{target.base}/health/readiness", proc=target.proc, timeout=300)
    return targets, upstream


# -- measuring -----------------------------------------------------------------------------


def process_cpu_s(target: Target) -> float:
    """User + system CPU seconds of the target's process so far (Linux; else 0)."""
    if target.proc is None:
        return 0.0
    try:
        fields = Path(f"/proc/{target.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_case(
    target: Target, fmt: str, usage: str, size: int, clients: int, total: int
) -> dict[str, Any]:
    body_fmt = "chat" if target.name == "direct" else fmt
    raw = json.dumps(request_body(body_fmt, target.model(usage), size)).encode()
    headers = {"Authorization": f"Bearer {target.key}", "content-type": "application/json"}
    if body_fmt == "messages":
        headers["anthropic-version"] = "2023-06-01"
    url = target.url(fmt, usage)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    errors: list[str] = []
    async with httpx.AsyncClient(timeout=120, limits=limits, trust_env=False) as client:

        async def one(measured: bool) -> None:
            t0 = time.perf_counter()
            async with client.stream("POST", url, content=raw, headers=headers) as response:
                data = await response.aread()
            if response.status_code != 200 or b"error" in data[:200]:
                errors.append(f"{response.status_code} {data[:200]!r}")
            if measured:
                latencies.append((time.perf_counter() - t0) * 1000)

        for _ in range(min(3, total)):  # warm-up, not measured
            await one(False)
        remaining = total
        cpu0 = process_cpu_s(target)

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await one(True)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
        cpu = process_cpu_s(target) - cpu0
    lat = sorted(latencies)
    p95 = statistics.quantiles(lat, n=20, method="inclusive")[18] if len(lat) > 1 else lat[0]
    return {
        "p50_ms": round(statistics.median(lat), 2),
        "p95_ms": round(p95, 2),
        "rps": round(total / wall, 1),
        # CPU the target's process spent per measured request (all its threads): far less
        # sensitive to other jobs on the machine than the latencies.
        "cpu_ms": round(cpu * 1000 / total, 2),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "body_bytes": len(raw),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small subset, a few requests")
    parser.add_argument("--requests", type=int, default=25, help="measured requests per case")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)))
    parser.add_argument("--usage", default=",".join(USAGE_MODES))
    parser.add_argument("--targets", default="direct,litellm,bridge,before")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="source tree of an older version of the app, served as the target `before`",
    )
    parser.add_argument("--json", type=Path, help="write all rounds here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the bridge with py-spy (collapsed stacks) into this file while measuring",
    )
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds = 6, 1
        args.sizes, args.clients, args.usage = "2KB,400KB", "1", "nousage,onrequest"
    formats = args.formats.split(",")
    sizes = args.sizes.split(",")
    clients = [int(c) for c in args.clients.split(",")]
    usages = args.usage.split(",")
    wanted = args.targets.split(",")
    print(machine(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="bridge-agent-bench-"))
    started: list[Target] = []
    results: list[dict[str, Any]] = []
    try:
        targets, upstream = start_targets(work, {}, args.baseline, started)
        targets = [t for t in targets if t.name in wanted]
        spy = None
        if args.profile:
            # First requests build LiteLLM's lazy parts (routes, tokenizer): not per-request
            # costs, so the profile starts after one pass over the cases.
            bridge = next(t for t in targets if t.name == "bridge")
            for fmt, usage, size in itertools.product(formats, usages, sizes):
                asyncio.run(run_case(bridge, fmt, usage, SIZES[size], 1, 2))
            spy = _start_profiler(targets, args.profile)
        for round_no in range(args.rounds):
            for fmt in formats:
                for usage in usages:
                    for size in sizes:
                        for n in clients:
                            total = args.requests if n == 1 else max(args.requests, 4 * n)
                            shift = round_no % len(targets)
                            order = targets[shift:] + targets[:shift]
                            for target in order:
                                row = asyncio.run(
                                    run_case(target, fmt, usage, SIZES[size], n, total)
                                )
                                row.update(
                                    round=round_no, target=target.name, format=fmt,
                                    usage=usage, size=size, clients=n,
                                )  # fmt: skip
                                results.append(row)
                                print(json.dumps(row), flush=True)
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(60)
        stats = httpx.get(f"{upstream.base}/stats", trust_env=False).json()
        print("upstream saw:", stats, flush=True)
    finally:
        for target in started:
            if target.proc is not None:
                stop(target.proc)
    summary = summarise(results)
    print(render(summary))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"when": datetime.now(UTC).isoformat(), "machine": machine(), "rows": results},
                indent=1,
            )
        )


def _start_profiler(targets: list[Target], out: Path) -> subprocess.Popen[bytes]:
    bridge = next(t for t in targets if t.name == "bridge")
    assert bridge.proc is not None
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(bridge.proc.pid),
         "--format", "raw", "--rate", "200", "--threads", "--output", str(out)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # py-spy attaches
    return spy


def summarise(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str, int], dict[str, Any]]:
    """Median over rounds of each target's p50/p95/rps/CPU per request, per case."""
    cases: dict[tuple[str, str, str, int], dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        key = (row["format"], row["usage"], row["size"], row["clients"])
        cases.setdefault(key, {}).setdefault(row["target"], []).append(row)
    out: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for key, per_target in cases.items():
        out[key] = {
            name: {
                m: round(statistics.median(r.get(m, 0.0) for r in got), 1)
                for m in ("p50_ms", "p95_ms", "rps", "cpu_ms")
            }
            | {"errors": sum(r["errors"] for r in got)}
            for name, got in per_target.items()
        }
    return out


def render(summary: dict[tuple[str, str, str, int], dict[str, Any]]) -> str:
    lines = [
        "| format | upstream usage | body | clients | direct p50 | litellm p50 | bridge p50 "
        "| added litellm / bridge | bridge/litellm added | rps litellm / bridge "
        "| before p50 / rps | CPU ms/request litellm / bridge / before | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (fmt, usage, size, n), t in summary.items():
        d, c, b = t.get("direct"), t.get("litellm"), t.get("bridge")

        def p50(x: dict[str, Any] | None) -> str:
            return f"{x['p50_ms']}" if x else "-"

        added = ratio = rps = "-"
        if d and c and b:
            ac, ab = c["p50_ms"] - d["p50_ms"], b["p50_ms"] - d["p50_ms"]
            added = f"{ac:.1f} / {ab:.1f}"
            ratio = f"{ab / ac:.2f}" if ac > 0 else "-"
        if c and b:
            rps = f"{c['rps']} / {b['rps']}"
        errs = sum(x["errors"] for x in t.values())
        old = t.get("before")
        old_cell = f"{old['p50_ms']} / {old['rps']}" if old else "-"
        cpu = " / ".join(f"{x['cpu_ms']}" if x else "-" for x in (c, b, old))
        lines.append(
            f"| {fmt} | {usage} | {size} | {n} | {p50(d)} | {p50(c)} | {p50(b)} | {added} "
            f"| {ratio} | {rps} | {old_cell} | {cpu} | {errs} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    main()
