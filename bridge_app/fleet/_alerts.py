"""Alerts: the audit events a person must act on, told once per episode to a webhook (JSON
that Teams and Slack incoming webhooks read, and any HTTP receiver) and to the desktop.

Alerts are read from the audit log, like forwarding: the components already record each
of these once per episode (the policy enforcer a quota level once per crossing and a
refusal burst once it closes, the token renewal a refused refresh once, the supervisor
each failure), so an alert channel is one more reader of the log with its own mark, and
what was alerted survives restarts. Episodes that can repeat (a proxy failing again
before it ever recovered) are kept open in the channel's own state.

    quota_80, quota_100    policy.quota "80 % of …" / "100 % of …"
    refresh_blocked        token.refresh denied (the IAM refused the stored login)
    proxy_failed           proxy.start_failed / failed / crashed, until proxy.started
    refusal_burst          policy.request_refused closing a burst of >= BURST refusals
    integrity_failed       integrity.check failed (a bundle file changed or unsigned)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bridge_app.audit import AuditEvent

BURST = 5  # refusals in one burst that make an alert (the first and 4 more)
_MORE = re.compile(r"^(\d+) more refusals? of this kind within ([\d.]+) s after: (.*)$")
_PROXY_FAILED = {"proxy.start_failed", "proxy.failed", "proxy.crashed"}
_PROXY_BACK = {"proxy.started", "proxy.recovered"}
_HOW_IT_FAILED = {
    "proxy.start_failed": "It could not start",
    "proxy.failed": "It stopped and could not be restarted",
    "proxy.crashed": "It crashed",
}
KINDS = (
    "quota_80",
    "quota_100",
    "refresh_blocked",
    "proxy_failed",
    "refusal_burst",
    "integrity_failed",
)


@dataclass(frozen=True)
class Alert:
    kind: str
    title: str
    text: str  # what happened
    action: str  # what to do
    seq: int  # the audit event it comes from
    ts: str
    host: str = ""

    def webhook_payload(self) -> dict[str, Any]:
        """``text`` is what Slack and Teams show; ``alert`` is for any other receiver."""
        where = f" on {self.host}" if self.host else ""
        return {
            "text": f"LiteLLM Bridge{where}: {self.title}\n{self.text}\nWhat to do: {self.action}",
            "alert": asdict(self),
        }


def alerts_from(
    events: Iterable[AuditEvent], episodes: set[str], *, burst: int = BURST
) -> tuple[list[Alert], set[str]]:
    """The alerts these events make, given the episodes still open; and the episodes open
    after them. Pure: the caller keeps ``episodes`` only once the alerts were delivered."""
    out: list[Alert] = []
    open_now = set(episodes)
    for e in events:
        made = _alert(e, open_now, burst)
        if made is not None:
            out.append(made)
    return out, open_now


def _window(limit_name: str) -> float:
    if limit_name.endswith("_per_minute"):
        return 60.0
    if limit_name.endswith("_per_day"):
        return 86_400.0
    return 31 * 86_400.0  # budget_usd_per_month: a calendar month at most


def _new_episode(episodes: set[str], key: str, ts: str, window: float) -> bool:
    """Open ``key`` until ``ts`` + ``window`` (kept as "key|until"); False when it is open."""
    try:
        now = datetime.fromisoformat(ts).timestamp()
    except ValueError:
        now = 0.0
    for entry in [x for x in episodes if "|" in x]:
        name, _, until = entry.rpartition("|")
        try:
            expired = float(until) <= now
        except ValueError:
            expired = True
        if expired:
            episodes.discard(entry)
        elif name == key:
            return False
    episodes.add(f"{key}|{now + window:.0f}")
    return True


def _alert(e: AuditEvent, episodes: set[str], burst: int) -> Alert | None:
    if e.action == "policy.quota":
        level = e.detail.split(" ", 1)[0]
        limit = e.detail.split(" of ", 1)[-1].removesuffix(" reached")
        # The enforcer tells each crossing once, but a restart forgets it did: the same
        # level of the same limit within its window is the same episode.
        name = limit.split(" ", 1)[0]
        if not _new_episode(episodes, f"quota:{e.target}:{name}:{level}", e.ts, _window(name)):
            return None
        if level == "100":
            return Alert(
                "quota_100",
                f"Quota used up: {e.target}",
                f"{e.target} has used all of {limit}; further requests are refused "
                "until the window resets.",
                "Raise the limit in the company policy if the work needs it, or wait for "
                "the window to reset.",
                e.seq,
                e.ts,
            )
        if level == "80":
            return Alert(
                "quota_80",
                f"Quota at 80 %: {e.target}",
                f"{e.target} has used 80 % of {limit}.",
                "Nothing yet: at 100 % requests are refused. Raise the limit in the company "
                "policy if this use is expected.",
                e.seq,
                e.ts,
            )
        return None
    if e.action == "token.refresh" and e.outcome == "denied":
        return Alert(
            "refresh_blocked",
            f"Internal token refresh blocked for {e.actor}",
            f"The identity provider refused the stored login of {e.target}: {e.detail}",
            "The person logs in again in Token & projects (or `litellm-bridge token login`); "
            "until then requests carry no valid internal token.",
            e.seq,
            e.ts,
        )
    if e.action in _PROXY_BACK:
        episodes.discard("proxy")
        return None
    if e.action in _PROXY_FAILED:
        if "proxy" in episodes:
            return None
        episodes.add("proxy")
        return Alert(
            "proxy_failed",
            "The proxy failed",
            f"{_HOW_IT_FAILED.get(e.action, 'It failed')}: {e.detail}",
            "Open Diagnostics in the app or run `litellm-bridge doctor` on the machine; "
            "app.log has the details. Tools get no answer until it runs again.",
            e.seq,
            e.ts,
        )
    if e.action == "policy.request_refused":
        match = _MORE.match(e.detail)
        if match is None or int(match.group(1)) + 1 < burst:
            return None
        count = int(match.group(1)) + 1
        return Alert(
            "refusal_burst",
            f"{count} requests refused by the policy ({e.target})",
            f"{count} requests were refused within {match.group(2)} s; the first: {match.group(3)}",
            "A tool may be misconfigured (a model the policy does not allow) or a limit "
            "too tight for the work: check `litellm-bridge usage` and the policy.",
            e.seq,
            e.ts,
        )
    if e.action == "integrity.check" and e.outcome == "failed":
        key = f"integrity:{e.detail}"
        if key in episodes:
            return None
        episodes.add(key)
        return Alert(
            "integrity_failed",
            "The installed program failed its integrity check",
            e.detail,
            "Reinstall LiteLLM Bridge from IT's release; `litellm-bridge verify` lists the "
            "files that differ.",
            e.seq,
            e.ts,
        )
    return None
