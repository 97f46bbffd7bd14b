"""The prompt-token estimate and the LiteLLM code it relies on (issue 18)."""

from __future__ import annotations

import hashlib
import inspect
from importlib.metadata import version
from pathlib import Path

import pytest

from bridge_app.proxy import _usage_estimate
from bridge_app.proxy._usage_estimate import MARKER, estimate_prompt_tokens, is_estimated

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

# The method the adapter wraps, as pinned in constraints.txt. When a LiteLLM upgrade
# changes it, re-read it: the adapter passes ``count_prompt_tokens`` and relies on
# calculate_usage calling it only when no chunk carried the upstream's prompt count.
PINNED_LITELLM = "1.109.3"
PINNED_SOURCE_SHA256 = "3cb5141bb4ec9b281194ff73564edcf7d375c13bb14ce76db4d96cc8f669afd6"


def test_the_wrapped_litellm_method_is_the_one_the_adapter_was_written_for() -> None:
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    original = inspect.unwrap(ChunkProcessor.calculate_usage)
    source = inspect.getsource(original)
    assert version("litellm") == PINNED_LITELLM, (
        "LiteLLM was upgraded: check ChunkProcessor.calculate_usage against "
        "bridge_app/proxy/_usage_estimate.py, then update the pins in this test"
    )
    assert hashlib.sha256(source.encode()).hexdigest() == PINNED_SOURCE_SHA256, (
        "LiteLLM's ChunkProcessor.calculate_usage changed: re-check what "
        "bridge_app/proxy/_usage_estimate.py relies on"
    )
    assert "count_prompt_tokens() if count_prompt_tokens else token_counter(" in source
    assert tuple(inspect.signature(original).parameters) == _usage_estimate.EXPECTED_PARAMETERS
    assert _usage_estimate.signature_matches()


def test_the_estimate_is_near_tiktoken_for_code_and_prose() -> None:
    import litellm

    messages = [
        {"role": "system", "content": "You are a coding agent. Follow the repository rules."},
        {"role": "user", "content": "def parse(line):\n    return line.split(',')\n" * 300},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "I will read the tests first. " * 200}],
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "/src/parse.py"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "x = 1\n" * 500},
    ]
    exact = litellm.token_counter(model="gpt-3.5-turbo", messages=messages)
    estimate = estimate_prompt_tokens(messages)
    assert 0.6 * exact <= estimate <= 1.5 * exact, (estimate, exact)


def test_the_estimate_counts_text_parts_tool_calls_and_nothing_for_no_messages() -> None:
    assert estimate_prompt_tokens(None) == 0 and estimate_prompt_tokens([]) == 0
    plain = estimate_prompt_tokens([{"role": "user", "content": "a" * 400}])
    parts = estimate_prompt_tokens(
        [{"role": "user", "content": [{"type": "input_text", "text": "a" * 400}]}]
    )
    assert plain == parts == 100 + 4
    call = {"function": {"name": "grep", "arguments": "b" * 96}}
    assert estimate_prompt_tokens([{"role": "assistant", "tool_calls": [call]}]) == 25 + 4


def test_the_label_is_read_from_the_usage_and_never_serialised() -> None:
    from litellm.types.utils import ModelResponse, Usage

    usage = Usage(prompt_tokens=10, completion_tokens=2, total_tokens=12)
    response = ModelResponse(usage=usage)
    assert not is_estimated(response)
    setattr(usage, MARKER, True)
    response.usage = usage  # type: ignore[attr-defined]
    assert is_estimated(response) and is_estimated({"usage": usage})
    assert "bridge" not in response.model_dump_json() and "bridge" not in str(usage.model_dump())


def test_tokenizer_files_with_crlf_are_used_through_lf_copies(tmp_path: Path) -> None:
    """LiteLLM's Windows wheel ships its tiktoken files with CRLF: tiktoken would reject
    them by hash, delete them and try to download them (offline: every request failed)."""
    from bridge_app.proxy._tiktoken_files import lf_tokenizer_copies

    bundled, fixed = tmp_path / "bundled", tmp_path / "fixed"
    bundled.mkdir()
    name = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
    (bundled / name).write_bytes(b"IQ== 0\r\nIg== 1\r\n")
    assert lf_tokenizer_copies(bundled, fixed)
    assert (fixed / name).read_bytes() == b"IQ== 0\nIg== 1\n"
    (bundled / name).write_bytes(b"IQ== 0\nIg== 1\n")  # as on Linux: nothing to do
    assert not lf_tokenizer_copies(bundled, tmp_path / "untouched")
    assert not (tmp_path / "untouched").exists()
