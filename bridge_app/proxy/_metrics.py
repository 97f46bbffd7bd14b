"""Live request metrics: counts, error rate, latency percentiles and tokens, per model (pure)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from statistics import quantiles
from typing import Any

_WINDOW = 1000  # latency samples kept per model for the percentiles
_RECENT = 50  # finished requests kept with the deployment that answered them

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
    __slots__ = ("errors", "latencies", "requests", "tokens_in", "tokens_out")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.latencies: deque[float] = deque(maxlen=_WINDOW)

    def add(self, sample: RequestSample) -> None:
        self.requests += 1
        self.errors += 0 if sample.ok else 1
        self.tokens_in += sample.tokens_in
        self.tokens_out += sample.tokens_out
        self.latencies.append(sample.latency_ms)

    def as_dict(self) -> dict[str, Any]:
        p50, p95 = _percentiles(self.latencies)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": round(self.errors / self.requests, 4) if self.requests else 0.0,
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


class ProxyMetrics:
    """Aggregates finished requests since the supervisor was built (restarts keep them).

    ``record`` is called from the proxy's event loop; ``snapshot`` from any thread.
    ``routing`` adds what the router knows of each deployment (cooldowns) to the snapshot.
    """

    def __init__(
        self,
        *,
        routing: RoutingView | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._redact = redact
        self._lock = threading.Lock()
        self._total = _Counter()
        self._per_model: dict[str, _Counter] = {}
        self._deployments: dict[str, _Deployment] = {}
        self._known: dict[str, dict[str, Any]] = {}  # router id -> its group and target
        self._recent: deque[dict[str, Any]] = deque(maxlen=_RECENT)
        self._rejected = 0
        self._since = time.time()
        self._routing = routing

    def record(self, sample: RequestSample) -> None:
        with self._lock:
            self._total.add(sample)
            self._per_model.setdefault(sample.model or "unknown", _Counter()).add(sample)
            if sample.error and self._redact is not None:
                sample = replace(sample, error=self._redact(sample.error))
            if sample.deployment:
                self._deployments.setdefault(sample.deployment, _Deployment(sample.model)).add(
                    sample
                )
            self._recent.append(
                {
                    "ts": sample.ts,
                    "model": sample.model,
                    "deployment": sample.deployment,
                    "status": sample.status,
                    "endpoint": sample.endpoint,
                }
            )

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
            merged = {**known.get(deployment, {}), **(seen.get(deployment) or {})}
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
