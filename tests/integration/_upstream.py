"""A tiny OpenAI-compatible upstream on 127.0.0.1 that records what reaches it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

if TYPE_CHECKING:
    from bridge_app.devtools import FakeInternalUpstream
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeUpstream:
    """Answers /v1/chat/completions (stream or not). ``fail_with`` makes it answer that
    HTTP error whose body echoes the Authorization header it got (as some servers do)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        # Set: streams stop after their first chunk until it is released (requests in
        # flight for as long as a test needs).
        self.hold: threading.Event | None = None
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="fake-upstream", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        data = json.loads(body) if body else {}
        self.requests.append(
            {"path": request.url.path, "headers": dict(request.headers), "json": data}
        )
        if self.fail_with:
            auth = request.headers.get("authorization", "")
            return JSONResponse(
                {"error": {"message": f"upstream rejected credentials {auth}", "type": "auth"}},
                status_code=self.fail_with,
            )
        if not request.url.path.endswith("/chat/completions"):
            return JSONResponse({"error": {"message": "not found"}}, status_code=404)
        model = data.get("model")
        if data.get("stream"):

            async def chunks() -> Any:
                for i, word in enumerate(["upstream ", "says ", "hi"]):
                    if i == 1 and self.hold is not None:
                        while not self.hold.is_set():
                            await asyncio.sleep(0.05)
                    delta = {"role": "assistant", "content": word} if i == 0 else {"content": word}
                    chunk = {
                        "id": "c1",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                    }
                    yield f"data: {json.dumps(chunk)}\n\n"
                done = {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                yield f"data: {json.dumps(done)}\n\n"
                yield "data: [DONE]\n\n"

            return StreamingResponse(chunks(), media_type="text/event-stream")
        return JSONResponse(
            {
                "id": "c1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "upstream says hi"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
            }
        )

    def start(self) -> FakeUpstream:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def internal_config(upstream: FakeInternalUpstream, base: str | None = None) -> str:
    """A config routing ``internal-chat`` to a chat-completions-only internal endpoint
    (at ``base`` when it is reached by another name than its own address)."""
    # The internal-enterprise template's routing, with a static project instead of the
    # per-user placeholders (the token injection is not what this test is about).
    return (
        "model_list:\n"
        "  - model_name: internal-chat\n"
        "    litellm_params:\n"
        "      model: hosted_vllm/internal-chat\n"
        f"      api_base: {base or upstream.url}/v1\n"
        "      use_chat_completions_api: true\n"
        "      extra_body: {project_id: P-1}\n"
        "litellm_settings:\n"
        "  drop_params: true\n"
        "  use_chat_completions_url_for_anthropic_messages: true\n"
        "general_settings:\n"
        "  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
