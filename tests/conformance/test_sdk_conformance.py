"""What agents send, through the bridge, checked from the client's side with the openai and
anthropic SDKs, against an internal endpoint in each wire format (see conftest.py):
streamed tool calls with split arguments, two parallel tool calls, tool results (text,
structured, error), an image, reasoning, ``count_tokens``, stop reasons, prompt-caching
fields, a 400 KB history, an error in the middle of a stream — and on every request the
endpoint got the internal token and project, and the app recorded the usage."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import anthropic
import openai
import pytest

from bridge_app.usage import UsageFilter
from tests.conformance._agent_model import GREETING, THOUGHT
from tests.conformance.conftest import Bridge

pytestmark = pytest.mark.integration

#: a real 1×1 PNG
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5271f2b0000000049454e44ae426082"
    )
).decode()
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}
CLOCK = {
    "name": "get_time",
    "description": "The time in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CHAT_TOOLS = [{"type": "function", "function": t} for t in (WEATHER, CLOCK)]
ANTHROPIC_TOOLS = [
    {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
    for t in (WEATHER, CLOCK)
]
RESPONSES_TOOLS = [{"type": "function", **t} for t in (WEATHER, CLOCK)]

#: which model groups each client format is sent to: the endpoint speaking the same format
#: (native) and the chat-only endpoint (translated by LiteLLM, as for Claude Code and Codex)
CHAT_GROUPS = ["agent-chat", "agent-anthropic"]
MESSAGES_GROUPS = ["agent-anthropic", "agent-chat"]
RESPONSES_GROUPS = ["agent-responses", "agent-chat"]


def openai_client(bridge: Bridge) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{bridge.url}/v1", api_key=bridge.key, max_retries=0, timeout=60)


def anthropic_client(bridge: Bridge) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=bridge.url, api_key=bridge.key, max_retries=0, timeout=60)


def marker(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


# -- OpenAI chat completions ---------------------------------------------------------------


def _chat_stream(
    bridge: Bridge, group: str, messages: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """The streamed answer put together the way an agent does: text, reasoning, tool calls
    by index with their argument fragments joined, the finish reason and the usage."""
    stream = openai_client(bridge).chat.completions.create(
        model=group, messages=messages, stream=True, stream_options={"include_usage": True}, **extra
    )
    text, reasoning, finish, usage = "", "", None, None
    calls: dict[int, dict[str, str]] = {}
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            text += delta.content or ""
            reasoning += getattr(delta, "reasoning_content", None) or ""
            for call in delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = call.id or entry["id"]
                if call.function:
                    entry["name"] += call.function.name or ""
                    entry["arguments"] += call.function.arguments or ""
            finish = choice.finish_reason or finish
    return {
        "text": text,
        "reasoning": reasoning,
        "calls": [calls[i] for i in sorted(calls)],
        "finish": finish,
        "usage": usage,
    }


@pytest.mark.parametrize("group", CHAT_GROUPS)
def test_chat_streamed_tool_call_with_split_arguments(bridge: Bridge, group: str) -> None:
    tag = marker("chat-tool")
    got = _chat_stream(
        bridge, group, [{"role": "user", "content": f"[tool] {tag}"}], tools=CHAT_TOOLS
    )
    assert got["finish"] == "tool_calls"
    (call,) = got["calls"]
    assert call["name"] == "get_weather" and call["id"]
    assert json.loads(call["arguments"]) == {
        "city": "Paris",
        "unit": "celsius",
        "note": "split across chunks",
    }
    bridge.reached(tag)


@pytest.mark.parametrize("group", CHAT_GROUPS)
def test_chat_two_parallel_tool_calls_then_the_results(bridge: Bridge, group: str) -> None:
    tag = marker("chat-parallel")
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"[parallel] {tag}"}]
    got = _chat_stream(bridge, group, messages, tools=CHAT_TOOLS)
    assert got["finish"] == "tool_calls"
    assert [c["name"] for c in got["calls"]] == ["get_weather", "get_time"]
    assert [json.loads(c["arguments"])["city"] for c in got["calls"]] == ["Paris", "Tokyo"]
    # The agent ran both tools: a text result, a structured one, and one that failed.
    first, second = got["calls"]
    messages.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for c in got["calls"]
            ],
        }
    )
    messages.append(
        {"role": "tool", "tool_call_id": first["id"], "content": "18 degrees and sunny"}
    )
    messages.append(
        {
            "role": "tool",
            "tool_call_id": second["id"],
            "content": json.dumps({"time": "09:30", "tz": "JST"}),
        }
    )
    final = _chat_stream(bridge, group, messages, tools=CHAT_TOOLS)
    assert final["finish"] == "stop"
    assert "18 degrees and sunny" in final["text"]
    assert '"time": "09:30"' in final["text"]
    bridge.reached(tag)


@pytest.mark.parametrize("group", CHAT_GROUPS)
def test_chat_image_reasoning_and_stop_reasons(bridge: Bridge, group: str) -> None:
    tag = marker("chat-image")
    image = openai_client(bridge).chat.completions.create(
        model=group,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"[image] {tag}"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            }
        ],
    )
    assert image.choices[0].message.content == "Images: image/png, 71 bytes"
    bridge.reached(tag)

    tag = marker("chat-think")
    thought = _chat_stream(
        bridge, group, [{"role": "user", "content": f"[think] {tag}"}], reasoning_effort="low"
    )
    assert thought["text"] == "The answer is 42."
    assert thought["reasoning"] == THOUGHT
    bridge.reached(tag)

    tag = marker("chat-max")
    cut = openai_client(bridge).chat.completions.create(
        model=group, messages=[{"role": "user", "content": f"[max] {tag}"}], max_tokens=8
    )
    assert cut.choices[0].finish_reason == "length"


@pytest.mark.parametrize("group", CHAT_GROUPS)
def test_chat_a_400_kb_history_and_the_usage(bridge: Bridge, group: str) -> None:
    tag = marker("chat-long")
    history: list[dict[str, Any]] = []
    for i in range(100):
        history.append({"role": "user", "content": f"question {i} " + "x" * 2000})
        history.append({"role": "assistant", "content": f"answer {i} " + "y" * 2000})
    history.append({"role": "user", "content": f"[long] {tag}"})
    assert len(json.dumps(history)) > 400_000
    got = _chat_stream(
        bridge,
        group,
        history,
        extra_body={"prompt_cache_key": "session-1"} if group == "agent-chat" else {},
    )
    assert got["text"].startswith("History: 201 messages"), got["text"]
    assert got["usage"] is not None and got["usage"].prompt_tokens > 100_000
    bridge.reached(tag)


@pytest.mark.parametrize("group", CHAT_GROUPS)
def test_chat_an_error_in_the_middle_of_a_stream_reaches_the_client(
    bridge: Bridge, group: str
) -> None:
    tag = marker("chat-fail")
    received = ""
    with pytest.raises(openai.APIError):
        stream = openai_client(bridge).chat.completions.create(
            model=group, messages=[{"role": "user", "content": f"[fail] {tag}"}], stream=True
        )
        for chunk in stream:
            for choice in chunk.choices:
                received += choice.delta.content or ""
                assert choice.finish_reason != "stop", "a broken stream ended as if complete"
    assert received == "This answer breaks off in th"[: len(received)]
    # the bridge is fine afterwards
    assert (
        openai_client(bridge)
        .chat.completions.create(model=group, messages=[{"role": "user", "content": "hi"}])
        .choices[0]
        .message.content
        == GREETING
    )


# -- Anthropic messages (Claude Code's format) ---------------------------------------------


@pytest.mark.parametrize("group", MESSAGES_GROUPS)
def test_messages_streamed_tool_use_then_results_text_structured_and_error(
    bridge: Bridge, group: str
) -> None:
    client = anthropic_client(bridge)
    tag = marker("msg-tool")
    messages: list[dict[str, Any]] = [{"role": "user", "content": f"[parallel] {tag}"}]
    with client.messages.stream(
        model=group, max_tokens=1024, messages=messages, tools=ANTHROPIC_TOOLS
    ) as stream:
        partial = "".join(e.partial_json for e in stream if e.type == "input_json")
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    uses = [b for b in message.content if b.type == "tool_use"]
    assert [u.name for u in uses] == ["get_weather", "get_time"]
    assert [u.input["city"] for u in uses] == ["Paris", "Tokyo"]
    assert '"city": "Paris"' in partial  # the arguments arrived in pieces
    bridge.reached(tag)

    messages.append(
        {"role": "assistant", "content": [u.model_dump(exclude_none=True) for u in uses]}
    )
    messages.append(
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": uses[0].id,
                    "content": "18 degrees and sunny",
                },
                {
                    "type": "tool_result",
                    "tool_use_id": uses[1].id,
                    "content": [{"type": "text", "text": json.dumps({"time": "09:30"})}],
                },
            ],
        }
    )
    final = client.messages.create(
        model=group, max_tokens=1024, messages=messages, tools=ANTHROPIC_TOOLS
    )
    assert final.stop_reason == "end_turn"
    text = "".join(b.text for b in final.content if b.type == "text")
    assert "18 degrees and sunny" in text and '"time": "09:30"' in text

    messages[-1]["content"][1] = {
        "type": "tool_result",
        "tool_use_id": uses[1].id,
        "content": "clock service down",
        "is_error": True,
    }
    failed = client.messages.create(
        model=group, max_tokens=1024, messages=messages, tools=ANTHROPIC_TOOLS
    )
    assert "clock service down" in "".join(b.text for b in failed.content if b.type == "text")


@pytest.mark.parametrize("group", MESSAGES_GROUPS)
def test_messages_image_thinking_max_tokens_and_caching(bridge: Bridge, group: str) -> None:
    client = anthropic_client(bridge)
    tag = marker("msg-image")
    image = client.messages.create(
        model=group,
        max_tokens=256,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {"type": "text", "text": f"[image] {tag}"},
                ],
            }
        ],
    )
    assert image.content[-1].type == "text"
    assert image.content[-1].text == "Images: image/png, 71 bytes"
    bridge.reached(tag)

    tag = marker("msg-think")
    with client.messages.stream(
        model=group,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": f"[think] {tag}"}],
    ) as stream:
        thought = stream.get_final_message()
    kinds = [b.type for b in thought.content]
    assert kinds == ["thinking", "text"], kinds
    assert thought.content[0].thinking == THOUGHT
    assert thought.content[1].text == "The answer is 42."
    bridge.reached(tag)

    tag = marker("msg-max")
    cut = client.messages.create(
        model=group, max_tokens=8, messages=[{"role": "user", "content": f"[max] {tag}"}]
    )
    assert cut.stop_reason == "max_tokens"

    tag = marker("msg-cache")
    cached = client.messages.create(
        model=group,
        max_tokens=256,
        system=[
            {
                "type": "text",
                "text": "You are a careful agent. " * 200,
                "cache_control": {"type": "ephemeral"},
            },
        ],
        messages=[{"role": "user", "content": f"hello {tag}"}],
    )
    assert cached.usage.cache_read_input_tokens and cached.usage.cache_read_input_tokens > 0
    bridge.reached(tag)


@pytest.mark.parametrize("group", MESSAGES_GROUPS)
def test_messages_count_tokens(bridge: Bridge, group: str) -> None:
    counted = anthropic_client(bridge).messages.count_tokens(
        model=group, messages=[{"role": "user", "content": "count these words please " * 50}]
    )
    assert 100 < counted.input_tokens < 2000


@pytest.mark.parametrize("group", MESSAGES_GROUPS)
def test_messages_an_error_in_the_middle_of_a_stream_reaches_the_client(
    bridge: Bridge, group: str
) -> None:
    tag = marker("msg-fail")
    with (
        pytest.raises(anthropic.APIError),
        anthropic_client(bridge).messages.stream(
            model=group, max_tokens=256, messages=[{"role": "user", "content": f"[fail] {tag}"}]
        ) as stream,
    ):
        for _event in stream:
            pass
        message = stream.get_final_message()
        assert message.stop_reason != "end_turn", "a broken stream ended as if complete"
        raise AssertionError(f"no error reached the client: {message}")


# -- OpenAI Responses (Codex's format) -------------------------------------------------------


@pytest.mark.parametrize("group", RESPONSES_GROUPS)
def test_responses_streamed_function_calls_and_their_outputs(bridge: Bridge, group: str) -> None:
    client = openai_client(bridge)
    tag = marker("resp-tool")
    items: list[Any] = [
        {"role": "user", "content": [{"type": "input_text", "text": f"[parallel] {tag}"}]}
    ]
    deltas = ""
    with client.responses.stream(model=group, input=items, tools=RESPONSES_TOOLS) as stream:
        for event in stream:
            if event.type == "response.function_call_arguments.delta":
                deltas += event.delta
        final = stream.get_final_response()
    calls = [o for o in final.output if o.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert [json.loads(c.arguments)["city"] for c in calls] == ["Paris", "Tokyo"]
    assert '"city": "Paris"' in deltas
    bridge.reached(tag)

    items += [c.model_dump(exclude_none=True) for c in calls]
    items.append(
        {
            "type": "function_call_output",
            "call_id": calls[0].call_id,
            "output": "18 degrees and sunny",
        }
    )
    items.append(
        {
            "type": "function_call_output",
            "call_id": calls[1].call_id,
            "output": json.dumps({"time": "09:30"}),
        }
    )
    answer = client.responses.create(model=group, input=items, tools=RESPONSES_TOOLS)
    assert "18 degrees and sunny" in answer.output_text and '"time": "09:30"' in answer.output_text


@pytest.mark.parametrize("group", RESPONSES_GROUPS)
def test_responses_image_reasoning_and_usage(bridge: Bridge, group: str) -> None:
    client = openai_client(bridge)
    tag = marker("resp-image")
    image = client.responses.create(
        model=group,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": f"[image] {tag}"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                ],
            }
        ],
    )
    assert image.output_text == "Images: image/png, 71 bytes"
    bridge.reached(tag)

    tag = marker("resp-think")
    thought = client.responses.create(
        model=group, input=f"[think] {tag}", reasoning={"effort": "low", "summary": "auto"}
    )
    assert thought.output_text == "The answer is 42."
    assert (
        thought.usage is not None
        and thought.usage.input_tokens > 0
        and thought.usage.output_tokens > 0
    )
    bridge.reached(tag)


# -- what the app recorded -------------------------------------------------------------------


def test_every_model_group_has_its_usage_recorded(bridge: Bridge) -> None:
    anthropic_client(bridge).messages.create(
        model="agent-anthropic", max_tokens=64, messages=[{"role": "user", "content": "usage"}]
    )
    openai_client(bridge).responses.create(model="agent-responses", input="usage")
    openai_client(bridge).chat.completions.create(
        model="agent-chat", messages=[{"role": "user", "content": "usage"}]
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        groups = {g.key: g for g in bridge.services.usage.summary(UsageFilter(), "model")}
        if {"agent-chat", "agent-anthropic", "agent-responses"} <= set(groups):
            break
        time.sleep(0.2)
    assert {"agent-chat", "agent-anthropic", "agent-responses"} <= set(groups), sorted(groups)
    for name in ("agent-chat", "agent-anthropic", "agent-responses"):
        assert groups[name].tokens_in > 0 and groups[name].tokens_out > 0, groups[name]
