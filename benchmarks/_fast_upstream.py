"""An OpenAI-compatible /v1/chat/completions that answers instantly (run as a process)."""

from __future__ import annotations

import json
import sys
import time

import uvicorn

_BODY = json.dumps(
    {
        "id": "c1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fast",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
).encode()


def _chunk(delta: dict[str, str], finish: str | None) -> bytes:
    payload = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fast",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


_STREAM = (
    _chunk({"role": "assistant", "content": "o"}, None)
    + _chunk({"content": "k"}, None)
    + _chunk({}, "stop")
    + b"data: [DONE]\n\n"
)


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    stream = b'"stream": true' in body or b'"stream":true' in body
    payload = _STREAM if stream else _BODY
    ctype = b"text/event-stream" if stream else b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", ctype), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
