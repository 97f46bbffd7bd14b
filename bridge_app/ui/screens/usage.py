from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kivy.properties import ListProperty, StringProperty

from bridge_app.services import REFUSED_KEY, UsageFilter, UsageGroup, UsageReport
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen, form_dialog, text_field


def counted(count: int, noun: str) -> str:
    """``1 request``, ``0 requests``, ``3 errors``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _row(g: UsageGroup, key: str | None = None) -> dict[str, str]:
    # The TextRow's own properties: a row class that derived them from properties of its
    # own (key -> headline) was drawn blank when the RecycleView reused it.
    return {
        "headline": key or g.key,
        "supporting": (
            f"{counted(g.requests, 'request')} · {counted(g.errors, 'error')}"
            + (S.USAGE_REFUSED.format(refused=g.refused) if g.refused else "")
            + f" · tokens {g.tokens_in} in / {g.tokens_out} out · "
            f"{g.latency_ms_avg:.0f} ms avg · ~${g.cost_usd:.4f}"
        ),
    }


def _deployment_row(g: UsageGroup) -> dict[str, str]:
    if g.key == REFUSED_KEY:  # nobody answered these: the bridge refused them itself
        return _row(g, S.USAGE_REFUSED_ROW)
    name = S.USAGE_NOT_RECORDED if g.key == "(none)" else g.key
    return _row(g, S.USAGE_ANSWERED_BY.format(key=name))


class UsageScreen(BridgeScreen):
    """Requests, tokens, errors, latency and estimated cost: a chart per day and per
    model, and a table per model then per deployment (which one answered). A user sees
    their own usage, an admin everybody's."""

    summary = StringProperty("")
    day_values = ListProperty([])
    day_caption = StringProperty("")
    model_values = ListProperty([])
    model_caption = StringProperty("")
    rows = ListProperty([])

    def _filter(self) -> UsageFilter:
        try:
            days = max(1, int(self.ids.days.text or "30"))
        except ValueError:
            days = 30
        return UsageFilter(since=time.time() - days * 86_400)

    def refresh(self) -> None:
        session = self.ctx.require_session()
        wanted = self._filter()
        core = self.ctx.core
        self.work(
            "usage-read",
            lambda: core.usage_report(session, wanted, ("day", "model", "deployment")),
            self._show,
        )

    def _show(self, report: UsageReport) -> None:
        days, models = report.groups["day"], report.groups["model"]
        deployments, total = report.groups["deployment"], report.total
        if not total.requests:
            self.summary = S.USAGE_NONE
        else:
            self.summary = S.USAGE_TOTAL.format(
                requests=counted(total.requests, "request"),
                errors=counted(total.errors, "error"),
                refused=S.USAGE_REFUSED.format(refused=total.refused) if total.refused else "",
                tokens_in=total.tokens_in,
                tokens_out=total.tokens_out,
                latency=total.latency_ms_avg,
                cost=total.cost_usd,
            )
        self.day_values = [g.requests for g in days]
        self.day_caption = "   ".join(f"{g.key[5:]}: {g.requests}" for g in days[-10:])
        self.model_values = [g.requests for g in models]
        self.model_caption = "   ".join(f"{g.key}: {g.requests}" for g in models)
        self.rows = [_row(g) for g in models] + [_deployment_row(g) for g in deployments]

    def export(self) -> None:
        session = self.ctx.require_session()
        path = text_field(S.USAGE_EXPORT_TO, text=str(Path.home() / "usage.csv"))
        wanted = self._filter()
        core = self.ctx.core

        def ok(dialog: Any) -> None:
            dialog.dismiss()
            target = Path(path.text.strip()).expanduser()
            fmt = "json" if target.suffix.lower() == ".json" else "csv"

            def done(_count: int) -> None:
                # The status line, not the totals: a later failed export must not leave
                # "Exported to" standing, nor an export hide what the totals say.
                self.tell(f"Exported to {target}.")

            self.work(
                "usage-export",
                lambda: core.export_usage(session, target, fmt, wanted, "day"),
                done,
            )

        form_dialog(S.EXPORT, [path], ok, ok_text=S.EXPORT)
