from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from bridge_app.devtools._http import LoopbackServer


@dataclass(frozen=True)
class SeenRequest:
    path: str
    body: dict[str, Any]
    accepted: bool


class FakeInternalUpstream(LoopbackServer):
    """A chat-completions-only internal endpoint (POST /v1/chat/completions), streaming and
    not, that refuses any request whose body lacks a current token or the project fields.

    ``token_valid`` decides whether the token in ``token_field`` is current (the fake IAM's
    ``valid``); ``required_fields`` must be present and non-empty. Every request is recorded
    so tests can assert what really reached the upstream. ``stream_usage=False`` makes its
    streams carry no ``usage`` even when asked for it, like older internal gateways.
    """

    def __init__(
        self,
        *,
        token_valid: Callable[[str | None], bool] | None = None,
        token_field: str = "internal_token",
        required_fields: tuple[str, ...] = ("project_id",),
        reply: str = "Hello from the internal endpoint.",
        stream_usage: bool = True,
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        super().__init__(port, tls=tls)
        self.token_valid = token_valid
        self.token_field = token_field
        self.required_fields = required_fields
        self.reply = reply
        self.stream_usage = stream_usage
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = handler.path.split("?")[0]
        if method == "GET" and path in ("/v1/models", "/models"):
            self.send(
                handler,
                200,
                {"object": "list", "data": [{"id": "internal-model", "object": "model"}]},
            )
            return
        if method != "POST" or not path.endswith("/chat/completions"):
            self.send(handler, 404, {"error": {"message": f"no route {method} {path}"}})
            return
        try:
            body = json.loads(self.read_body(handler) or b"{}")
        except ValueError:
            self.send(handler, 400, {"error": {"message": "body is not JSON"}})
            return
        problem = self._problem(body)
        with self._lock:
            self.seen.append(SeenRequest(path, body, problem is None))
        if problem is not None:
            self.send(handler, 401, {"error": {"message": problem, "type": "auth_error"}})
            return
        if body.get("stream"):
            self._stream(handler, body)
        else:
            self.send(handler, 200, self._completion(body))

    def _problem(self, body: dict[str, Any]) -> str | None:
        token = body.get(self.token_field)
        if self.token_valid is not None and not self.token_valid(token):
            return "internal token missing, expired or unknown"
        missing = [f for f in self.required_fields if not body.get(f)]
        if missing:
            return f"project metadata missing: {', '.join(missing)}"
        return None

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{len(self.seen)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "internal-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16},
        }

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        base = {
            "id": "chatcmpl-fake-stream",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "internal-model"),
        }
        words = self.reply.split(" ")
        chunks: list[dict[str, Any]] = [
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            }
        ]
        for i, word in enumerate(words):
            text = word if i == 0 else " " + word
            chunks.append(
                {
                    **base,
                    "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
                }
            )
        last: dict[str, Any] = {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        if self.stream_usage:
            last["usage"] = {
                "prompt_tokens": 9,
                "completion_tokens": len(words),
                "total_tokens": 9 + len(words),
            }
        chunks.append(last)
        for chunk in chunks:
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()
        handler.close_connection = True
