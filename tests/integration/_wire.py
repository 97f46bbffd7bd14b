"""Requests shaped like the real tools (Codex, Claude Code, Gemini CLI, SDKs) + SSE parsing."""

from __future__ import annotations

import json
from typing import Any

import httpx

KINDS = ("chat", "anthropic", "responses", "gemini")


def build(
    client: httpx.Client,
    kind: str,
    key: str | None,
    *,
    model: str = "demo",
    stream: bool = False,
    text: str = "ping",
    header_style: str | None = None,
    extra: dict[str, Any] | None = None,
) -> httpx.Request:
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    if kind == "chat":
        path = "/v1/chat/completions"
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": text}],
            "stream": stream,
        }
        style = header_style or "bearer"
    elif kind == "anthropic":  # Claude Code
        path = "/v1/messages"
        params["beta"] = "true"
        headers["anthropic-version"] = "2023-06-01"
        body = {
            "model": model,
            "max_tokens": 256,
            "system": [{"type": "text", "text": "You are Claude Code."}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
            "stream": stream,
        }
        style = header_style or "x-api-key"
    elif kind == "responses":  # Codex CLI
        path = "/v1/responses"
        body = {
            "model": model,
            "instructions": "You are Codex.",
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
            ],
            "store": False,
            "stream": stream,
        }
        style = header_style or "bearer"
    elif kind == "gemini":  # Gemini CLI
        verb = "streamGenerateContent" if stream else "generateContent"
        path = f"/v1beta/models/{model}:{verb}"
        if stream:
            params["alt"] = "sse"
        body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        style = header_style or "x-goog-api-key"
    else:
        raise ValueError(kind)
    body.update(extra or {})
    if key is not None:
        if style == "bearer":
            headers["Authorization"] = f"Bearer {key}"
        elif style == "query":
            params["key"] = key
        else:
            headers[style] = key
    return client.build_request("POST", path, json=body, headers=headers, params=params)


def sse_events(body: str) -> list[tuple[str | None, Any]]:
    events: list[tuple[str | None, Any]] = []
    name: str | None = None
    for line in body.splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            raw = line[5:].strip()
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = raw
            events.append((name, data))
            name = None
    return events


def answer_text(kind: str, response: httpx.Response, *, stream: bool) -> str:
    """The assistant text, read the way each tool reads it."""
    if not stream:
        data = response.json()
        if kind == "chat":
            return str(data["choices"][0]["message"]["content"])
        if kind == "anthropic":
            return "".join(b.get("text", "") for b in data["content"])
        if kind == "responses":
            return "".join(
                p.get("text", "") for o in data["output"] for p in (o.get("content") or [])
            )
        return "".join(p.get("text", "") for c in data["candidates"] for p in c["content"]["parts"])
    text = ""
    for _event, data in sse_events(response.text):
        if not isinstance(data, dict):
            continue
        if kind == "chat":
            for choice in data.get("choices", []):
                text += (choice.get("delta") or {}).get("content") or ""
        elif kind == "anthropic" and data.get("type") == "content_block_delta":
            text += data["delta"].get("text", "")
        elif kind == "responses" and data.get("type") == "response.output_text.delta":
            text += data.get("delta", "")
        elif kind == "gemini":
            for cand in data.get("candidates", []):
                for part in (cand.get("content") or {}).get("parts", []):
                    text += part.get("text", "")
    return text


def event_types(response: httpx.Response) -> list[str]:
    """SSE event names in order (named events, or the JSON 'type' field), deduplicated."""
    seen: list[str] = []
    for event, data in sse_events(response.text):
        name = event or (data.get("type") if isinstance(data, dict) else str(data)) or "data"
        if not seen or seen[-1] != name:
            seen.append(str(name))
    return seen
