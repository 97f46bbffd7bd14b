"""What the proxy enforces per request: allowed models (403) and limits (429 with
Retry-After), on every wire format, plus the audit of refusal bursts and quota crossings."""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bridge_app.audit import AuditLog
from bridge_app.policy._counters import Totals
from bridge_app.policy._errors import (
    LimitExceededError,
    ModelNotAllowedError,
    UpstreamNotAllowedError,
)
from bridge_app.policy._model import CONCURRENT, LIMIT_KINDS
from bridge_app.policy._service import PolicyService

log = logging.getLogger(__name__)

BURST_WINDOW = 60.0
#: The longest wait a refused client is told to retry after; a limit that frees up later
#: is final: the client is told not to retry, and the message says when.
MAX_RETRY_AFTER_S = 60
#: Tools that retry a 429 for minutes whatever its headers say, silently (measured with
#: the real CLIs; README, "Company policy"): a final refusal answers them 403, which they
#: show. Claude Code, OpenCode and the SDKs get the 429 with x-should-retry: false.
RETRY_ANY_429 = frozenset({"codex-cli", "gemini-cli"})


def when_free(retry_s: float, now: float) -> str:
    """When a refused request may succeed, as a person reads it."""
    seconds = max(1, int(retry_s + 0.999))
    if seconds <= 90:
        return f"Retry after {seconds} s."
    at = datetime.fromtimestamp(now + seconds)
    days = (at.date() - datetime.fromtimestamp(now).date()).days
    clock = at.strftime("%H:%M")
    day = {0: "today", 1: "tomorrow"}.get(days, at.strftime("%A %d %B"))
    day = f"{day} at {clock}"
    hours, rest = divmod(seconds, 3600)
    span = f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min"
    return f"It allows requests again {day} (in {span})."


# Tools that send the install's main key are told apart by their User-Agent.
_AGENTS = (
    ("claude-cli", "claude-code"),
    ("claude-code", "claude-code"),
    ("codex", "codex-cli"),
    ("geminicli", "gemini-cli"),
    ("gemini-cli", "gemini-cli"),
    ("qwen", "qwen-code"),
    ("opencode", "opencode"),
    ("aider", "aider"),
)


def _budget(limits: dict[str, float]) -> bool:
    return "budget_usd_per_month" in limits


def tool_of_agent(user_agent: str | None) -> str | None:
    """The CLI tool a User-Agent header names (``claude-cli/2.0 …`` → ``claude-code``)."""
    agent = (user_agent or "").lower()
    for needle, tool in _AGENTS:
        if needle in agent:
            return tool
    return None


def tool_of(data: dict[str, Any], client: str | None) -> str | None:
    if client and client != "admin":
        return client  # a per-tool key names its tool
    request = data.get("proxy_server_request")
    headers = request.get("headers") if isinstance(request, dict) else None
    if isinstance(headers, dict):
        return tool_of_agent(str(headers.get("user-agent") or headers.get("User-Agent") or ""))
    return None


def model_of(data: dict[str, Any]) -> str | None:
    model = data.get("model")
    if model:
        return str(model)
    request = data.get("proxy_server_request")
    url = str(request.get("url") or "") if isinstance(request, dict) else ""
    if "/models/" in url:  # Gemini: /v1beta/models/<model>:generateContent
        return url.split("/models/", 1)[1].split(":", 1)[0].split("?", 1)[0]
    return None


def _nothing() -> None:
    pass


