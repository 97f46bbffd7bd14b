"""The hash chain: how one event is encoded and hashed, and how a sequence is checked.

Each event's hash is SHA-256 over a canonical JSON array of all its fields (seq included)
and the previous event's hash, so changing any field, removing an event or changing the
order breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    ts: str  # ISO 8601, UTC
    actor: str
    action: str
    target: str
    outcome: str
    detail: str
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: Any) -> AuditEvent:
        return cls(
            seq=row.seq,
            ts=row.ts,
            actor=row.actor,
            action=row.action,
            target=row.target,
            outcome=row.outcome,
            detail=row.detail,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@dataclass(frozen=True)
class VerifyResult:
    """``ok`` or the first bad event: ``first_bad_seq`` and ``problem`` in words."""

    ok: bool
    checked: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def message(self) -> str:
        if self.ok:
            return f"The audit log is intact: {self.checked} event(s), head {self.head_hash[:16]}."
        return f"The audit log is NOT intact: {self.problem}"


def event_hash(
    *,
    seq: int,
    ts: str,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    detail: str,
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        [seq, ts, actor, action, target, outcome, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def recompute(event: AuditEvent) -> str:
    return event_hash(
        seq=event.seq,
        ts=event.ts,
        actor=event.actor,
        action=event.action,
        target=event.target,
        outcome=event.outcome,
        detail=event.detail,
        prev_hash=event.prev_hash,
    )


def check_chain(events: Iterable[AuditEvent], head: tuple[int, str] | None) -> VerifyResult:
    """Walk the events in seq order; ``head`` is the recorded (seq, hash) of the newest
    event, kept beside the log to notice events removed from the end."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            missing = (
                f"event #{expected_seq} is missing"
                if event.seq == expected_seq + 1
                else f"events #{expected_seq} to #{event.seq - 1} are missing"
            )
            return _bad(checked, prev, expected_seq, f"{missing} (removed from the log).")
        if event.prev_hash != prev:
            return _bad(
                checked,
                prev,
                event.seq,
                f"event #{event.seq} does not follow the event before it: that one was "
                "rewritten, or events were removed or reordered here.",
            )
        if recompute(event) != event.hash:
            return _bad(
                checked,
                prev,
                event.seq,
                f"event #{event.seq} was altered: its content does not match its hash.",
            )
        prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    last_seq = expected_seq - 1
    if head is None:
        if checked:
            return _bad(
                checked, prev, last_seq, "the log's recorded head is missing (it was removed)."
            )
        return VerifyResult(ok=True, checked=0, head_hash=prev)
    head_seq, head_hash = head
    if head_seq > last_seq:
        return _bad(
            checked,
            prev,
            last_seq + 1,
            f"events #{last_seq + 1} to #{head_seq} at the end of the log are missing (removed).",
        )
    if head_seq < last_seq:
        return _bad(
            checked,
            prev,
            head_seq + 1,
            f"events after #{head_seq} were added outside the app (the log's recorded head "
            f"is event #{head_seq}).",
        )
    if head_hash != prev:
        return _bad(
            checked,
            prev,
            head_seq,
            f"event #{head_seq}, the newest, does not match the log's recorded head: it was "
            "rewritten.",
        )
    return VerifyResult(ok=True, checked=checked, head_hash=prev)


def _bad(checked: int, head: str, seq: int, problem: str) -> VerifyResult:
    return VerifyResult(
        ok=False, checked=checked, head_hash=head, first_bad_seq=seq, problem=problem
    )
