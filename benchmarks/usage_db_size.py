"""How big the encrypted database gets with usage: 100,000 requests written the way the
proxy writes them (UsageWriter batches, with the policy's annotation) plus the limit
counters they leave, spread over 90 days; then the summaries the Usage screen and
`usage` run, and retention pruning.

    python benchmarks/usage_db_size.py [REQUESTS]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bridge_app.policy import RequestPolicy
from bridge_app.proxy import RequestSample
from bridge_app.runtime import AppPaths
from bridge_app.services import build_services
from bridge_app.store import tables
from bridge_app.usage import UsageFilter

MODELS = ["internal-chat", "internal-code", "demo", "claude-sonnet-4-5", "gpt-4o"]
TOOLS = ["claude-code", "codex-cli", "gemini-cli", "admin", None]


def _size(db_file: Path) -> int:
    return sum(
        p.stat().st_size
        for p in db_file.parent.glob(db_file.name + "*")
        if p.is_file() and not p.name.endswith(".bak")
    )


def _checkpoint(services: Any) -> None:
    # Outside any transaction (the driver runs in autocommit): fold the WAL into the file.
    raw = services.db.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def main(count: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        paths = AppPaths.from_environment({"BRIDGE_HOME": tmp, "BRIDGE_KEYRING": "off"})
        services = build_services(paths)
        db_file = paths.database_file
        empty = _size(db_file)
        now = time.time()
        policy = RequestPolicy(service=services.policy, audit=services.audit)
        writer = services.proxy.usage
        writer.annotate = policy.annotate
        hits = tables["policy_hits"]
        t0 = time.perf_counter()
        batch: list[dict[str, object]] = []
        for i in range(count):
            ts = now - rng.random() * 90 * 86_400
            writer.submit(
                RequestSample(
                    ts=ts,
                    model=rng.choice(MODELS),
                    endpoint=rng.choice(["/v1/messages", "/v1/responses", "/v1/chat/completions"]),
                    status=200 if rng.random() > 0.03 else 429,
                    latency_ms=rng.uniform(200, 9000),
                    tokens_in=rng.randint(500, 60_000),
                    tokens_out=rng.randint(20, 4_000),
                    client=rng.choice(TOOLS),
                    cost_usd=rng.uniform(0, 0.2),
                )
            )
            # What admission leaves in the limit counters for one admitted request.
            batch.append(
                {"subject": "user:bench", "ts": ts, "requests": 1, "tokens": 0, "cost": 0.0}
            )
            if (i + 1) % 5_000 == 0:
                writer.flush()
                with services.db.transaction() as conn:
                    conn.execute(hits.insert(), batch)
                batch.clear()
        writer.flush()
        write_s = time.perf_counter() - t0
        _checkpoint(services)
        full = _size(db_file)
        t0 = time.perf_counter()
        by_day = services.usage.summary(UsageFilter(), "day")
        day_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        services.usage.summary(UsageFilter(since=now - 30 * 86_400), "model")
        model_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        services.policy.counters().totals("user:bench", now)
        totals_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        services.policy.counters().totals("user:bench", now, month=True)
        month_s = time.perf_counter() - t0
        # A 30-day retention: the 90-day history shrinks to a third; freed pages are
        # reused by later rows, so the file stays at its high-water mark without VACUUM.
        t0 = time.perf_counter()
        with services.db.transaction() as conn:
            removed = conn.execute(
                tables["usage_records"]
                .delete()
                .where(tables["usage_records"].c.ts < now - 30 * 86_400)
            ).rowcount
        prune_s = time.perf_counter() - t0
        _checkpoint(services)
        after_prune = _size(db_file)
        services.close()
        print(f"requests written          {count:,} ({write_s:.1f} s, batches of 5,000)")
        print(f"database, empty           {empty / 1e6:.2f} MB")
        print(
            f"database, {count:,} rows   {full / 1e6:.2f} MB "
            f"({(full - empty) / count:.0f} bytes per request incl. counters)"
        )
        print(f"summary by day (90 days)  {day_s * 1000:.0f} ms ({len(by_day)} days)")
        print(f"summary by model (30 d)   {model_s * 1000:.0f} ms")
        print(f"limit counters (1 user)   {totals_s * 1000:.0f} ms per request (minute/day)")
        print(f"  with a monthly budget   {month_s * 1000:.0f} ms")
        print(
            f"prune to 30 days          {prune_s * 1000:.0f} ms ({removed:,} rows); "
            f"file {after_prune / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
