"""Live request metrics: counts, error rate, latency percentiles and tokens, per model (pure)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from statistics import quantiles
from typing import Any

_WINDOW = 1000  # latency samples kept per model for the percentiles


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
    #: tokens_in is the bridge's estimate: the upstream's stream carried no usage
    tokens_estimated: bool = False

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


class ProxyMetrics:
    """Aggregates finished requests since the supervisor was built (restarts keep them).

    ``record`` is called from the proxy's event loop; ``snapshot`` from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = _Counter()
        self._per_model: dict[str, _Counter] = {}
        self._rejected = 0
        self._since = time.time()

    def record(self, sample: RequestSample) -> None:
        with self._lock:
            self._total.add(sample)
            self._per_model.setdefault(sample.model or "unknown", _Counter()).add(sample)

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
        return data