class RequestPolicy:
    """An admission hook (``supervisor.add_admission_hook``) and a usage annotator
    (``UsageWriter.annotate``) over one PolicyService."""

    def __init__(self, *, service: PolicyService, audit: AuditLog) -> None:
        self._service = service
        self._audit = audit
        self._lock = threading.Lock()
        # kind -> (window start, refusals in the window, the timer that closes it, the first)
        self._bursts: dict[str, tuple[float, int, threading.Timer | None, str]] = {}
        self.burst_window = BURST_WINDOW
        self._levels: dict[tuple[str, str], int] = {}  # (subject, limit) -> 0 / 80 / 100
        self._in_flight: dict[str, int] = {}  # subject -> requests running now

    # -- requests in flight (the proxy's route gate asks, before LiteLLM) --------------

    def enter(self, client: str, user_agent: str | None) -> Callable[[], None]:
        """Admit one inference request under the policy's ``concurrent_requests`` limits
        (per user, per tool, for the machine); the returned function ends it (when its
        response is complete, or the client went away). Over a limit: 429 with
        Retry-After: 1, which every tool waits on and retries — a slot frees up in
        seconds, so a request that waits a moment gets through."""
        policy = self._service.policy()
        if not policy.has_concurrency:
            return _nothing
        tool = client if client and client != "admin" else tool_of_agent(user_agent)
        limited = [
            (subject, label, limits.concurrent)
            for subject, label, limits in self._service.subjects(tool)
            if limits.concurrent
        ]
        with self._lock:
            for subject, label, allowed in limited:
                running = self._in_flight.get(subject, 0)
                if running >= allowed:
                    refused = (subject, label, allowed)
                    break
            else:
                refused = None
                for subject, _label, _allowed in limited:
                    self._in_flight[subject] = self._in_flight.get(subject, 0) + 1
        if refused is not None:
            _subject, label, allowed = refused
            self._refused("limit", f"{CONCURRENT} for {label}")
            raise LimitExceededError(
                f"Your company's policy allows {allowed} request{'s' if allowed > 1 else ''} "
                f"at a time for {label}, and {allowed} {'are' if allowed > 1 else 'is'} "
                "running. Retry in a moment.",
                retry_after=1,
                limit=CONCURRENT,
            )
        done = threading.Event()

        def release() -> None:
            if done.is_set():
                return
            done.set()
            with self._lock:
                for subject, _label, _allowed in limited:
                    left = self._in_flight.get(subject, 1) - 1
                    if left > 0:
                        self._in_flight[subject] = left
                    else:
                        self._in_flight.pop(subject, None)

        return release

    def in_flight(self) -> dict[str, int]:
        with self._lock:
            return dict(self._in_flight)

    # -- admission -----------------------------------------------------------------------

    def __call__(self, data: dict[str, Any], context: Any) -> None:
        policy = self._service.policy()
        model = model_of(data)
        tool = tool_of(data, getattr(context, "client", None))
        if model and not policy.model_allowed(model, self._service.subject_role):
            self._refused("model", f"model {model} for {self._service.subject_user}")
            raise ModelNotAllowedError(model)
        if not policy.has_limits:
            return
        counters = self._service.counters()
        now = time.time()
        subjects = self._service.subjects(tool)
        seen_totals: dict[str, Totals] = {}
        for subject, label, limits in subjects:
            if not limits:
                continue
            totals = counters.totals(subject, now, month=_budget(limits.values))
            seen_totals[subject] = totals
            for name, allowed in limits.values.items():
                used = totals.used(name)
                over = used + 1 > allowed if name.startswith("requests") else used >= allowed
                if over:
                    retry = totals.retry_after(name, now)
                    self._refused("limit", f"{name} for {label}")
                    self._crossed(subject, label, name, used, allowed)
                    # A client told to wait a day waits a day, silently; one told to
                    # retry keeps retrying for minutes (Claude Code, Codex, Gemini CLI
                    # all did): a quota that frees up later is final.
                    final = int(retry + 0.999) > MAX_RETRY_AFTER_S
                    raise LimitExceededError(
                        f"Rate limit of your company's policy reached: {name} = {allowed:g} "
                        f"for {label}. {when_free(retry, now)}",
                        retry_after=min(int(retry + 0.999), MAX_RETRY_AFTER_S),
                        limit=name,
                        final=final,
                        status=403 if final and tool in RETRY_ANY_429 else 429,
                    )
        for subject, label, limits in subjects:
            if limits:
                counters.add(subject, now, 1, 0, 0.0)
                seen = seen_totals[subject]
                for name, allowed in limits.values.items():
                    after = seen.used(name) + (1 if name.startswith("requests") else 0)
                    self._crossed(subject, label, name, after, allowed)

    def upstream(self, kwargs: dict[str, Any], _context: Any) -> None:
        """A request hook (``supervisor.add_request_hook``): runs once the deployment is
        chosen, with its resolved ``api_base``; refuses hosts outside
        network.allowed_upstream_hosts (deployments without an api_base use their
        provider's default and are not checked)."""
        patterns = self._service.policy().allowed_upstream_hosts
        api_base = kwargs.get("api_base")
        if patterns is None or not api_base:
            return
        host = (urlsplit(str(api_base)).hostname or "").lower()
        if not any(fnmatch.fnmatchcase(host, p.lower()) for p in patterns):
            self._refused("upstream", f"upstream host {host}")
            raise UpstreamNotAllowedError(host)

    # -- after the request -----------------------------------------------------------------

    def annotate(self, row: dict[str, Any]) -> None:
        """Fill in who was served and with which tool, and count the tokens and cost a
        request used. A request made with the install's main key is put down to the tool
        its User-Agent names, like the admission hook does for per-tool limits."""
        row["user"] = self._service.subject_user
        if row.get("client") in (None, "admin"):
            row["client"] = tool_of_agent(row.get("agent")) or row.get("client")
        policy = self._service.policy()
        if not policy.has_limits:
            return
        tokens = int(row.get("tokens_in") or 0) + int(row.get("tokens_out") or 0)
        cost = float(row.get("cost_usd") or 0.0)
        if not tokens and not cost:
            return
        counters = self._service.counters()
        ts = float(row.get("ts") or time.time())
        client = row.get("client")
        for subject, label, limits in self._service.subjects(
            client if client and client != "admin" else None
        ):
            if limits:
                counters.add(subject, ts, 0, tokens, cost)
                totals = counters.totals(subject, time.time(), month=_budget(limits.values))
                for name, allowed in limits.values.items():
                    self._crossed(subject, label, name, totals.used(name), allowed)

    # -- audit ---------------------------------------------------------------------------

    def _refused(self, kind: str, what: str) -> None:
        """One audit event when a burst of refusals starts, and one when its window
        closes saying how many more followed (none when the first stayed alone)."""
        now = time.monotonic()
        with self._lock:
            start, count, timer, first = self._bursts.get(kind, (0.0, 0, None, what))
            if timer is not None and now - start < self.burst_window:
                self._bursts[kind] = (start, count + 1, timer, first)
                return
            timer = threading.Timer(self.burst_window, self._close_burst, (kind,))
            timer.daemon = True
            self._bursts[kind] = (now, 1, timer, what)
        timer.start()
        self._safe_audit("policy.request_refused", kind, "denied", f"refused: {what}")

    def _close_burst(self, kind: str) -> None:
        with self._lock:
            _start, count, _timer, first = self._bursts.pop(kind, (0.0, 0, None, ""))
        if count > 1:
            self._safe_audit(
                "policy.request_refused",
                kind,
                "denied",
                f"{count - 1} more refusal{'s' if count > 2 else ''} of this kind within "
                f"{self.burst_window:g} s after: {first}",
            )

    def close(self) -> None:
        """Write the counts of bursts still open (the proxy is stopping)."""
        with self._lock:
            open_bursts = {kind: burst[2] for kind, burst in self._bursts.items()}
        for kind, timer in open_bursts.items():
            if timer is not None:
                timer.cancel()
            self._close_burst(kind)

    def _crossed(self, subject: str, label: str, name: str, used: float, allowed: float) -> None:
        level = 100 if used >= allowed else 80 if used >= 0.8 * allowed else 0
        key = (subject, name)
        with self._lock:
            before = self._levels.get(key, 0)
            self._levels[key] = level
        if level > before:
            self._safe_audit(
                "policy.quota",
                label,
                "ok",
                f"{level} % of {name} = {allowed:g} ({LIMIT_KINDS[name][0]}) reached",
            )

    def _safe_audit(self, action: str, target: str, outcome: str, detail: str) -> None:
        try:
            self._audit.record(None, action, target, outcome, detail)
        except Exception:
            log.exception("could not record %s in the audit log", action)
