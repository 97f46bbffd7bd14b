"""Watchdog recovery with the default policy: crash x5 and hang x5 of the real embedded
proxy, with a client polling the port all along.

For each fault: how long until the watchdog noticed, the "recovered after N s" it recorded,
the seconds the client got no 200, and what the client got meanwhile (503 from the
restart responder vs. refused connections / timeouts).

    python benchmarks/watchdog_recovery.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine

from bridge_app.proxy import ProxyState, ProxySupervisor, new_proxy_key
from bridge_app.runtime import Redactor, resource_path


class Poller:
    """Sends GET /health/liveliness every 50 ms; records each outcome with its time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while not self._stop.is_set():
                t = time.monotonic()
                try:
                    code = client.get(f"{self.url}/health/liveliness").status_code
                    outcome = str(code)
                except httpx.ConnectError:
                    outcome = "refused"
                except httpx.TimeoutException:
                    outcome = "timeout"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                self.samples.append((t, outcome))
                self._stop.wait(0.05)


def _crash(sup: ProxySupervisor) -> None:
    async def boom(counter: int) -> bool:
        raise RuntimeError("benchmark crash")

    sup.debug_server().server.on_tick = boom


def _hang(sup: ProxySupervisor) -> None:
    sup.debug_server().loop.call_soon_threadsafe(time.sleep, 8.0)


def run(kind: str, runs: int) -> list[dict[str, object]]:
    sup = ProxySupervisor(
        config=resource_path("configs", "demo.yaml"),
        master_key=new_proxy_key(),
        redactor=Redactor(),
        port=0,
    )
    seen: list[tuple[float, ProxyState, str | None]] = []
    sup.subscribe(lambda _o, new, err: seen.append((time.monotonic(), new, err)))
    sup.start()
    poller = Poller(sup.url)
    poller.start()
    rows: list[dict[str, object]] = []
    try:
        for n in range(1, runs + 1):
            time.sleep(1.0)
            seen.clear()
            t0 = time.monotonic()
            (_crash if kind == "crash" else _hang)(sup)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                records = sup.status().recent_restarts
                if len(records) == n and records[-1].outcome != "restarting":
                    break
                time.sleep(0.02)
            time.sleep(0.5)
            record = sup.status().recent_restarts[-1]
            noticed = next((t for t, s, _ in seen if s is ProxyState.RESTARTING), None)
            degraded = next((t for t, s, _ in seen if s is ProxyState.DEGRADED), None)
            window = [(t, o) for t, o in poller.samples if t >= t0]
            first_ok_after = next(
                (t for t, o in window if o == "200" and noticed is not None and t > noticed),
                None,
            )
            outcomes = Counter(o for t, o in window if first_ok_after is None or t < first_ok_after)
            outcomes.pop("200", None)
            rows.append(
                {
                    "fault": kind,
                    "run": n,
                    "degraded_after_s": round(degraded - t0, 2) if degraded else None,
                    "noticed_after_s": round(noticed - t0, 2) if noticed else None,
                    "recorded": record.outcome,
                    "fault_to_200_s": round(first_ok_after - t0, 2) if first_ok_after else None,
                    "client_saw": dict(outcomes),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    finally:
        poller.stop()
        sup.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    rows = run("crash", args.runs) + run("hang", args.runs)
    for kind in ("crash", "hang"):
        mine = [r for r in rows if r["fault"] == kind]
        took = [
            float(str(r["recorded"]).split()[2]) for r in mine if "recovered" in str(r["recorded"])
        ]
        back = [float(r["fault_to_200_s"]) for r in mine if r["fault_to_200_s"] is not None]  # type: ignore[arg-type]
        print(
            f"{kind}: recorded recovery median {statistics.median(took):.1f} s "
            f"(max {max(took):.1f}); fault to first 200 median {statistics.median(back):.1f} s "
            f"(max {max(back):.1f})"
        )


if __name__ == "__main__":
    main()
