"""A chat-completions-only "internal endpoint" that answers instantly (run as a process).

Three behaviours, chosen by the first path segment of the api_base:

* ``/usage/v1/chat/completions``     the last stream chunk always carries ``usage``
* ``/onrequest/v1/chat/completions`` ``usage`` only when the request asks for it with
  ``stream_options.include_usage`` (what OpenAI and vLLM do)
* ``/nousage/v1/chat/completions``   never any ``usage`` in a stream (older internal gateways)

The body is not parsed (a 400 KB prompt would make the upstream the bottleneck): the flags
are found by byte search. ``GET /stats`` says how many requests carried an internal token,
so a run can show that the bridge's injection was active.
"""

from __future__ import annotations

import json
import sys
import time

import uvicorn

_REPLY = [
    "I",
    "will",
    "read",
    "the",
    "file",
    "first",
    "and",
    "then",
    "make",
    "the",
    "smallest",
    "change",
    "that",
    "fixes",
    "the",
    "failing",
    "test,",
    "keeping",
    "the",
    "public",
    "interface",
    "as",
    "it",
    "is.",
]
_STATS = {"requests": 0, "with_token": 0, "asked_usage": 0}


def _chunk(delta: dict[str, object], finish: str | None, usage: bool = False) -> bytes:
    payload: dict[str, object] = {
        "id": "chatcmpl-agent",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "internal-chat",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        payload["usage"] = {
            "prompt_tokens": 1000,
            "completion_tokens": len(_REPLY),
            "total_tokens": 1000 + len(_REPLY),
        }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _stream(with_usage: bool) -> bytes:
    parts = [_chunk({"role": "assistant", "content": ""}, None)]
    parts += [_chunk({"content": w if i == 0 else " " + w}, None) for i, w in enumerate(_REPLY)]
    parts.append(_chunk({}, "stop", usage=with_usage))
    return b"".join(parts) + b"data: [DONE]\n\n"


_STREAM_USAGE = _stream(True)
_STREAM_NO_USAGE = _stream(False)
_BODY = json.dumps(
    {
        "id": "chatcmpl-agent",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "internal-chat",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(_REPLY)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1000, "completion_tokens": len(_REPLY), "total_tokens": 1030},
    }
).encode()


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/stats":
        payload, ctype = json.dumps(_STATS).encode(), b"application/json"
    elif path.endswith("/chat/completions"):
        _STATS["requests"] += 1
        if b'"internal_token"' in body:
            _STATS["with_token"] += 1
        asked = b'"include_usage": true' in body or b'"include_usage":true' in body
        _STATS["asked_usage"] += asked
        stream = b'"stream": true' in body or b'"stream":true' in body
        mode = path.split("/")[1]
        with_usage = mode == "usage" or (mode == "onrequest" and asked)
        if stream:
            payload = _STREAM_USAGE if with_usage else _STREAM_NO_USAGE
            ctype = b"text/event-stream"
        else:
            payload, ctype = _BODY, b"application/json"
    else:  # readiness probes
        payload, ctype = b"{}", b"application/json"
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
