"""Limit counters: what each subject ("user:NAME", "tool:NAME") used in the last minute,
the last 24 hours and this calendar month.

Rolling windows (a log of admitted requests, not fixed buckets) so that "2 per minute"
means two in any 60 seconds, whatever the clock says. Local counters live in the store
(they survive a restart); shared ones in Redis sorted sets, with the local ones kept up to
date too so that an unreachable Redis falls back to what this machine counted.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, case, delete, func, select

from bridge_app.store import Database, tables

log = logging.getLogger(__name__)
_hits = tables["policy_hits"]

MINUTE = 60.0
DAY = 86_400.0
KEEP = 32 * DAY  # longer than any window (a calendar month)


def month_start(now: float) -> float:
    local = datetime.fromtimestamp(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def next_month_start(now: float) -> float:
    local = datetime.fromtimestamp(now)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1).timestamp()


@dataclass(frozen=True)
class Totals:
    minute_requests: int = 0
    minute_tokens: int = 0
    day_requests: int = 0
    day_tokens: int = 0
    month_cost: float = 0.0
    minute_oldest: float | None = None
    day_oldest: float | None = None

    def used(self, limit: str) -> float:
        return float(
            {
                "requests_per_minute": self.minute_requests,
                "tokens_per_minute": self.minute_tokens,
                "requests_per_day": self.day_requests,
                "tokens_per_day": self.day_tokens,
                "budget_usd_per_month": self.month_cost,
            }[limit]
        )

    def retry_after(self, limit: str, now: float) -> float:
        """Seconds until the oldest counted use leaves the window (a lower bound)."""
        if limit.endswith("_per_minute"):
            return (self.minute_oldest or now) + MINUTE - now
        if limit.endswith("_per_day"):
            return (self.day_oldest or now) + DAY - now
        return next_month_start(now) - now


class Counters(Protocol):
    def totals(self, subject: str, now: float, *, month: bool = False) -> Totals: ...

    def add(self, subject: str, ts: float, requests: int, tokens: int, cost: float) -> None: ...


class LocalCounters:
    def __init__(self, *, db: Database) -> None:
        self._db = db

    def totals(self, subject: str, now: float, *, month: bool = False) -> Totals:
        """``month``: also the calendar month's cost (a larger scan: only for budgets)."""
        m, d = now - MINUTE, now - DAY
        in_m = _hits.c.ts >= m
        stmt = select(
            func.sum(case((in_m, _hits.c.requests), else_=0)),
            func.sum(case((in_m, _hits.c.tokens), else_=0)),
            func.sum(_hits.c.requests),
            func.sum(_hits.c.tokens),
            func.min(case((in_m, _hits.c.ts), else_=None)),
            func.min(_hits.c.ts),
        ).where(and_(_hits.c.subject == subject, _hits.c.ts >= d))
        cost = 0.0
        with self._db.reading() as conn:
            row = conn.execute(stmt).one()
            if month:
                cost = float(
                    conn.execute(
                        select(func.sum(_hits.c.cost)).where(
                            and_(
                                _hits.c.subject == subject,
                                _hits.c.ts >= month_start(now),
                                _hits.c.cost > 0,
                            )
                        )
                    ).scalar()
                    or 0.0
                )
        return Totals(
            int(row[0] or 0),
            int(row[1] or 0),
            int(row[2] or 0),
            int(row[3] or 0),
            cost,
            row[4],
            row[5],
        )

    def add(self, subject: str, ts: float, requests: int, tokens: int, cost: float) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                _hits.insert().values(
                    subject=subject, ts=ts, requests=requests, tokens=tokens, cost=cost
                )
            )

    def prune(self, now: float | None = None) -> int:
        cutoff = (now or time.time()) - KEEP
        with self._db.transaction() as conn:
            return int(conn.execute(delete(_hits).where(_hits.c.ts < cutoff)).rowcount or 0)


