"""A real SQLCipher database with the auth and audit services on it, with cheap argon2
parameters (the production ones are checked once in test_auth_policy.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bridge_app.audit import AuditLog
from bridge_app.auth import AuthService, PasswordPolicy, Session, ThrottlePolicy
from bridge_app.crypto import KdfParams
from bridge_app.runtime import Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database, DatabaseKey

FAST_KDF = KdfParams(time_cost=1, memory_cost_kib=8 * 1024, parallelism=1)
FAST_POLICY = PasswordPolicy(kdf=FAST_KDF)
DB_KEY = DatabaseKey(b"\x07" * 32, "key-file", "test")
ADMIN_PW = "admin-horse-battery"
USER_PW = "user-staple-orange"


@dataclass
class FakeClock:
    now: float = 1_800_000_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@dataclass
class Stack:
    db: Database
    auth: AuthService
    audit: AuditLog
    settings: SettingsService
    redactor: Redactor
    clock: FakeClock

    def close(self) -> None:
        self.db.close()


def open_stack(
    db_file: Path,
    *,
    clock: FakeClock | None = None,
    policy: PasswordPolicy = FAST_POLICY,
    throttle: ThrottlePolicy | None = None,
) -> Stack:
    clock = clock or FakeClock()
    db = Database(db_file, DB_KEY)
    db.open()
    redactor = Redactor()
    settings = SettingsService(db=db)
    audit = AuditLog(db=db, redactor=redactor)
    auth = AuthService(
        db=db,
        audit=audit,
        settings=settings,
        policy=policy,
        throttle=throttle or ThrottlePolicy(),
        clock=clock,
        sleep=clock.sleep,
    )
    return Stack(db, auth, audit, settings, redactor, clock)


def with_admin_and_user(stack: Stack) -> tuple[Session, Session]:
    """An admin "root" and a plain user "bob" (who already changed the first password)."""
    stack.auth.create_first_admin("Root", ADMIN_PW)
    admin = stack.auth.login("root", ADMIN_PW)
    stack.auth.create_user(admin, "bob", "temporary-pass-42")
    bob = stack.auth.login("bob", "temporary-pass-42")
    stack.auth.change_password(bob, "temporary-pass-42", USER_PW)
    return admin, bob
