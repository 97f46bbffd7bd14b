"""What the running LiteLLM router of this process knows about its deployments: their ids,
groups and targets, and which of them cool down until when. Reads only what is already
imported: without a proxy in this process there is nothing to read (and no import cost)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from bridge_app.proxy._metrics import RoutingView

_ERROR_CHARS = 300


def router_view(redact: Callable[[str], str] | None = None) -> RoutingView:
    def read() -> dict[str, dict[str, Any]]:
        server = sys.modules.get("litellm.proxy.proxy_server")
        router = getattr(server, "llm_router", None) if server is not None else None
        if router is None:
            return {}
        view: dict[str, dict[str, Any]] = {}
        # LiteLLM 1.109's router views (get_model_list and cooldown_cache are deprecated).
        for deployment in router.registry().deployments() or []:
            info = deployment.get("model_info") or {}
            params = deployment.get("litellm_params") or {}
            deployment_id = info.get("id")
            if not deployment_id:
                continue
            target = str(params.get("model") or "")
            if params.get("api_base"):
                target += f" @ {params['api_base']}"
            view[str(deployment_id)] = {
                "model": deployment.get("model_name"),
                "target": target,
                "order": params.get("order"),
            }
        active = router.health().cooldowns.get_active_cooldowns(
            model_ids=list(view), parent_otel_span=None
        )
        for deployment_id, value in active:
            error = str(value.get("exception_received") or "")[:_ERROR_CHARS]
            view.setdefault(str(deployment_id), {}).update(
                cooldown_until=float(value.get("timestamp") or 0)
                + float(value.get("cooldown_time") or 0),
                cooldown_status=str(value.get("status_code") or ""),
                cooldown_error=redact(error) if redact else error,
            )
        return view

    return read
