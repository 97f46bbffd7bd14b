"""Usage: the proxy's per-request rows summed by day, model, tool, user or deployment,
exported as CSV or JSON, and pruned after the policy's usage_retention_days."""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, delete, func, select

from bridge_app.policy import PolicyService
from bridge_app.runtime import BridgeError, atomic_write
from bridge_app.store import Database, tables

log = logging.getLogger(__name__)
_usage = tables["usage_records"]

GroupBy = Literal["day", "model", "tool", "user", "deployment"]
GROUPS: tuple[GroupBy, ...] = ("day", "model", "tool", "user", "deployment")
MAIN_KEY_LABEL = "(main key)"


class UsageError(BridgeError):
    pass


@dataclass(frozen=True)
class UsageFilter:
    since: float | None = None
    until: float | None = None
    user: str | None = None
    tool: str | None = None
    model: str | None = None

    def condition(self) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = [_usage.c.id.is_not(None)]
        if self.since is not None:
            parts.append(_usage.c.ts >= self.since)
        if self.until is not None:
            parts.append(_usage.c.ts < self.until)
        if self.user:
            parts.append(_usage.c.user == self.user)
        if self.tool:
            tool = "admin" if self.tool == MAIN_KEY_LABEL else self.tool
            parts.append(_usage.c.client == tool)
        if self.model:
            parts.append(_usage.c.model == self.model)
        return and_(*parts)


#: The ``deployment`` group of requests the bridge refused itself: no deployment was asked.
REFUSED_KEY = "(refused by the bridge)"


@dataclass(frozen=True)
class UsageGroup:
    key: str
    requests: int
    errors: int
    tokens_in: int
    tokens_out: int
    latency_ms_avg: float
    cost_usd: float
    refused: int = 0  # answered by the bridge itself (policy, quota); not in errors


@dataclass(frozen=True)
class UsageReport:
    """What a person may see of the usage (their own; an admin everybody's): the groups
    for each way asked (day, model, ...) and the totals."""

    groups: dict[str, list[UsageGroup]]
    total: UsageGroup


class UsageService:
    def __init__(self, *, db: Database, policy: PolicyService) -> None:
        self._db = db
        self._policy = policy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scoped(self, session: Any, wanted: UsageFilter) -> UsageFilter:
        """Admins see everybody's usage; a user only their own."""
        if session is not None and getattr(session, "is_admin", False):
            return wanted
        if session is None:
            raise UsageError("Log in to see usage.", hint="Add --as USER.")
        own = str(session.username)
        if wanted.user and wanted.user != own:
            raise UsageError(
                "Only an admin can see another person's usage.", hint="Leave out --user."
            )
        return UsageFilter(wanted.since, wanted.until, own, wanted.tool, wanted.model)

    def summary(self, where: UsageFilter, by: GroupBy) -> list[UsageGroup]:
        if by not in GROUPS:
            raise UsageError(
                f"Cannot group usage by {by!r}: use day, model, tool, user or deployment."
            )
        key: Any
        if by == "day":
            key = func.strftime("%Y-%m-%d", _usage.c.ts, "unixepoch", "localtime")
        elif by == "model":
            key = _usage.c.model
        elif by == "tool":
            key = func.coalesce(_usage.c.client, "")
        elif by == "deployment":  # which deployment answered ("" before it was recorded)
            key = case(
                (_usage.c.refused == 1, REFUSED_KEY), else_=func.coalesce(_usage.c.deployment, "")
            )
        else:
            key = func.coalesce(_usage.c.user, "")
        stmt = (
            select(
                key.label("k"),
                func.count(),
                func.sum(case((and_(_usage.c.status >= 400, _usage.c.refused == 0), 1), else_=0)),
                func.sum(_usage.c.tokens_in),
                func.sum(_usage.c.tokens_out),
                # A refusal takes no time upstream: the average is of the answered ones.
                func.avg(case((_usage.c.refused == 0, _usage.c.latency_ms), else_=None)),
                func.sum(_usage.c.cost_usd),
                func.sum(_usage.c.refused),
            )
            .where(where.condition())
            .group_by("k")
            .order_by("k")
        )
        with self._db.reading() as conn:
            rows = conn.execute(stmt).all()
        out = []
        for row in rows:
            name = str(row[0] or "")
            if by == "tool" and name == "admin":
                name = MAIN_KEY_LABEL
            out.append(
                UsageGroup(
                    name or "(none)",
                    int(row[1] or 0),
                    int(row[2] or 0),
                    int(row[3] or 0),
                    int(row[4] or 0),
                    round(float(row[5] or 0.0), 1),
                    round(float(row[6] or 0.0), 6),
                    int(row[7] or 0),
                )
            )
        return out

    def totals(self, where: UsageFilter) -> UsageGroup:
        groups = self.summary(where, "user")
        count = sum(g.requests for g in groups)
        timed = sum(g.requests - g.refused for g in groups)
        latency = (
            sum(g.latency_ms_avg * (g.requests - g.refused) for g in groups) / timed
            if timed
            else 0.0
        )
        return UsageGroup(
            "total",
            count,
            sum(g.errors for g in groups),
            sum(g.tokens_in for g in groups),
            sum(g.tokens_out for g in groups),
            round(latency, 1),
            round(sum(g.cost_usd for g in groups), 6),
            sum(g.refused for g in groups),
        )

    def export(self, path: Path, fmt: str, where: UsageFilter, by: GroupBy = "day") -> int:
        groups = self.summary(where, by)
        total = self.totals(where)
        if fmt == "json":
            doc = {
                "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "by": by,
                "filter": asdict(where),
                "totals": asdict(total),
                "groups": [asdict(g) for g in groups],
            }
            data = (json.dumps(doc, indent=2) + "\n").encode("utf-8")
        elif fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\r\n")
            fields = list(UsageGroup.__dataclass_fields__)
            writer.writerow([by if f == "key" else f for f in fields])
            for g in [*groups, total]:
                row = asdict(g)
                writer.writerow([_cell(row[f]) for f in fields])
            data = buf.getvalue().encode("utf-8-sig")
        else:
            raise UsageError(f"Unknown export format {fmt!r}: use csv or json.")
        target = Path(path).expanduser()
        if not target.parent.is_dir():
            raise UsageError(f"Cannot write {target}: the folder {target.parent} does not exist.")
        atomic_write(target, data, mode=0o600)
        return len(groups)

    # -- retention -----------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete rows older than the policy's usage_retention_days (default 90)."""
        days = self._policy.policy().usage_retention_days
        cutoff = (now or time.time()) - days * 86_400
        with self._db.transaction() as conn:
            removed = int(conn.execute(delete(_usage).where(_usage.c.ts < cutoff)).rowcount or 0)
        self._policy.prune()
        if removed:
            log.info("pruned %d usage rows older than %d days", removed, days)
        return removed

    def start_pruning(self, interval: float = 3600.0) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="usage-prune", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _run(self, interval: float) -> None:
        while True:
            try:
                self.prune()
            except Exception:
                log.exception("could not prune usage rows")
            if self._stop.wait(interval):
                return


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value
