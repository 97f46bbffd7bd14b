"""The built-in ``demo`` model: answers on every wire format, streaming included, offline.

A plain ``mock_response`` cannot stream on /v1/messages or /v1/responses, so the
demo is a LiteLLM ``CustomLLM`` that yields real chunks; LiteLLM's own adapters turn them
into Anthropic, Responses and Gemini events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk, LlmProviders

DEMO_PROVIDER = "bridge-demo"


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(p.get("text", "")) for p in content if isinstance(p, dict)
                ).strip()
    return ""


def reply_text(messages: list[Any]) -> str:
    said = _last_user_text(messages)[:200]
    return (
        "Hello from the LiteLLM Bridge demo model. The proxy works; configure a real "
        f"model to get real answers. You said: {said}"
    )


def _usage(messages: list[Any], text: str) -> dict[str, int]:
    prompt = max(1, sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict)))
    p, c = max(1, prompt // 4), max(1, len(text) // 4)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


class DemoLLM(CustomLLM):
    """Echoes the last user message; ``chunk_delay`` slows streams down for tests."""

    chunk_delay = 0.0

    def _response(self, model: str, messages: list[Any]) -> Any:
        text = reply_text(messages)
        return litellm.ModelResponse(
            model=model,
            choices=[
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
            usage=_usage(messages, text),
        )

    def _chunks(self, messages: list[Any]) -> list[GenericStreamingChunk]:
        text = reply_text(messages)
        words = text.split(" ")
        chunks: list[GenericStreamingChunk] = []
        for index, word in enumerate(words):
            last = index == len(words) - 1
            chunks.append(
                {
                    "text": word if last else word + " ",
                    "tool_use": None,
                    "index": 0,
                    "is_finished": last,
                    "finish_reason": "stop" if last else "",
                    "usage": _usage(messages, text) if last else None,  # type: ignore[typeddict-item]
                }
            )
        return chunks

    def completion(self, model: str, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        return self._response(model, messages)

    async def acompletion(self, model: str, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        return self._response(model, messages)

    def streaming(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        yield from self._chunks(messages)

    async def astreaming(  # type: ignore[override]  # LiteLLM's stub says Coroutine
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self._chunks(messages):
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield chunk


demo_llm = DemoLLM()


def register_demo_provider() -> None:
    """Make ``bridge-demo/<anything>`` resolve to the demo model (idempotent)."""
    if not any(e.get("provider") == DEMO_PROVIDER for e in litellm.custom_provider_map):
        litellm.custom_provider_map.append({"provider": DEMO_PROVIDER, "custom_handler": demo_llm})
    from litellm.utils import custom_llm_setup

    custom_llm_setup()  # type: ignore[no-untyped-call]
    _let_generate_content_use_custom_providers()


def _let_generate_content_use_custom_providers() -> None:
    # The Gemini generateContent path calls LlmProviders(provider), which refuses names
    # from custom_provider_map. Map registered custom names to CUSTOM for that lookup
    # only (it then uses the generic completion adapter with the real provider string).
    if getattr(LlmProviders, "_bridge_patched", False):
        return

    def _missing_(cls: type[LlmProviders], value: object) -> LlmProviders | None:
        if isinstance(value, str) and value in litellm._custom_providers:
            return cls.CUSTOM
        return None

    LlmProviders._missing_ = classmethod(_missing_)  # type: ignore[method-assign,assignment]
    LlmProviders._bridge_patched = True  # type: ignore[attr-defined]
