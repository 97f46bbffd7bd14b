"""A scripted internal endpoint that behaves like a model in an agent loop, in the three
wire formats companies run inside: OpenAI chat completions only (``/chat/v1``), Anthropic
messages (``/anthropic/v1``) and OpenAI Responses (``/responses/v1``). On 127.0.0.1.

What it answers is decided the way an agent loop needs, from the conversation itself:

- tool results after the last user turn → a final answer that quotes them;
- otherwise a directive in the last user text: ``[tool]`` one tool call, ``[parallel]``
  two, ``[think]`` a reasoning block then the answer, ``[image]`` says which image arrived,
  ``[long]`` measures the history, ``[max]`` stops for the token limit, ``[fail]`` breaks
  off in the middle of a stream; anything else a plain greeting.

Tool calls go to a tool the request declares: the real agents' own (Claude Code's
``Write``, Gemini CLI's ``write_file``, Codex's ``shell``...), else the first declared.
``write <path>`` in the prompt names the file such a tool writes. Streams split text,
reasoning and tool arguments across several chunks, as real models do. Every request is
recorded (path, headers, body) for the tests to check what reached the endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.integration._upstream import free_port

GREETING = "Hello from the agent model."
WRITTEN = "written by the agent model"
THOUGHT = "The user wants the answer; forty-two is the answer."
#: the real agents' tools, in the order the model prefers them
AGENT_TOOLS = ("Write", "write_file", "shell", "exec_command", "shell_command", "Bash")


@dataclass
class ToolCall:
    call_id: str
    name: str
    arguments: str


@dataclass
class Turn:
    text: str = ""
    reasoning: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    finish: str = "stop"  # "stop", "tool", "length"
    fail_midway: bool = False
    input_tokens: int = 0
    cached_tokens: int = 0

    @property
    def output_tokens(self) -> int:
        return max(
            1,
            (len(self.text) + len(self.reasoning) + sum(len(c.arguments) for c in self.calls)) // 4,
        )


@dataclass
class Seen:
    dialect: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def pieces(text: str, n: int = 3) -> list[str]:
    """``text`` in ``n`` non-empty parts (fewer when it is shorter)."""
    if not text:
        return []
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


# -- reading a conversation in any of the three formats ---------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text") or part.get("content") or ""))
        return " ".join(p for p in parts if p)
    return ""


def _images_of(content: Any) -> list[str]:
    """Media type and size of each image part, whatever the format carried it as."""
    found: list[str] = []
    if not isinstance(content, list):
        return found
    for part in content:
        if not isinstance(part, dict):
            continue
        url = ""
        if part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url", "") if isinstance(image, dict) else str(image or "")
        elif part.get("type") == "input_image":
            url = str(part.get("image_url") or "")
        elif part.get("type") == "image":
            source = part.get("source") or {}
            url = f"data:{source.get('media_type')};base64,{source.get('data', '')}"
        match = re.match(r"data:([\w/+.-]+);base64,(.*)", url, re.S)
        if match:
            found.append(f"{match.group(1)}, {len(base64.b64decode(match.group(2)))} bytes")
    return found


@dataclass
class Conversation:
    last_user: str = ""
    images: list[str] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    characters: int = 0
    messages: int = 0
    cache_marked: bool = False

    def new_turn(self) -> None:
        """The model spoke: what the user says (or the tools return) next is a new turn."""
        self.last_user, self.images, self.tool_results = "", [], []

    def user_said(self, text: str, images: list[str]) -> None:
        """Agents add reminders as extra user messages after the prompt: a turn's user text
        is all of it since the model last spoke."""
        self.last_user = f"{self.last_user} {text}".strip()
        self.images += images


def read_chat(body: dict[str, Any]) -> Conversation:
    conv = Conversation()
    for message in body.get("messages") or []:
        conv.messages += 1
        conv.characters += len(json.dumps(message))
        role, content = message.get("role"), message.get("content")
        if role == "assistant":
            conv.new_turn()
        elif role == "user":
            conv.user_said(_text_of(content), _images_of(content))
        elif role == "tool":
            conv.tool_results.append(_text_of(content))
    conv.tools = [t.get("function", {}).get("name", "") for t in body.get("tools") or []]
    conv.cache_marked = "cache_control" in json.dumps(body) or "prompt_cache_key" in body
    return conv


def read_messages(body: dict[str, Any]) -> Conversation:
    conv = Conversation()
    for message in body.get("messages") or []:
        conv.messages += 1
        conv.characters += len(json.dumps(message))
        if message.get("role") == "assistant":
            conv.new_turn()
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        conv.tool_results += [
            ("error: " if r.get("is_error") else "") + _text_of(r.get("content")) for r in results
        ]
        rest = [b for b in blocks if b not in results]
        conv.user_said(_text_of(rest), _images_of(rest))
    conv.tools = [t.get("name", "") for t in body.get("tools") or []]
    conv.cache_marked = "cache_control" in json.dumps(body)
    return conv


def read_responses(body: dict[str, Any]) -> Conversation:
    conv = Conversation()
    items = body.get("input")
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    for item in items or []:
        conv.messages += 1
        conv.characters += len(json.dumps(item))
        kind = item.get("type", "message")
        if kind == "function_call" or (kind == "message" and item.get("role") == "assistant"):
            conv.new_turn()
        elif kind == "message" and item.get("role") == "user":
            content = item.get("content")
            conv.user_said(_text_of(content), _images_of(content))
        elif kind == "function_call_output":
            conv.tool_results.append(_text_of(item.get("output")))
    conv.tools = [t.get("name", "") for t in body.get("tools") or [] if t.get("type") == "function"]
    conv.cache_marked = "prompt_cache_key" in body
    return conv


# -- deciding the turn -------------------------------------------------------------------


def _arguments(tool: str, prompt: str, index: int) -> str:
    target = re.search(r"write (\S+)", prompt)
    path = target.group(1) if target else "agent-output.txt"
    if tool in ("Write", "write_file"):
        return json.dumps({"file_path": path, "content": WRITTEN + "\n"})
    if tool == "shell":
        return json.dumps({"command": ["bash", "-lc", f"echo {WRITTEN} > {path}"]})
    if tool in ("exec_command", "shell_command", "Bash", "run_shell_command"):
        key = {"exec_command": "cmd"}.get(tool, "command")
        return json.dumps({key: f"echo {WRITTEN} > {path}", "description": "write the file"})
    cities = ("Paris", "Tokyo")
    return json.dumps({"city": cities[index % 2], "unit": "celsius", "note": "split across chunks"})


def decide(conv: Conversation) -> Turn:
    turn = Turn(input_tokens=max(1, conv.characters // 4))
    # Caching as the endpoints do it: Anthropic's where the request marks it, OpenAI-style
    # endpoints by themselves for a long enough prompt.
    if conv.cache_marked or turn.input_tokens >= 1024:
        turn.cached_tokens = turn.input_tokens // 2
    prompt = conv.last_user
    if conv.tool_results:
        turn.text = "Tool results: " + "; ".join(conv.tool_results)
        return turn
    wanted = 2 if "[parallel]" in prompt else 1 if "[tool]" in prompt else 0
    if wanted and conv.tools:
        preferred = [t for t in AGENT_TOOLS if t in conv.tools] or conv.tools
        names = (preferred * 2)[:wanted] if len(preferred) < wanted else preferred[:wanted]
        if wanted == 2 and len(conv.tools) >= 2 and not [t for t in AGENT_TOOLS if t in conv.tools]:
            names = conv.tools[:2]
        turn.calls = [
            ToolCall(f"call_{uuid.uuid4().hex[:12]}", name, _arguments(name, prompt, i))
            for i, name in enumerate(names)
        ]
        turn.finish = "tool"
        return turn
    if "[think]" in prompt:
        turn.reasoning, turn.text = THOUGHT, "The answer is 42."
    elif "[image]" in prompt:
        turn.text = "Images: " + ("; ".join(conv.images) or "none")
    elif "[long]" in prompt:
        turn.text = f"History: {conv.messages} messages, {conv.characters} characters."
    elif "[max]" in prompt:
        turn.text, turn.finish = "This answer stops at the token lim", "length"
    elif "[fail]" in prompt:
        turn.text, turn.fail_midway = "This answer breaks off in the middle of the stream", True
    else:
        turn.text = GREETING
    return turn


class Broken(Exception):
    """Raised inside a stream: uvicorn drops the connection without ending the body."""


# -- the three formats ------------------------------------------------------------------

_CHAT_FINISH = {"stop": "stop", "tool": "tool_calls", "length": "length"}
_ANTHROPIC_STOP = {"stop": "end_turn", "tool": "tool_use", "length": "max_tokens"}


def _sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


def chat_answer(body: dict[str, Any], turn: Turn) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
    if turn.reasoning:
        message["reasoning_content"] = turn.reasoning
    if turn.calls:
        message["tool_calls"] = [
            {
                "id": c.call_id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in turn.calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:10]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": _CHAT_FINISH[turn.finish]}],
        "usage": _chat_usage(turn),
    }


def _chat_usage(turn: Turn) -> dict[str, Any]:
    return {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.cached_tokens},
    }


def chat_stream(body: dict[str, Any], turn: Turn) -> Iterator[str]:
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:10]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    for part in pieces(turn.reasoning):
        yield chunk({"reasoning_content": part})
    for i, part in enumerate(pieces(turn.text, 4)):
        if turn.fail_midway and i == 2:
            raise Broken("the endpoint broke off the stream")
        yield chunk({"content": part})
    for index, call in enumerate(turn.calls):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.call_id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        for part in pieces(call.arguments, 3):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
    yield chunk({}, _CHAT_FINISH[turn.finish])
    if (body.get("stream_options") or {}).get("include_usage"):
        yield _sse({**base, "choices": [], "usage": _chat_usage(turn)})
    yield "data: [DONE]\n\n"


def _anthropic_usage(turn: Turn, *, output: bool = True) -> dict[str, Any]:
    usage = {
        "input_tokens": turn.input_tokens - turn.cached_tokens,
        "cache_read_input_tokens": turn.cached_tokens,
        "cache_creation_input_tokens": 0,
    }
    if output:
        usage["output_tokens"] = turn.output_tokens
    return usage


def _anthropic_blocks(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if turn.reasoning:
        blocks.append({"type": "thinking", "thinking": turn.reasoning, "signature": "c2lnbmVk"})
    if turn.text:
        blocks.append({"type": "text", "text": turn.text})
    for call in turn.calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": "toolu_" + call.call_id[5:],
                "name": call.name,
                "input": json.loads(call.arguments),
            }
        )
    return blocks


def messages_answer(body: dict[str, Any], turn: Turn) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": _anthropic_blocks(turn),
        "stop_reason": _ANTHROPIC_STOP[turn.finish],
        "stop_sequence": None,
        "usage": _anthropic_usage(turn),
    }


def messages_stream(body: dict[str, Any], turn: Turn) -> Iterator[str]:
    start = {
        **messages_answer(body, turn),
        "content": [],
        "stop_reason": None,
        "usage": {**_anthropic_usage(turn, output=False), "output_tokens": 1},
    }
    yield _sse({"type": "message_start", "message": start}, "message_start")
    for index, block in enumerate(_anthropic_blocks(turn)):
        kind = block["type"]
        empty = {
            "thinking": {"type": "thinking", "thinking": ""},
            "text": {"type": "text", "text": ""},
        }.get(kind, {**block, "input": {}})
        yield _sse(
            {"type": "content_block_start", "index": index, "content_block": empty},
            "content_block_start",
        )
        if kind == "thinking":
            deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"], 4)]
        else:
            deltas = [
                {"type": "input_json_delta", "partial_json": p}
                for p in pieces(json.dumps(block["input"]), 3)
            ]
        for i, delta in enumerate(deltas):
            if turn.fail_midway and kind == "text" and i == 2:
                error = {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                }
                yield _sse(error, "error")
                return
            yield _sse(
                {"type": "content_block_delta", "index": index, "delta": delta},
                "content_block_delta",
            )
        yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": _ANTHROPIC_STOP[turn.finish], "stop_sequence": None},
        "usage": {"output_tokens": turn.output_tokens},
    }
    yield _sse(delta, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")


def _responses_output(turn: Turn) -> list[dict[str, Any]]:
    output: list[dict[str, Any]] = []
    if turn.reasoning:
        output.append(
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": turn.reasoning}],
            }
        )
    if turn.text:
        output.append(
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
            }
        )
    for i, call in enumerate(turn.calls):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{i}",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
        )
    return output


def responses_answer(body: dict[str, Any], turn: Turn, status: str = "completed") -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": f"resp_{uuid.uuid4().hex[:12]}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": body.get("model"),
        "output": _responses_output(turn) if status == "completed" else [],
        "usage": {
            "input_tokens": turn.input_tokens,
            "output_tokens": turn.output_tokens,
            "total_tokens": turn.input_tokens + turn.output_tokens,
            "input_tokens_details": {"cached_tokens": turn.cached_tokens},
            "output_tokens_details": {"reasoning_tokens": len(turn.reasoning) // 4},
        },
    }
    if turn.finish == "length":
        answer["status"] = "incomplete"
        answer["incomplete_details"] = {"reason": "max_output_tokens"}
    return answer


def responses_stream(body: dict[str, Any], turn: Turn) -> Iterator[str]:
    shell = responses_answer(body, turn, status="in_progress")
    seq = iter(range(1, 10_000))
    yield _sse(
        {"type": "response.created", "response": shell, "sequence_number": 0}, "response.created"
    )
    for index, item in enumerate(_responses_output(turn)):
        started = {**item, "status": "in_progress"}
        if item["type"] == "message":
            started["content"] = []
        if item["type"] == "function_call":
            started["arguments"] = ""
        yield _sse(
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": started,
                "sequence_number": next(seq),
            },
            "response.output_item.added",
        )
        if item["type"] == "message":
            text = item["content"][0]["text"]
            for i, part in enumerate(pieces(text, 4)):
                if turn.fail_midway and i == 2:
                    raise Broken("the endpoint broke off the stream")
                yield _sse(
                    {
                        "type": "response.output_text.delta",
                        "item_id": item["id"],
                        "output_index": index,
                        "content_index": 0,
                        "delta": part,
                        "sequence_number": next(seq),
                    },
                    "response.output_text.delta",
                )
            yield _sse(
                {
                    "type": "response.output_text.done",
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "text": text,
                    "sequence_number": next(seq),
                },
                "response.output_text.done",
            )
        elif item["type"] == "function_call":
            for part in pieces(item["arguments"], 3):
                yield _sse(
                    {
                        "type": "response.function_call_arguments.delta",
                        "item_id": item["id"],
                        "output_index": index,
                        "delta": part,
                        "sequence_number": next(seq),
                    },
                    "response.function_call_arguments.delta",
                )
            yield _sse(
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": item["id"],
                    "output_index": index,
                    "arguments": item["arguments"],
                    "sequence_number": next(seq),
                },
                "response.function_call_arguments.done",
            )
        yield _sse(
            {
                "type": "response.output_item.done",
                "output_index": index,
                "item": item,
                "sequence_number": next(seq),
            },
            "response.output_item.done",
        )
    final = responses_answer(body, turn)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield _sse({"type": kind, "response": final, "sequence_number": next(seq)}, kind)


# -- the server --------------------------------------------------------------------------


class AgentModel:
    """The endpoint, on 127.0.0.1 in a thread. ``seen`` is every request it got."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[Seen] = []
        self.chunk_delay = 0.0
        routes = [
            Route("/chat/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/anthropic/v1/messages", self._messages, methods=["POST"]),
            Route("/anthropic/v1/messages/count_tokens", self._count, methods=["POST"]),
            Route("/responses/v1/responses", self._responses, methods=["POST"]),
            Route("/{path:path}", self._unknown, methods=["GET", "POST"]),
        ]
        config = uvicorn.Config(
            Starlette(routes=routes),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="agent-model", daemon=True)

    def base(self, dialect: str) -> str:
        return f"http://127.0.0.1:{self.port}/{dialect}" + ("" if dialect == "anthropic" else "/v1")

    def start(self) -> AgentModel:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    def last(self, marker: str) -> Seen:
        for seen in reversed(self.seen):
            if marker in json.dumps(seen.body):
                return seen
        raise AssertionError(f"the endpoint never got a request with {marker!r}")

    async def _record(self, dialect: str, request: Request) -> dict[str, Any]:
        body = json.loads(await request.body() or b"{}")
        self.seen.append(Seen(dialect, request.url.path, dict(request.headers), body))
        return body

    def _streamed(self, frames: Iterator[str]) -> StreamingResponse:
        delay = self.chunk_delay

        async def send() -> AsyncIterator[str]:
            for frame in frames:
                if delay:
                    await asyncio.sleep(delay)
                yield frame

        return StreamingResponse(send(), media_type="text/event-stream")

    async def _chat(self, request: Request) -> Response:
        body = await self._record("chat", request)
        turn = decide(read_chat(body))
        if body.get("stream"):
            return self._streamed(chat_stream(body, turn))
        return JSONResponse(chat_answer(body, turn))

    async def _messages(self, request: Request) -> Response:
        body = await self._record("anthropic", request)
        turn = decide(read_messages(body))
        if body.get("stream"):
            return self._streamed(messages_stream(body, turn))
        return JSONResponse(messages_answer(body, turn))

    async def _count(self, request: Request) -> Response:
        body = await self._record("anthropic", request)
        return JSONResponse({"input_tokens": max(1, read_messages(body).characters // 4)})

    async def _responses(self, request: Request) -> Response:
        body = await self._record("responses", request)
        turn = decide(read_responses(body))
        if body.get("stream"):
            return self._streamed(responses_stream(body, turn))
        return JSONResponse(responses_answer(body, turn))

    async def _unknown(self, request: Request) -> Response:
        await self._record("unknown", request)
        return JSONResponse(
            {"error": {"message": f"no route {request.url.path}", "type": "not_found"}},
            status_code=404,
        )
