"""When to call the IAM again: a margin proportional to the token's lifetime, and
exponential backoff with jitter after errors. The numbers are documented in docs/iam.md;
change them there too."""

from __future__ import annotations

import random
from dataclasses import dataclass

MARGIN_SHARE = 0.20  # refresh when 20 % of the lifetime is left ...
MARGIN_MAX_S = 120.0  # ... but never earlier than 2 minutes before expiry
MARGIN_MIN_S = 5.0  # ... and never later than 5 s before it
BACKOFF_FIRST_S = 5.0  # after an error (IAM down, timeout): wait 5 s, 10 s, 20 s ...
BACKOFF_MAX_S = 300.0  # ... up to 5 minutes between attempts
BACKOFF_JITTER = 0.5  # each wait is drawn from [50 %, 100 %] of its step


def refresh_margin(lifetime_s: float | None) -> float:
    """Seconds before expiry at which a refresh is due."""
    if lifetime_s is None or lifetime_s <= 0:
        return MARGIN_MAX_S
    return max(MARGIN_MIN_S, min(MARGIN_MAX_S, lifetime_s * MARGIN_SHARE))


def backoff_delay(failures: int, *, rng: random.Random | None = None) -> float:
    """The wait after the ``failures``-th consecutive failed refresh (1-based)."""
    step = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, failures - 1))
    draw: float = (rng or random).uniform(1.0 - BACKOFF_JITTER, 1.0)
    return float(step * draw)


def max_iam_calls(duration_s: float, lifetime_s: float) -> int:
    """The most IAM calls one process makes in ``duration_s`` when the IAM answers: the
    first login, then one per (lifetime - margin)."""
    period = max(1.0, lifetime_s - refresh_margin(lifetime_s))
    return 1 + int(duration_s // period) + 1


@dataclass
class Backoff:
    failures: int = 0
    next_attempt_at: float = 0.0

    def failed(self, now: float, *, rng: random.Random | None = None) -> float:
        self.failures += 1
        delay = backoff_delay(self.failures, rng=rng)
        self.next_attempt_at = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.next_attempt_at = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.next_attempt_at
