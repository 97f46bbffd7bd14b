"""Live request metrics (pure): what the clients saw, what the upstreams saw, and what the
bridge itself refused, kept apart.

- **Client requests**: one per request a client sent to an inference route, with the status
  the client got. LiteLLM logs one failure event per model group it tried and one success
  event for the answer, so a request that fell back counts once, as answered.
- **Upstream attempts**, per deployment: one per call to an upstream (LiteLLM's deployment
  hook runs once per retry and per fallback), settled as failed or answered when the
  request's next event arrives.
- **Refused**: requests the bridge answered itself (policy, quota, no internal token),
  counted as client requests that were refused, never as a deployment's failure.

The three are tied together by the request's call id, which the route gate gives every
inference request (LiteLLM takes it from ``x-litellm-call-id``)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from statistics import quantiles
from typing import Any

_WINDOW = 1000  # latency samples kept per model for the percentiles
_RECENT = 50  # finished requests kept with the deployment that answered them
NO_MODEL = "(no model)"  # a request that failed before a model was chosen
_CALLS = 5000  # requests in flight (or just finished) whose events may still arrive

#: deployment id -> what the router knows of it right now: ``model`` (its group), ``target``
#: (provider model and address) and, while it cools down, ``cooldown_until`` (epoch seconds),
#: ``cooldown_status`` and ``cooldown_error``. Read from the running LiteLLM router.
RoutingView = Callable[[], dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class RequestSample:
    """One finished request, as the usage table and the metrics see it (no prompt text)."""

    ts: float
    model: str
    endpoint: str
    status: int
    latency_ms: float
    tokens_in: int = 0
    tokens_out: int = 0
    client: str | None = None
    cost_usd: float = 0.0  # LiteLLM's estimate from its bundled (offline) cost map
    user: str | None = None  # filled in when the row is written (UsageWriter.annotate)
    deployment: str | None = None  # the router's id of the deployment that was called
    #: what the usage row keeps of it: "ID @ HOST:PORT" (the id, or the provider model when
    #: LiteLLM made the id up, and the host of its api_base; never a key or a path)
    answered_by: str | None = None
    error: str | None = None  # the upstream's error, for a failed call (secrets masked)
    #: tokens_in is the bridge's estimate: the upstream's stream carried no usage
    tokens_estimated: bool = False
    agent: str | None = None  # the client's User-Agent (names the tool behind the main key)
    call_id: str | None = None  # the request's id (the route gate's x-litellm-call-id)
    refused: bool = False  # answered by the bridge itself (policy, quota, no token)

    @property
    def ok(self) -> bool:
        return self.status < 400


def _percentiles(samples: deque[float] | list[float]) -> tuple[float | None, float | None]:
    values = list(samples)
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = quantiles(values, n=100, method="inclusive")
    return round(cuts[49], 2), round(cuts[94], 2)


class _Counter:
    __slots__ = ("errors", "latencies", "refused", "requests", "tokens_in", "tokens_out")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0  # failed, not counting the bridge's own refusals
        self.refused = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.latencies: deque[float] = deque(maxlen=_WINDOW)

    def add(self, sample: RequestSample) -> None:
        self.requests += 1
        if sample.refused:
            self.refused += 1
        elif not sample.ok:
            self.errors += 1
        self.tokens_in += sample.tokens_in
        self.tokens_out += sample.tokens_out
        self.latencies.append(sample.latency_ms)

    def as_dict(self) -> dict[str, Any]:
        p50, p95 = _percentiles(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.errors / self.requests, 4) if self.requests else 0.0,
            "refused": self.refused,
            "latency_ms_p50": p50,
            "latency_ms_p95": p95,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
        }


class _Deployment:
    __slots__ = ("errors", "last_error", "last_error_at", "last_ok_at", "model", "requests")

    def __init__(self, model: str) -> None:
        self.model = model
        self.requests = 0
        self.errors = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.last_ok_at: float | None = None

    def add(self, sample: RequestSample) -> None:
        """One upstream attempt, answered (``sample.ok``) or failed."""
        self.requests += 1
        if sample.ok:
            self.last_ok_at = sample.ts
        else:
            self.errors += 1
            self.last_error = sample.error or f"HTTP {sample.status}"
            self.last_error_at = sample.ts

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "requests": self.requests,
            "errors": self.errors,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "last_ok_at": self.last_ok_at,
        }


@dataclass
class _Call:
    """One client request on its way: the attempts not yet settled and what is known."""

    attempts: list[str] = field(default_factory=list)  # deployments called, oldest first
    failure: RequestSample | None = None  # the latest failure event
    refused: RequestSample | None = None  # the bridge answered itself
    client_status: int | None = None  # what the client got (the gate, once it finished)
    final: bool = False  # counted as a client request
    layer: str | None = None  # LiteLLM's operation whose deployment calls count


class ProxyMetrics:
    """Aggregates finished requests since the supervisor was built (restarts keep them).

    ``attempt``, ``refuse`` and ``record`` are called from the proxy's event loop (LiteLLM's
    hooks and events), ``client_done`` by the route gate, ``snapshot`` from any thread.
    ``routing`` adds what the router knows of each deployment (cooldowns) to the snapshot;
    ``sink`` receives each client request once it is final (the usage rows).
    """

    def __init__(
        self,
        *,
        routing: RoutingView | None = None,
        redact: Callable[[str], str] | None = None,
        sink: Callable[[RequestSample], None] | None = None,
    ) -> None:
        self._redact = redact
        self.sink = sink
        self._lock = threading.Lock()
        self._total = _Counter()
        self._per_model: dict[str, _Counter] = {}
        self._deployments: dict[str, _Deployment] = {}
        self._known: dict[str, dict[str, Any]] = {}  # router id -> its group and target
        self._recent: deque[dict[str, Any]] = deque(maxlen=_RECENT)
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._rejected = 0
        self._since = time.time()
        self._routing = routing

    # -- what happens to one request ------------------------------------------------------

    def _call(self, call_id: str) -> _Call:
        call = self._calls.get(call_id)
        if call is None:
            call = self._calls[call_id] = _Call()
            while len(self._calls) > _CALLS:
                self._calls.popitem(last=False)
        return call

    def attempt(self, call_id: str | None, deployment: str | None, *, layer: str = "") -> None:
        """An upstream is about to be called for the request (each retry and fallback).

        Some operations run a second LiteLLM layer inside the first (Anthropic messages
        and Gemini generateContent on an OpenAI-style deployment run an inner completion);
        both pass the deployment hook for one upstream call, so only the outer ``layer``,
        the first one seen for the request, counts."""
        if not call_id or not deployment:
            return
        with self._lock:
            call = self._call(call_id)
            if call.layer is None:
                call.layer = layer
            if layer == call.layer:
                call.attempts.append(deployment)

    def refuse(self, call_id: str | None, sample: RequestSample) -> None:
        """The bridge answers the request itself (``sample.status``): nothing went upstream
        for it after this, and no deployment is to blame."""
        sample = replace(sample, refused=True, call_id=call_id)
        if not call_id:
            self._final([sample])
            return
        with self._lock:
            call = self._call(call_id)
            call.refused = sample
            ready = self._settle_client(call)
        self._final(ready)

    def record(self, sample: RequestSample) -> None:
        """A LiteLLM success or failure event for the request ``sample.call_id``."""
        if sample.error and self._redact is not None:
            sample = replace(sample, error=self._redact(sample.error))
        if not sample.call_id:  # not through the gate: each event is its own request
            with self._lock:
                if sample.deployment:
                    self._deployment(sample).add(sample)
            self._final([sample])
            return
        with self._lock:
            call = self._call(sample.call_id)
            tried, call.attempts = call.attempts, []
            if sample.ok:
                answered = sample.deployment
                last = max((i for i, d in enumerate(tried) if d == answered), default=None)
                for index, deployment in enumerate(tried):
                    if index != last:
                        self._failed_attempt(deployment, call.failure, sample)
                if answered:
                    self._deployment(sample).add(sample)
                call.failure = None
                ready = [] if call.final else [sample]
                call.final = True
            else:
                # Every open call failed (a refusal is decided before its own call, so the
                # calls still open then had gone upstream and failed).
                why = None if call.refused else sample  # a refusal is not the upstream's
                for deployment in tried:
                    self._failed_attempt(deployment, why, sample)
                call.failure = sample
                ready = self._settle_client(call)
        self._final(ready)

    def client_done(self, call_id: str, status: int, *, endpoint: str) -> None:
        """The route gate finished answering the request: the client got ``status``."""
        with self._lock:
            call = self._call(call_id)
            call.client_status = status
            if status >= 400:
                # LiteLLM logs a failure once per model group: the retries after it failed
                # as silently as the client's answer says (and a call before a refusal
                # failed, or there would have been no second one).
                tried, call.attempts = call.attempts, []
                context = call.failure or RequestSample(time.time(), NO_MODEL, endpoint, status, 0)
                why = None if call.refused else call.failure
                for deployment in tried:
                    self._failed_attempt(deployment, why, context)
            ready = self._settle_client(call)
            if not ready and status >= 400 and not call.final:
                # No model call logged it (LiteLLM refused the request as malformed, say):
                # the client still got an error. (Failure events come before the answer.)
                call.final = True
                ready = [RequestSample(time.time(), NO_MODEL, endpoint, status, 0.0)]
        self._final(ready)

    @staticmethod
    def _settle_client(call: _Call) -> list[RequestSample]:
        """The request's outcome for the client, once it is known: the bridge's refusal, a
        failure the client got, or a stream that broke after its 200 (a failure with no
        attempt left to answer). A success is final as soon as its event arrives."""
        if call.final or call.client_status is None:
            return []
        outcome = call.refused or call.failure
        if outcome is None or (call.client_status < 400 and call.attempts and not call.refused):
            return []  # a fallback answered; its success event is on its way
        call.final = True
        if call.client_status >= 400:
            outcome = replace(outcome, status=call.client_status)
        return [outcome]

    def _deployment(self, sample: RequestSample) -> _Deployment:
        assert sample.deployment
        return self._deployments.setdefault(sample.deployment, _Deployment(sample.model))

    def _failed_attempt(
        self, deployment: str, failure: RequestSample | None, context: RequestSample
    ) -> None:
        known = self._deployments.get(deployment)
        model = known.model if known else context.model
        why = failure if failure is not None and failure.deployment == deployment else None
        self._deployments.setdefault(deployment, _Deployment(model)).add(
            RequestSample(
                ts=context.ts,
                model=model,
                endpoint=context.endpoint,
                status=why.status if why else 502,
                latency_ms=0.0,
                error=(why.error if why else None) or "the attempt failed; the next one was tried",
            )
        )

    def _final(self, samples: list[RequestSample]) -> None:
        """Count finished client requests and hand them to the sink (outside the lock)."""
        if not samples:
            return
        with self._lock:
            for sample in samples:
                self._total.add(sample)
                self._per_model.setdefault(sample.model or "unknown", _Counter()).add(sample)
                self._recent.append(
                    {
                        "ts": sample.ts,
                        "model": sample.model,
                        "deployment": sample.deployment,
                        "status": sample.status,
                        "endpoint": sample.endpoint,
                    }
                )
        if self.sink is not None:
            for sample in samples:
                self.sink(sample)

    def _deployment_view(self) -> dict[str, dict[str, Any]]:
        routed: dict[str, dict[str, Any]] = {}
        if self._routing is not None:
            try:
                routed = self._routing()
            except Exception:  # the router is LiteLLM's: never let it break status
                routed = {}
        with self._lock:
            for deployment, info in routed.items():  # remembered past a restart
                self._known[deployment] = {
                    k: info[k] for k in ("model", "target") if info.get(k) is not None
                }
            seen = {d: c.as_dict() for d, c in self._deployments.items()}
            known = {d: dict(info) for d, info in self._known.items()}
        view: dict[str, dict[str, Any]] = {}
        for deployment in sorted(set(routed) | set(seen)):
            # The router's group, not the model a client asked for when it fell back here.
            merged = {**(seen.get(deployment) or {}), **known.get(deployment, {})}
            merged.setdefault("requests", 0)
            merged.setdefault("errors", 0)
            merged.update(routed.get(deployment) or {})
            if routed and deployment not in routed:
                # Called before a restart with another config: history, not a state.
                merged["current"] = False
            view[deployment] = merged
        return view

    def record_rejected(self) -> None:
        """A request refused before reaching a model (bad or missing key)."""
        with self._lock:
            self._rejected += 1

    def snapshot(self, *, open_connections: int = 0) -> dict[str, Any]:
        with self._lock:
            data = self._total.as_dict()
            data["rejected"] = self._rejected
            data["open_connections"] = open_connections
            data["since"] = self._since
            data["per_model"] = {m: c.as_dict() for m, c in sorted(self._per_model.items())}
            data["recent"] = list(self._recent)
        data["deployments"] = self._deployment_view()
        return data
