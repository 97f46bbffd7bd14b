"""What the app plugs into LiteLLM: the key check, per-request body hooks and metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import (
    LitellmUserRoles,
    ProxyErrorTypes,
    ProxyException,
    UserAPIKeyAuth,
)

from bridge_app.proxy._keys import KeyRegistry
from bridge_app.proxy._metrics import ProxyMetrics, RequestSample
from bridge_app.proxy._usage_estimate import is_estimated
from bridge_app.runtime import BridgeError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestContext:
    call_type: str  # LiteLLM's name for the operation: "acompletion", "anthropic_messages", ...
    client: str | None  # who the key belongs to (KeyIdentity.name); None on some inner layers


#: Called on the proxy's event loop right before each call to an upstream deployment, on
#: every path (chat, messages, responses, Gemini generateContent); may change ``data``
#: (LiteLLM's call arguments: ``extra_body``, ``extra_headers``, ``metadata``...) in place.
#: Must be quick and idempotent: a request passes through it once per LiteLLM layer
#: (e.g. ``anthropic_messages`` and then its inner ``acompletion``).
RequestHook = Callable[[dict[str, Any], RequestContext], None]
SampleSink = Callable[[RequestSample], None]


def make_auth(
    keys: KeyRegistry, metrics: ProxyMetrics
) -> Callable[[Any, str], Awaitable[UserAPIKeyAuth]]:
    """LiteLLM's ``custom_auth`` contract. LiteLLM has already taken the key from
    Authorization: Bearer, x-api-key, x-goog-api-key or ?key= (generateContent)."""

    async def bridge_auth(request: Any, api_key: str) -> UserAPIKeyAuth:
        identity = keys.identify(api_key)
        if identity is None:
            metrics.record_rejected()
            # A ProxyException, not a plain error: anything else makes LiteLLM look for
            # prisma and answer 500.
            raise ProxyException(
                message=(
                    "Missing API key."
                    if not api_key
                    else "Invalid API key. Use the key shown by `litellm-bridge proxy-key`."
                ),
                type=ProxyErrorTypes.auth_error,
                param="api_key",
                code=401,
            )
        role = LitellmUserRoles.PROXY_ADMIN if identity.admin else LitellmUserRoles.INTERNAL_USER
        return UserAPIKeyAuth(
            api_key=api_key,
            user_id=f"bridge:{identity.name}",
            key_alias=identity.name,
            user_role=role,
        )

    return bridge_auth


#: Body fields a call type cannot do without that LiteLLM does not check itself (1.106.2
#: checks ``contents`` for generateContent but not for streamGenerateContent, whose request
#: without it ended in a 500 "missing 1 required positional argument"; 1.109.3 turns a
#: missing ``contents`` into an empty one and asks the upstream anyway). A clear 400 first.
_REQUIRED_FIELDS = {"agenerate_content_stream": ("contents",)}


def _check_required(call_type: str, data: dict[str, Any]) -> None:
    for name in _REQUIRED_FIELDS.get(call_type, ()):
        if data.get(name) is None:
            raise ProxyException(
                message=f"{call_type}: Missing required parameter: '{name}'.",
                type="invalid_request_error",
                param=name,
                code=400,
            )


def _refusal(exc: BridgeError) -> ProxyException:
    # A hook error may say which HTTP status fits (401 for a missing internal token).
    return ProxyException(
        message=exc.message,
        type="bridge_hook_error",
        param=None,
        code=int(getattr(exc, "http_status", 503)),
        headers=dict(getattr(exc, "http_headers", None) or {}) or None,  # e.g. Retry-After
    )


def _refused(
    exc: BridgeError, model: str, context: RequestContext, data: dict[str, Any]
) -> RequestSample:
    """The request the bridge answers itself, as the metrics and the usage table see it."""
    request = data.get("proxy_server_request") or {}
    url = request.get("url") if isinstance(request, dict) else None
    return RequestSample(
        ts=time.time(),
        model=model or "unknown",
        endpoint=urlsplit(str(url)).path if url else context.call_type,
        status=int(getattr(exc, "http_status", 503)),
        latency_ms=0.0,
        client=context.client,
        error=exc.message[:300],
        refused=True,
    )


def _seconds(start: Any, end: Any) -> float:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return max(0.0, (end - start).total_seconds())
    if isinstance(start, int | float) and isinstance(end, int | float):
        return max(0.0, float(end) - float(start))
    return 0.0


def _requested_model(slo: dict[str, Any], params: dict[str, Any], request: Any) -> str:
    """The model name the client asked for (the config's model_name), not the upstream's,
    nor the fallback that answered (LiteLLM's model_group names that one)."""
    body = request.get("body") if isinstance(request, dict) else None
    if isinstance(body, dict) and isinstance(body.get("model"), str) and body["model"]:
        return str(body["model"])
    for meta_key in ("metadata", "litellm_metadata"):
        meta = params.get(meta_key) or {}
        if isinstance(meta, dict) and meta.get("model_group"):
            return str(meta["model_group"])
    if slo.get("model_group"):
        return str(slo["model_group"])
    url = request.get("url") if isinstance(request, dict) else None
    if url and "/models/" in url:  # Gemini: /v1beta/models/<model>:generateContent
        return urlsplit(url).path.split("/models/", 1)[1].split(":", 1)[0]
    return str(slo.get("model") or "unknown")


def _answered_by(deployment: Any, slo: dict[str, Any], params: dict[str, Any]) -> str | None:
    """ "ID @ HOST:PORT" for the usage row: a readable id (LiteLLM's made-up ids are 64 hex
    digits: the provider model says more) and only the host of the api_base, so neither a
    key in its userinfo or query nor a path reaches the table."""
    name = str(deployment or "")
    if not name or (len(name) == 64 and all(c in "0123456789abcdef" for c in name)):
        name = str(params.get("model") or slo.get("model") or name)
    base = str(slo.get("api_base") or params.get("api_base") or "")
    try:
        host = urlsplit(base).hostname or ""
        port = urlsplit(base).port
    except ValueError:  # not a URL: say nothing rather than echo it
        host, port = "", None
    if ":" in host:
        host = f"[{host}]"
    if host:
        name += f" @ {host}" + (f":{port}" if port else "")
    return name or None


def _for_generate_content(request: Any) -> bool:
    url = str(request.get("url") or "") if isinstance(request, dict) else ""
    return "generateContent" in url or "GenerateContent" in url


def _deployment_extra_body(deployment_id: Any) -> dict[str, Any]:
    import litellm.proxy.proxy_server as ps

    router = getattr(ps, "llm_router", None)
    if router is None or not deployment_id:
        return {}
    try:
        deployment = router.registry().deployment(str(deployment_id))
    except (KeyError, TypeError, ValueError):  # not a deployment of this router
        return {}
    params = getattr(deployment, "litellm_params", None)
    body = getattr(params, "extra_body", None)
    if body is None and isinstance(params, dict):
        body = params.get("extra_body")
    return dict(body) if isinstance(body, dict) else {}


def _complete_generate_content_call(data: dict[str, Any], call_type: str) -> None:
    """Gemini's generateContent reaches a chat-completions upstream through LiteLLM's
    adapter, which drops the deployment's ``extra_body`` (a static project id would never
    reach the upstream; still so in 1.109.3, ``_prepare_completion_kwargs``). Put it back on
    the adapter's inner call; a client's or a hook's fields win over the config's. (1.106.2's
    adapter also dropped ``stream_options.include_usage``; 1.109.3 sets it itself, and this
    keeps setting it for a stream that has none, which is harmless.)"""
    if call_type not in ("acompletion", "completion"):
        return
    if not _for_generate_content(data.get("proxy_server_request")):
        return
    if data.get("stream") and not data.get("stream_options"):
        data["stream_options"] = {"include_usage": True}
    model_info = data.get("model_info")
    static = _deployment_extra_body(model_info.get("id") if isinstance(model_info, dict) else None)
    if static:
        current = data.get("extra_body")
        data["extra_body"] = {**static, **(current if isinstance(current, dict) else {})}


def _status_of(exc: Any) -> int:
    code = getattr(exc, "status_code", None) or getattr(exc, "code", None)
    try:
        return int(code) if code else 500
    except (TypeError, ValueError):
        return 500


class BridgeCallbacks(CustomLogger):
    """One in-process LiteLLM callback object: request hooks, metrics, usage rows."""

    def __init__(self, *, metrics: ProxyMetrics, sink: SampleSink | None = None) -> None:
        super().__init__()
        self.metrics = metrics
        if sink is not None:
            metrics.sink = sink
        self.hooks: list[RequestHook] = []
        self.admission_hooks: list[RequestHook] = []

    # -- before the request goes upstream ----------------------------------------------

    async def async_pre_call_deployment_hook(
        self, kwargs: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        # The deployment hook, not async_pre_call_hook: on the Gemini path only this one's
        # changes reach the upstream (the generateContent adapter drops the rest).
        data = kwargs
        metadata = data.get("litellm_metadata") or data.get("metadata") or {}
        metadata = metadata if isinstance(metadata, dict) else {}
        context = RequestContext(
            call_type=str(getattr(call_type, "value", call_type)),
            client=metadata.get("user_api_key_alias"),
        )
        call_id = data.get("litellm_call_id")
        _complete_generate_content_call(data, context.call_type)
        for hook in list(self.hooks):
            try:
                hook(data, context)
            except BridgeError as exc:
                # Fail closed: a request that cannot carry what a hook adds must not leave.
                model = metadata.get("model_group") or data.get("model")
                self.metrics.refuse(call_id, _refused(exc, str(model or ""), context, data))
                raise _refusal(exc) from exc
        model_info = data.get("model_info") or metadata.get("model_info") or {}
        deployment = model_info.get("id") if isinstance(model_info, dict) else None
        self.metrics.attempt(call_id, str(deployment or "") or None, layer=context.call_type)
        return data

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        # Admission hooks look at the request as the client sent it, before any routing,
        # so a refusal (say, no internal token) is a clean error and nothing leaves.
        context = RequestContext(
            call_type=str(getattr(call_type, "value", call_type)),
            client=getattr(user_api_key_dict, "key_alias", None),
        )
        _check_required(context.call_type, data)
        for hook in list(self.admission_hooks):
            try:
                hook(data, context)
            except BridgeError as exc:
                refused = _refused(exc, str(data.get("model") or ""), context, data)
                self.metrics.refuse(data.get("litellm_call_id"), refused)
                raise _refusal(exc) from exc
        return data

    # -- after it finished ---------------------------------------------------------------

    def _sample(
        self, kwargs: dict[str, Any], start: Any, end: Any, status: int, *, estimated: bool = False
    ) -> RequestSample:
        slo = kwargs.get("standard_logging_object") or {}
        params = kwargs.get("litellm_params") or {}
        model_info = params.get("model_info") or {}
        deployment = slo.get("model_id") or (
            model_info.get("id") if isinstance(model_info, dict) else None
        )
        error = None
        if status >= 400:
            error = str(slo.get("error_str") or kwargs.get("exception") or "")[:300] or None
        request = params.get("proxy_server_request") or {}
        url = request.get("url") if isinstance(request, dict) else None
        endpoint = urlsplit(url).path if url else str(kwargs.get("call_type") or "")
        metadata = slo.get("metadata") or {}
        headers = request.get("headers") if isinstance(request, dict) else None
        agent = headers.get("user-agent") if isinstance(headers, dict) else None
        return RequestSample(
            ts=time.time(),
            model=_requested_model(slo, params, request),
            endpoint=endpoint,
            status=status,
            latency_ms=round(_seconds(start, end) * 1000, 3),
            tokens_in=int(slo.get("prompt_tokens") or 0),
            tokens_out=int(slo.get("completion_tokens") or 0),
            client=metadata.get("user_api_key_alias"),
            cost_usd=float(slo.get("response_cost") or 0.0),
            deployment=str(deployment) if deployment else None,
            answered_by=_answered_by(deployment, slo, params),
            error=error,
            tokens_estimated=estimated,
            agent=str(agent) if agent else None,
            call_id=str(kwargs.get("litellm_call_id") or "") or None,
        )

    def _record(self, sample: RequestSample) -> None:
        self.metrics.record(sample)  # hands each finished client request to the sink

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        try:
            sample = self._sample(
                kwargs, start_time, end_time, 200, estimated=is_estimated(response_obj)
            )
            self._record(sample)
        except Exception:
            log.exception("could not record a finished request")

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        # Gemini's generateContent runs an inner acompletion; LiteLLM 1.109.3 reports a
        # failure of it once, as the inner call (the outer one is marked as logged:
        # google_genai/adapters/handler.py, _mark_failure_logged_by_inner_completion).
        try:
            status = _status_of(kwargs.get("exception"))
            self._record(self._sample(kwargs, start_time, end_time, status))
        except Exception:
            log.exception("could not record a failed request")
