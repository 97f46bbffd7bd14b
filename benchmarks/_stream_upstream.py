"""A chat-completions endpoint that streams long answers as fast as it can (run as a process).

``POST /<n>/v1/chat/completions`` answers with ``n`` content chunks (one short word each,
ten words in turn, after ``ms`` milliseconds of silence when the path is
``/<n>-<ms>/v1/...``; one ASGI message each, as a model server sends tokens), then the
finish chunk with
``usage`` (what LiteLLM asks for with ``stream_options.include_usage``), then ``[DONE]``.
It counts the requests that carried ``internal_token`` (``GET /stats``). Loopback only.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import uvicorn

_stats = {"requests": 0, "with_token": 0}


def _chunk(
    delta: dict[str, str], finish: str | None = None, usage: dict[str, int] | None = None
) -> bytes:
    payload: dict[str, object] = {
        "id": "s1",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "stream",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        payload["usage"] = usage
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


_FIRST = _chunk({"role": "assistant", "content": ""})
#: ten different words in turn: LiteLLM ends a stream with "The model is repeating the same
#: chunk" after 100 identical chunks in a row (REPEATED_STREAMING_CHUNK_LIMIT)
_WORDS = [_chunk({"content": f" t{i}"}) for i in range(10)]


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/stats" or path == "/health":
        payload = json.dumps(_stats).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        return
    _stats["requests"] += 1
    if b"internal_token" in body:
        _stats["with_token"] += 1
    # /<n>/v1/... or /<n>-<ms>/v1/...: n chunks, the first word after ms of "thinking"
    spec = path.strip("/").split("/", 1)[0]
    n_text, _, delay_text = spec.partition("-")
    try:
        n, delay_ms = int(n_text), int(delay_text or 0)
    except ValueError:
        n, delay_ms = 600, 0
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    await send({"type": "http.response.body", "body": _FIRST, "more_body": True})
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    for i in range(n):
        await send({"type": "http.response.body", "body": _WORDS[i % 10], "more_body": True})
    usage = {"prompt_tokens": 50, "completion_tokens": n, "total_tokens": 50 + n}
    tail = _chunk({}, "stop", usage) + b"data: [DONE]\n\n"
    await send({"type": "http.response.body", "body": tail})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
