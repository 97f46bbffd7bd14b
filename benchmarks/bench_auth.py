"""How long the production argon2id cost takes here: one hash, one verify, one data-key
derivation, and a whole login on a real SQLCipher file (hash verify + key unwrap).

    python benchmarks/bench_auth.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bridge_app.audit import AuditLog
from bridge_app.auth import AuthService, PasswordPolicy, ThrottlePolicy
from bridge_app.auth._hashing import PasswordHashing
from bridge_app.crypto import derive_wrapping_key, new_salt
from bridge_app.runtime import Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database, DatabaseKey

PASSWORD = "quiet-lantern-977"


def _time(label: str, rounds: int, func: Callable[[], object]) -> None:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    print(
        f"{label:<28} median {statistics.median(samples) * 1000:7.1f} ms   "
        f"min {min(samples) * 1000:7.1f} ms   max {max(samples) * 1000:7.1f} ms"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    policy = PasswordPolicy()
    kdf = policy.kdf
    print(f"argon2id t={kdf.time_cost} m={kdf.memory_cost_kib} KiB p={kdf.parallelism}")
    hashing = PasswordHashing(kdf)
    stored = hashing.hash(PASSWORD)
    _time("hash", rounds, lambda: hashing.hash(PASSWORD))
    _time("verify", rounds, lambda: hashing.verify(stored, PASSWORD))
    salt = new_salt()
    _time("derive wrapping key", rounds, lambda: derive_wrapping_key(PASSWORD, salt, kdf))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db", DatabaseKey(b"\x01" * 32, "key-file", "bench"))
        db.open()
        settings = SettingsService(db=db)
        audit = AuditLog(db=db, redactor=Redactor())
        auth = AuthService(
            db=db, audit=audit, settings=settings, policy=policy, throttle=ThrottlePolicy()
        )
        auth.create_first_admin("bench", PASSWORD)
        _time("login (verify + unwrap)", rounds, lambda: auth.login("bench", PASSWORD))
        db.close()


if __name__ == "__main__":
    main()
