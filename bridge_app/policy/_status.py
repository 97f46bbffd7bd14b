"""What a running instance reports of the policy: what is in force and where it came from,
the last refusal, and how much of a quota is used."""

from __future__ import annotations

from dataclasses import dataclass

from bridge_app.policy._model import LIMIT_KINDS, Policy


@dataclass(frozen=True)
class InForce:
    policy: Policy
    source: str  # "none", "machine file /etc/...", "applied by alice from x.yaml"
    content: str = ""
    digest: str = ""
    signed: bool = False
    actor: str = ""
    since: float | None = None


@dataclass(frozen=True)
class Refusal:
    source: str
    reason: str
    at: float


@dataclass(frozen=True)
class QuotaUse:
    subject: str  # "user alice", "tool claude-code"
    limit: str  # requests_per_minute ...
    used: float
    allowed: float

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.allowed if self.allowed else 0.0

    def describe(self) -> str:
        label = LIMIT_KINDS[self.limit][0]
        used = f"{self.used:.2f}" if self.limit.startswith("budget") else f"{int(self.used)}"
        allowed = f"{self.allowed:g}"
        return f"{self.subject}: {used} of {allowed} {label} ({self.percent:.0f} %)"
