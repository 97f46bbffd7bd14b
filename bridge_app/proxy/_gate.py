"""Which of LiteLLM's ~1000 routes answer, and to whom.

LiteLLM's own checks leave much open on an install without Postgres: ``/openapi.json``,
``/docs`` and ``/.well-known/litellm-ui-config`` answer without a key, any valid key reads
``/model/info`` (every upstream ``api_base``), ``/routes`` and ``/debug/*``, and admin
routes fail with 500 "Database not connected". So the app puts one ASGI gate in front of
the whole LiteLLM app, deciding by path before LiteLLM routes the request (or lazily
imports a feature for it):

- no key: only the liveness and readiness probes answer; everything else is 401;
- a tool key: only the inference routes the tools use; anything else is 403;
- the master key (the app's own; never written into a tool's config): the inference
  routes plus the few read-only routes the app and an admin use (``/health``, model
  info); every other LiteLLM route, which needs LiteLLM's database or exposes its
  internals, is 403.

The key check itself stays in LiteLLM's ``custom_auth`` hook too (see ``_hooks``): the
gate only narrows what a valid key reaches. Pure ASGI, no LiteLLM import.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from bridge_app.proxy._keys import KeyIdentity, KeyRegistry
from bridge_app.proxy._metrics import ProxyMetrics
from bridge_app.runtime import BridgeError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
CALL_ID_HEADER = b"x-litellm-call-id"


class InFlightLimit(Protocol):
    def enter(self, client: str, user_agent: str | None) -> Callable[[], None]:
        """Admit one inference request of ``client`` (the key's name) or raise a
        BridgeError with ``http_status`` and ``http_headers``; the returned function is
        called once the response is complete or the client went away."""
        ...


#: (methods, path pattern) that answer without a key: the probes the watchdog and
#: service managers use; they reveal nothing but "up" / "ready".
OPEN_ROUTES: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = (
    (frozenset({"GET", "HEAD", "OPTIONS"}), re.compile(r"/health/(liveliness|readiness)")),
)

_POST = frozenset({"POST"})
_GET = frozenset({"GET", "HEAD"})
_MODEL = r"[^/]+(?:/[^/:]+)*"  # model names may contain "/" (openai/gpt-4o)

#: what tool keys reach: the wire formats of the tools the app configures (OpenAI chat
#: and completions, Anthropic messages, OpenAI responses, Gemini generateContent), model
#: lists, embeddings and token counting.
INFERENCE_ROUTES: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = tuple(
    (methods, re.compile(pattern))
    for methods, pattern in (
        (_POST, r"(?:/v1|/openai/v1)?/chat/completions"),
        (_POST, r"(?:/openai/deployments|/engines)/" + _MODEL + r"/chat/completions"),
        (_POST, r"(?:/v1)?/completions"),
        (_POST, r"(?:/openai/deployments|/engines)/" + _MODEL + r"/completions"),
        (_POST, r"(?:/v1)?/embeddings"),
        (_POST, r"(?:/openai/deployments|/engines)/" + _MODEL + r"/embeddings"),
        (_POST, r"/v1/messages(?:/count_tokens)?"),
        (_POST, r"(?:/v1|/openai/v1)?/responses(?:/compact|/input_tokens)?"),
        (
            _POST,
            r"(?:/v1beta)?/models/" + _MODEL + r":(?:generateContent|streamGenerateContent"
            r"|countTokens)",
        ),
        (_GET, r"(?:/v1)?/models"),
        (_GET, r"(?:/v1)?/models/[^/:]+"),
        (_POST, r"/utils/token_counter"),
    )
)

#: what the master key reaches besides the inference routes: health of every model and
#: the model list with details, read-only and working without LiteLLM's database.
MASTER_ROUTES: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = (
    (_GET, re.compile(r"/health")),
    (_GET, re.compile(r"(?:/v1)?/model/info")),
    (_GET, re.compile(r"/model_group/info")),
)

_KEY_HEADERS = (b"x-api-key", b"x-goog-api-key", b"api-key", b"x-litellm-api-key")


def _matches(
    table: tuple[tuple[frozenset[str], re.Pattern[str]], ...], method: str, path: str
) -> bool:
    return any(method in methods and pattern.fullmatch(path) for methods, pattern in table)


def route_access(method: str, path: str) -> str:
    """ "open", "tool" (any valid key), "master" (the master key only) or "closed"."""
    path = path.rstrip("/") or "/"
    if _matches(OPEN_ROUTES, method, path):
        return "open"
    if _matches(INFERENCE_ROUTES, method, path):
        return "tool"
    if _matches(MASTER_ROUTES, method, path):
        return "master"
    return "closed"


def presented_key(scope: Scope) -> str | None:
    """The key the way LiteLLM reads it: Authorization: Bearer, x-api-key,
    x-goog-api-key, api-key (Azure SDKs), x-litellm-api-key or ?key= (Gemini)."""
    headers: dict[bytes, bytes] = {
        bytes(name).lower(): bytes(value) for name, value in scope.get("headers") or ()
    }
    auth = headers.get(b"authorization", b"").decode("latin-1").strip()
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    for name in _KEY_HEADERS:
        text = headers.get(name, b"").decode("latin-1").strip()
        if text:
            return text
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    keys = query.get("key")
    return str(keys[0]) if keys else None


def _closing(send: Send) -> Send:
    async def closing_send(message: Any) -> None:
        if message.get("type") == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return closing_send


class RouteGate:
    """The ASGI app uvicorn serves: LiteLLM's app behind the route rules above."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyRegistry,
        metrics: ProxyMetrics | None = None,
        in_flight: InFlightLimit | None = None,
    ) -> None:
        self.app = app
        self.in_flight = in_flight
        self.keys = keys
        self.metrics = metrics
        # Before a planned restart: every response says "Connection: close", so no client
        # is left holding an idle keep-alive connection that the stopping server closes
        # just as the client sends its next request on it (a reset, a failed request).
        self.draining = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        if kind == "http" and self.draining:
            send = _closing(send)
        if kind != "http":  # websockets: no tool of the app uses them
            await send({"type": "websocket.close", "code": 1008})
            return
        method = str(scope.get("method", "GET")).upper()
        path = str(scope.get("path", "/"))
        access = route_access(method, path)
        if access == "open":
            await self.app(scope, receive, send)
            return
        identity = self.keys.identify(presented_key(scope))
        if identity is None:
            if self.metrics is not None:
                self.metrics.record_rejected()
            await _error(send, 401, _unauthenticated(scope), "auth_error")
            return
        if self._allowed(access, identity):
            if access == "tool" and method == "POST" and self.metrics is not None:
                await self._counted(scope, receive, send, self.metrics, identity)
            else:
                await self.app(scope, receive, send)
            return
        await _error(send, 403, _forbidden(access, identity, method, path), "permission_error")

    async def _counted(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        metrics: ProxyMetrics,
        identity: KeyIdentity,
    ) -> None:
        """An inference request, under an id of the bridge's own (LiteLLM uses the
        ``x-litellm-call-id`` header as its call id; a client's own value is replaced), so
        that what the client got and what LiteLLM's events say are counted as one request."""
        call_id = f"bridge-{uuid.uuid4().hex}"
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != CALL_ID_HEADER]
        scope = {**scope, "headers": [*headers, (CALL_ID_HEADER, call_id.encode())]}
        status = 500  # what a client gets when the app fails before answering

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        release = _admitted
        if self.in_flight is not None:
            try:
                release = self.in_flight.enter(identity.name, _header(scope, b"user-agent"))
            except BridgeError as exc:  # the policy's concurrent_requests
                status = int(getattr(exc, "http_status", 429))
                extra = dict(getattr(exc, "http_headers", {}) or {})
                metrics.record_rejected()
                await _error(send, status, exc.message, "rate_limit_error", headers=extra)
                return
        try:
            await self.app(scope, receive, watching)
        finally:
            release()  # the response is complete, failed, or the client went away
            metrics.client_done(call_id, status, endpoint=str(scope.get("path", "")))

    @staticmethod
    def _allowed(access: str, identity: KeyIdentity) -> bool:
        if access == "tool":
            return True
        return access == "master" and identity.admin


def _unauthenticated(scope: Scope) -> str:
    if presented_key(scope) is None:
        return (
            "Missing API key. Send the key shown by `litellm-bridge proxy-key` (or a tool "
            "key) as Authorization: Bearer <key>."
        )
    return "Invalid API key. Use the key shown by `litellm-bridge proxy-key` or a tool key."


def _forbidden(access: str, identity: KeyIdentity, method: str, path: str) -> str:
    if access == "master":
        return (
            f"{method} {path} needs the proxy's master key; the key of {identity.name} reaches "
            "only the inference routes (chat, completions, messages, responses, Gemini, "
            "models, embeddings, token counting)."
        )
    return (
        f"{method} {path} is not available through LiteLLM Bridge: it serves the inference "
        "routes, /health and model info; LiteLLM's management routes need a database this "
        "app does not run."
    )


def _admitted() -> None:
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _error(
    send: Send, status: int, message: str, kind: str, *, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}
    ).encode()
    extra = [(k.lower().encode(), str(v).encode()) for k, v in (headers or {}).items()]
    headers_out = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    if status == 401:
        headers_out.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers_out})
    await send({"type": "http.response.body", "body": body})
