from __future__ import annotations

from datetime import datetime

from kivy.properties import StringProperty

from bridge_app.services import AREA_LABELS, InForce, QuotaUse, Refusal
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "–"


class PolicyScreen(BridgeScreen):
    """Read-only: the company policy in force, where it came from, what it locks for
    the person logged in, and their quotas."""

    source = StringProperty("")
    managed = StringProperty("")
    quotas = StringProperty("")
    refusal = StringProperty("")
    content = StringProperty("")

    def refresh(self) -> None:
        session = self.ctx.session
        policy = self.services.policy

        def job() -> tuple[InForce, set[str], list[QuotaUse], Refusal | None]:
            return (
                policy.current(),
                policy.locked_areas(session),
                policy.quota_status(),
                policy.last_refusal(),
            )

        self.work("policy-read", job, self._show)

    def _show(self, result: tuple[InForce, set[str], list[QuotaUse], Refusal | None]) -> None:
        current, locked, quotas, refusal = result
        signed = S.POLICY_SIGNED if current.signed else S.POLICY_UNSIGNED
        self.source = f"{S.POLICY_FROM} {current.source}" + (
            f"\n{_when(current.since)} · {signed}" if current.since else ""
        )
        if locked:
            names = ", ".join(AREA_LABELS[a] for a in sorted(locked))
            self.managed = f"{S.MANAGED_BY_COMPANY}: {names}."
        else:
            self.managed = S.NOTHING_LOCKED
        self.quotas = "\n".join(q.describe() for q in quotas) or S.NO_QUOTAS
        self.refusal = f"{S.POLICY_REFUSED} {refusal.source}: {refusal.reason}" if refusal else ""
        self.content = current.content or S.NO_POLICY_TEXT
