"""Can the time a failed login takes tell an attacker whether the account exists?

Through the real AuthService on a real SQLCipher file at the production argon2id cost,
20 tries each (interleaved, so both see the same machine load) of a wrong password for
an existing account and for a name that does not exist:

- "throttled": the shipped ThrottlePolicy (tries 1-5 verify a hash, 5 locks the name,
  6-20 are refused as locked); the throttle's pauses are recorded instead of slept
  (they are the same for both, and listed), so the figures are the work each try does;
- "verification only": no pauses and no lock, so all 20 tries verify a hash.

    python benchmarks/login_timing.py [--tries 20] [--write]   # --write: RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bridge_app.audit import AuditLog
from bridge_app.auth import AccountLockedError, AuthError, AuthService, ThrottlePolicy
from bridge_app.runtime import Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database, DatabaseKey

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADING = "## Login timing: existing vs unknown names (issue 13)"
PASSWORD = "quiet-lantern-977"


def _run(throttle: ThrottlePolicy, tries: int) -> dict[str, dict[str, list[float] | list[str]]]:
    slept: dict[str, list[float]] = {"known": [], "unknown": []}
    current = ["known"]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db", DatabaseKey(b"\x01" * 32, "key-file", "bench"))
        db.open()
        auth = AuthService(
            db=db,
            audit=AuditLog(db=db, redactor=Redactor()),
            settings=SettingsService(db=db),
            throttle=throttle,
            sleep=lambda seconds: slept[current[0]].append(seconds),
        )
        auth.create_first_admin("operator", PASSWORD)
        results: dict[str, dict[str, list[float] | list[str]]] = {
            kind: {"seconds": [], "answers": []} for kind in ("known", "unknown")
        }
        for _ in range(tries):
            for kind, name in (("known", "operator"), ("unknown", "nobody-here")):
                current[0] = kind
                start = time.perf_counter()
                try:
                    auth.login(name, "not-the-password-1")
                    answer = "logged in"
                except AccountLockedError:
                    answer = "locked"
                except AuthError as exc:
                    answer = str(exc)
                elapsed = time.perf_counter() - start
                results[kind]["seconds"].append(elapsed)  # type: ignore[arg-type]
                results[kind]["answers"].append(answer)  # type: ignore[arg-type]
        db.close()
    for kind in results:
        results[kind]["slept"] = slept[kind]  # type: ignore[assignment]
    return results


def _stats(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    spread = statistics.stdev(ms) if len(ms) > 1 else 0.0
    return (
        f"{statistics.median(ms):7.1f} | {statistics.mean(ms):7.1f} | {spread:6.1f} | "
        f"{min(ms):7.1f} | {max(ms):7.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    shipped = ThrottlePolicy()
    open_throttle = ThrottlePolicy(max_failures=10**9, base_delay_seconds=0.0)
    rows = []
    throttled = _run(shipped, args.tries)
    verify_only = _run(open_throttle, args.tries)
    limit = shipped.max_failures
    for label, data, cut in (
        (f"throttled, tries 1-{limit} (verify)", throttled, slice(0, limit)),
        (f"throttled, tries {limit + 1}-{args.tries} (locked)", throttled, slice(limit, None)),
        (f"verification only, tries 1-{args.tries}", verify_only, slice(None)),
    ):
        for kind in ("known", "unknown"):
            seconds = data[kind]["seconds"][cut]  # type: ignore[index]
            if seconds:
                rows.append(f"| {label} | {kind} | {_stats(seconds)} |")  # type: ignore[arg-type]
    same_answers = throttled["known"]["answers"] == throttled["unknown"]["answers"]
    same_pauses = throttled["known"]["slept"] == throttled["unknown"]["slept"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        HEADING,
        "",
        f"`python benchmarks/login_timing.py --tries {args.tries} --write` on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, 1-min load "
        f"{load:.1f} at the start (a shared machine), production argon2id cost, real "
        "SQLCipher file; each try is one `AuthService.login` with a wrong password, known "
        "and unknown names interleaved. Milliseconds:",
        "",
        "| phase | name | median | mean | stdev | min | max |",
        "|---|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"- Answers identical for both names, try by try: {same_answers} "
        f"({', '.join(dict.fromkeys(throttled['unknown']['answers']))}).",  # type: ignore[arg-type]
        f"- Throttle pauses identical: {same_pauses} "
        f"({throttled['known']['slept']} s, recorded, not slept).",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        text = RESULTS.read_text(encoding="utf-8")
        if HEADING in text:
            start = text.index(HEADING)
            following = text.find("\n## ", start + len(HEADING))
            text = text[:start] + report + (text[following + 1 :] if following >= 0 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + report
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