class RedisCounters:
    """Sorted sets per subject: ``:r`` admitted requests, ``:t`` tokens, ``:c`` cost (the
    amount rides in the member, after a unique id)."""

    def __init__(self, url: str, *, prefix: str = "litellm-bridge:limits:") -> None:
        import redis  # imported here: only policies with limits.shared need it

        self._client: Any = redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=0.5, retry_on_timeout=False
        )
        self._prefix = prefix

    def _key(self, subject: str, kind: str) -> str:
        return f"{self._prefix}{subject}:{kind}"

    def totals(self, subject: str, now: float, *, month: bool = False) -> Totals:
        since = min(now - DAY, month_start(now)) if month else now - DAY
        pipe = self._client.pipeline(transaction=False)
        for kind in ("r", "t", "c"):
            pipe.zremrangebyscore(self._key(subject, kind), "-inf", now - KEEP)
            pipe.zrangebyscore(self._key(subject, kind), since, "+inf", withscores=True)
        results = pipe.execute()
        reqs, toks, costs = results[1], results[3], results[5]
        m, d, mo = now - MINUTE, now - DAY, month_start(now)
        minute_r = [ts for _m, ts in reqs if ts >= m]
        day_r = [ts for _m, ts in reqs if ts >= d]
        minute_t = [(ts, _amount(mem)) for mem, ts in toks if ts >= m]
        day_t = [(ts, _amount(mem)) for mem, ts in toks if ts >= d]
        return Totals(
            minute_requests=len(minute_r),
            minute_tokens=int(sum(a for _t, a in minute_t)),
            day_requests=len(day_r),
            day_tokens=int(sum(a for _t, a in day_t)),
            month_cost=sum(_amount(mem) for mem, ts in costs if ts >= mo),
            minute_oldest=min([*minute_r, *(t for t, _a in minute_t)], default=None),
            day_oldest=min([*day_r, *(t for t, _a in day_t)], default=None),
        )

    def add(self, subject: str, ts: float, requests: int, tokens: int, cost: float) -> None:
        pipe = self._client.pipeline(transaction=False)
        for kind, amount in (("r", requests), ("t", tokens), ("c", cost)):
            if amount:
                key = self._key(subject, kind)
                pipe.zadd(key, {f"{uuid.uuid4().hex}:{amount}": ts})
                pipe.expire(key, int(KEEP))
        pipe.execute()

    def ping(self) -> None:
        self._client.ping()

    def close(self) -> None:
        self._client.close()


def _amount(member: bytes | str) -> float:
    text = member.decode() if isinstance(member, bytes) else member
    try:
        return float(text.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0.0


class SharedCounters:
    """Redis first; this machine's store while Redis cannot be reached (a warning once per
    outage, another try every ``retry`` seconds). Every use is also counted locally."""

    def __init__(
        self, *, url: str, local: LocalCounters, retry: float = 5.0, on_state: Any = None
    ) -> None:
        self.url = url
        self._local = local
        self._remote = RedisCounters(url)
        self._retry = retry
        self._down_until = 0.0
        self.reachable: bool | None = None
        self._on_state = on_state

    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self._retry
        if self.reachable is not False:
            log.warning(
                "shared limit counters at %s cannot be reached (%s): counting on this "
                "machine until it answers again",
                _safe_url(self.url),
                exc.__class__.__name__,
            )
            self.reachable = False
            if self._on_state is not None:
                self._on_state(False)

    def _ok(self) -> None:
        if self.reachable is not True:
            if self.reachable is False:
                log.warning("shared limit counters at %s answer again", _safe_url(self.url))
            self.reachable = True
            if self._on_state is not None:
                self._on_state(True)

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def totals(self, subject: str, now: float, *, month: bool = False) -> Totals:
        if self._usable():
            try:
                totals = self._remote.totals(subject, now, month=month)
            except Exception as exc:  # redis' errors, refused or timed-out sockets
                self._failed(exc)
            else:
                self._ok()
                return totals
        return self._local.totals(subject, now, month=month)

    def add(self, subject: str, ts: float, requests: int, tokens: int, cost: float) -> None:
        self._local.add(subject, ts, requests, tokens, cost)
        if self._usable():
            try:
                self._remote.add(subject, ts, requests, tokens, cost)
            except Exception as exc:
                self._failed(exc)
            else:
                self._ok()

    def close(self) -> None:
        self._remote.close()


def _safe_url(url: str) -> str:
    # redis://user:password@host -> redis://host (no secret in a log line)
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.rsplit('@', 1)[1]}"
    return url
