"""An O(1) prompt-token estimate where LiteLLM would run tiktoken over the whole prompt.

When an upstream's stream carries no ``usage`` (LiteLLM already asks for it with
``stream_options.include_usage``; older internal gateways ignore that), LiteLLM counts the
prompt with tiktoken in ``ChunkProcessor.calculate_usage`` — several times per request
(2 for chat, 4 for ``/v1/messages``, 6 for ``/v1/responses``), each over the full prompt: a
third of all the proxy's CPU on coding-agent traffic (benchmarks/RESULTS.md).

``calculate_usage`` takes a ``count_prompt_tokens`` callable and only calls it when the
chunks carry no prompt count. This adapter passes an estimate (characters / 4, a few
tokens per message) there when the caller passed none, and marks the returned ``Usage``
with a private attribute (not serialised: clients see the same fields as before) so the
usage rows can say the count is an estimate. No LiteLLM code is copied: it wraps the one
method and relies on its signature, which ``install`` checks; the tests also pin its
source, so a LiteLLM upgrade that changes it fails loudly.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

log = logging.getLogger(__name__)

#: What the adapter relies on in the pinned LiteLLM (1.109.3; 1.106.2 differed only in a
#: type annotation).
EXPECTED_PARAMETERS = (
    "self",
    "chunks",
    "model",
    "completion_output",
    "messages",
    "reasoning_tokens",
    "count_prompt_tokens",
)
MARKER = "_bridge_prompt_tokens_estimated"
_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4  # role and separators, about what tiktoken-based counting adds

_original: Callable[..., Any] | None = None


def _text_length(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, Sequence):
        total = 0
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    total += len(text)
            elif isinstance(part, str):
                total += len(part)
        return total
    return 0


def estimate_prompt_tokens(messages: Sequence[Any] | None) -> int:
    """Characters / 4 plus a few tokens per message: one pass over the messages, never
    over their text (``len`` of a string is O(1))."""
    if not messages:
        return 0
    chars = 0
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        chars += _text_length(message.get("content"))
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                chars += _text_length(function.get("arguments")) + _text_length(
                    function.get("name")
                )
    return -(-chars // _CHARS_PER_TOKEN) + _TOKENS_PER_MESSAGE * len(messages)


def is_estimated(response: Any) -> bool:
    """Whether the prompt tokens of a finished response are this module's estimate."""
    usage = response.get("usage") if isinstance(response, Mapping) else None
    if usage is None:
        usage = getattr(response, "usage", None)
    return bool(getattr(usage, MARKER, False))


def signature_matches() -> bool:
    target = _original or ChunkProcessor.calculate_usage
    return tuple(inspect.signature(target).parameters) == EXPECTED_PARAMETERS


def install() -> bool:
    """Wrap ``ChunkProcessor.calculate_usage`` (idempotent). False, with a warning, when
    the installed LiteLLM's method is not the one this adapter was written for: then
    LiteLLM counts exactly (and slowly), as it does on its own."""
    global _original
    if _original is not None:
        return True
    if not signature_matches():
        log.warning(
            "LiteLLM's ChunkProcessor.calculate_usage changed; prompt tokens of streams "
            "without usage are counted by LiteLLM (slow) instead of estimated"
        )
        return False
    original = ChunkProcessor.calculate_usage

    @functools.wraps(original)
    def calculate_usage(
        self: Any,
        chunks: Any,
        model: str,
        completion_output: str,
        messages: Sequence[Any] | None = None,
        reasoning_tokens: int | None = None,
        count_prompt_tokens: Callable[[], int] | None = None,
    ) -> Any:
        estimated = False
        if count_prompt_tokens is None:

            def count_prompt_tokens() -> int:
                # Only called when no chunk carried the upstream's prompt count.
                nonlocal estimated
                estimated = True
                return estimate_prompt_tokens(messages)

        usage = original(
            self, chunks, model, completion_output, messages, reasoning_tokens, count_prompt_tokens
        )
        if estimated:
            setattr(usage, MARKER, True)
        return usage

    ChunkProcessor.calculate_usage = calculate_usage  # type: ignore[method-assign]
    _original = original
    return True


def uninstall() -> None:
    """Put LiteLLM's own method back (tests compare both)."""
    global _original
    if _original is not None:
        ChunkProcessor.calculate_usage = _original  # type: ignore[method-assign]
        _original = None


def installed() -> bool:
    return _original is not None
