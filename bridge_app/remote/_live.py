"""What the running proxy says of each deployment of the config: its state (healthy,
cooling down until when, failing with its last error) and which deployment answered each
recent request. Pure: reads the proxy's metrics snapshot, as published in its status."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge_app.remote._routing import Deployment, ModelGroup

#: What to do when an upstream's certificate is not trusted (a company CA).
TLS_HINT = (
    "its certificate is not trusted: the company CA belongs in this machine's trust store "
    "(IT rolls it out; the app reads it), or an admin sets the shared entry SSL_CERT_FILE to "
    "the CA file, see README, 'An internal endpoint behind a company CA'"
)

#: What to do when the company proxy refuses the credentials (or got none).
PROXY_AUTH_HINT = (
    "the company proxy wants credentials it did not get or refused: an admin sets the shared "
    "entries PROXY_USERNAME and PROXY_PASSWORD, see docs/network.md; `litellm-bridge doctor` "
    "checks the route"
)


@dataclass(frozen=True)
class DeploymentState:
    id: str
    group: str
    target: str
    state: str  # "healthy" | "cooling down" | "failing" | "not used yet"
    detail: str  # what a person reads after the state
    requests: int
    errors: int
    cooldown_until: float | None = None

    def line(self) -> str:
        return f"{self.group:<16} {self.id:<20} {self.state:<13} {self.detail}"

    def sentence(self) -> str:
        """One line a person reads on the dashboard and in `status`: "smart · primary:
        cooling down until 21:03:04 after 429: ...", "... healthy (3 upstream calls, 0 failed)"."""
        said = f"{self.group} · {self.id}: {self.state}"
        if self.state == "cooling down":
            return f"{said} {self.detail}"
        if self.state == "failing":
            return f"{said}, {self.detail}"
        return f"{said} ({self.detail})"


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _target(deployment: Deployment) -> str:
    return deployment.model + (f" @ {deployment.api_base}" if deployment.api_base else "")


def _last_seen(data: Mapping[str, Any]) -> float:
    """How recent an entry is: the current router's first, then the last call's time."""
    current = 0.0 if data.get("current") is False else 1e12
    return current + max(float(data.get("last_ok_at") or 0), float(data.get("last_error_at") or 0))


def live_ids(groups: Sequence[ModelGroup], metrics: Mapping[str, Any]) -> dict[str, str]:
    """The router's id -> the config's id of each deployment. A deployment without a
    ``model_info.id`` gets a hash id from LiteLLM, a new one when its parameters change
    (a config applied): it is matched by its target (provider model and address), else by
    its group in order, the current router's entries first. Entries from before a restart
    keep their match, so older requests still name the deployment that answered them."""
    live: Mapping[str, Any] = metrics.get("deployments") or {}
    mapping = {d.id: d.id for g in groups for d in g.deployments if d.explicit_id and d.id in live}
    for group in groups:
        implicit = [d for d in group.deployments if not d.explicit_id]
        unclaimed = sorted(
            (
                live_id
                for live_id, data in live.items()
                if live_id not in mapping
                and isinstance(data, Mapping)
                and data.get("model") == group.name
            ),
            key=lambda live_id: -_last_seen(live[live_id]),
        )
        positional = []
        for live_id in unclaimed:
            same = [d for d in implicit if _target(d) == live[live_id].get("target")]
            if len(same) == 1:
                mapping[live_id] = same[0].id
            else:
                positional.append(live_id)
        free = [d for d in implicit if d.id not in mapping.values()]
        for deployment, live_id in zip(free, positional, strict=False):
            mapping[live_id] = deployment.id
    return mapping


def deployment_states(
    groups: Sequence[ModelGroup], metrics: Mapping[str, Any], *, now: float | None = None
) -> list[DeploymentState]:
    """Each deployment of the config with what the running proxy says of it."""
    now = time.time() if now is None else now
    live: Mapping[str, Any] = metrics.get("deployments") or {}
    by_config_id: dict[str, Mapping[str, Any]] = {}
    for live_id, config_id in live_ids(groups, metrics).items():
        chosen = by_config_id.get(config_id)
        if chosen is None or _last_seen(live[live_id]) > _last_seen(chosen):
            by_config_id[config_id] = live[live_id]  # what the current router says
    states = []
    for group in groups:
        for deployment in group.deployments:
            data = by_config_id.get(deployment.id) or {}
            target = _target(deployment)
            requests, errors = int(data.get("requests") or 0), int(data.get("errors") or 0)
            until = data.get("cooldown_until")
            last_error, error_at = data.get("last_error"), data.get("last_error_at")
            ok_at = data.get("last_ok_at")
            if isinstance(until, int | float) and until > now:
                # LiteLLM keeps only the first 50 characters of the error that started a
                # cooldown (the rest becomes "*"): the one the bridge recorded says more.
                why = last_error or str(data.get("cooldown_error") or "").rstrip("*")
                status = data.get("cooldown_status")
                reason = f" after {status}" if status else ""
                state, detail = "cooling down", f"until {_clock(until)}{reason}: {why}".rstrip(": ")
            elif last_error and (ok_at is None or (error_at or 0) > ok_at):
                state, detail = "failing", f"last error at {_clock(error_at or now)}: {last_error}"
                if "certificate verify failed" in last_error.lower().replace("_", " "):
                    detail += f" ({TLS_HINT})"
                elif "proxy authentication required" in last_error.lower():
                    detail += f" ({PROXY_AUTH_HINT})"
            elif requests:
                state, detail = "healthy", f"{requests} upstream calls, {errors} failed"
            else:
                state, detail = "healthy", "no requests yet"
            states.append(
                DeploymentState(
                    id=deployment.id,
                    group=group.name,
                    target=target,
                    state=state,
                    detail=detail,
                    requests=requests,
                    errors=errors,
                    cooldown_until=float(until) if isinstance(until, int | float) else None,
                )
            )
    return states


@dataclass(frozen=True)
class AnsweredRequest:
    ts: float
    model: str
    deployment: str | None
    status: int

    def clock(self) -> str:
        return _clock(self.ts)

    def line(self) -> str:
        who = self.deployment or "-"
        return f"{_clock(self.ts)}  {self.model:<16} -> {who:<20} HTTP {self.status}"


def recent_requests(
    metrics: Mapping[str, Any], limit: int = 20, names: Mapping[str, str] | None = None
) -> list[AnsweredRequest]:
    """Newest first: which deployment answered each recent request (``names`` maps the
    router's ids to the config's)."""
    recent = list(metrics.get("recent") or [])[-limit:]
    names = names or {}
    return [
        AnsweredRequest(
            ts=float(r.get("ts") or 0),
            model=str(r.get("model") or ""),
            deployment=names.get(str(r.get("deployment")), r.get("deployment")),
            status=int(r.get("status") or 0),
        )
        for r in reversed(recent)
        if isinstance(r, Mapping)
    ]
