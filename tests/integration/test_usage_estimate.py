"""What the prompt-token estimate must keep (issue 18): when the internal endpoint's stream
carries no usage, clients still get the same stream (same events, same order, same text,
same usage fields), and usage rows and metrics still record the request, with the input
tokens marked as an estimate; when the endpoint reports usage, its numbers are used as they
are. A real proxy on loopback in front of a real chat-completions-only endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bridge_app.devtools import FakeInternalUpstream
from bridge_app.proxy import RequestSample, UsageWriter
from bridge_app.runtime import AppPaths
from bridge_app.services import open_store
from bridge_app.store import tables
from tests.integration._upstream import internal_config
from tests.integration._wire import sse_events
from tests.integration.conftest import Made, wait_for

pytestmark = pytest.mark.integration

REPLY = "Reading the file first, then the smallest fix."
PROMPT = "Please fix the failing test in parser.py; " * 200  # ~8 KB, a small agent prompt


TOOLS = [
    {
        "name": "read_file",
        "description": "Read a file.",
        "schema": {"type": "object", "properties": {"path": {"type": "string"}}},
    }
]


def _request(fmt: str) -> tuple[str, dict[str, Any]]:
    if fmt == "messages":
        return "/v1/messages", {
            "model": "internal-chat",
            "max_tokens": 256,
            "stream": True,
            "system": "You are a coding agent.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
            "tools": [
                {"name": t["name"], "description": t["description"], "input_schema": t["schema"]}
                for t in TOOLS
            ],
        }
    if fmt == "responses":
        return "/v1/responses", {
            "model": "internal-chat",
            "stream": True,
            "store": False,
            "instructions": "You are a coding agent.",
            "input": [
                {"type": "message", "role": "user",
                 "content": [{"type": "input_text", "text": PROMPT}]}
            ],
            "tools": [
                {"type": "function", "name": t["name"], "description": t["description"],
                 "parameters": t["schema"]}
                for t in TOOLS
            ],
        }  # fmt: skip
    return "/v1/chat/completions", {
        "model": "internal-chat",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": PROMPT},
        ],
        "tools": [
            {"type": "function", "function": {"name": t["name"], "description": t["description"],
             "parameters": t["schema"]}}
            for t in TOOLS
        ],
    }  # fmt: skip


def _usage_of(fmt: str, events: list[tuple[str | None, Any]]) -> dict[str, Any]:
    """The usage a client reads at the end of the stream, in its wire format."""
    for _name, data in reversed(events):
        if not isinstance(data, dict):
            continue
        if fmt == "messages" and data.get("type") == "message_delta":
            return dict(data["usage"])
        if fmt == "responses" and data.get("type") == "response.completed":
            return dict(data["response"]["usage"])
        if fmt == "chat" and data.get("usage"):
            return dict(data["usage"])
    raise AssertionError(f"no usage in the {fmt} stream: {events[-3:]}")


_VOLATILE = {"id", "created", "created_at", "item_id", "response_id", "sequence_number"}


def _shape(value: Any) -> Any:
    """The stream without ids, timestamps and token numbers: what must not change."""
    if isinstance(value, dict):
        return {
            k: ("<n>" if k.endswith("tokens") and isinstance(v, int) else _shape(v))
            for k, v in value.items()
            if k not in _VOLATILE
        }
    if isinstance(value, list | tuple):
        return [_shape(v) for v in value]
    if isinstance(value, str) and value.startswith(("resp_", "msg_", "chatcmpl-", "fc_", "rs_")):
        return "<id>"
    return value


class Proxy:
    def __init__(self, made: Made, samples: list[RequestSample]) -> None:
        self.made = made
        self.samples = samples
        self.client = httpx.Client(
            base_url=made.supervisor.status().url, timeout=60, trust_env=False
        )

    def stream(self, fmt: str) -> tuple[list[tuple[str | None, Any]], RequestSample]:
        path, body = _request(fmt)
        before = len(self.samples)
        response = self.client.post(
            path,
            json=body,
            headers={"Authorization": f"Bearer {self.made.key}", "anthropic-version": "2023-06-01"},
        )
        assert response.status_code == 200, response.text[:500]
        assert wait_for(lambda: len(self.samples) > before, 10), "no usage sample recorded"
        assert len(self.samples) == before + 1, [s.endpoint for s in self.samples[before:]]
        return sse_events(response.text), self.samples[-1]


@pytest.fixture
def proxy_for(
    make_proxy: Callable[..., Made],
) -> Iterator[Callable[[bool], tuple[Proxy, FakeInternalUpstream]]]:
    upstreams: list[FakeInternalUpstream] = []
    proxies: list[Proxy] = []

    def factory(stream_usage: bool) -> tuple[Proxy, FakeInternalUpstream]:
        upstream = FakeInternalUpstream(reply=REPLY, stream_usage=stream_usage).start()
        upstreams.append(upstream)
        samples: list[RequestSample] = []
        made = make_proxy(config_text=internal_config(upstream), usage_sink=samples.append)
        made.supervisor.start()
        proxies.append(Proxy(made, samples))
        return proxies[-1], upstream

    yield factory
    for proxy in proxies:
        proxy.client.close()
    for upstream in upstreams:
        upstream.stop()


FORMATS = ("messages", "responses", "chat")


def _reference() -> int:
    """tiktoken's count of the prompt, as LiteLLM counts it."""
    import litellm

    return int(
        litellm.token_counter(
            model="gpt-3.5-turbo",
            messages=[
                {"role": "system", "content": "You are a coding agent."},
                {"role": "user", "content": PROMPT},
            ],
        )
    )


REFERENCE = _reference()


def test_streams_without_upstream_usage_keep_their_events_and_get_labelled_estimates(
    proxy_for: Callable[[bool], tuple[Proxy, FakeInternalUpstream]],
) -> None:
    from bridge_app.proxy import _usage_estimate

    proxy, upstream = proxy_for(False)
    assert _usage_estimate.installed(), "the proxy start installs the estimate"
    for fmt in FORMATS:
        estimated_events, sample = proxy.stream(fmt)
        # LiteLLM's exact count, for comparison: the same request with the adapter off.
        _usage_estimate.uninstall()
        try:
            exact_events, exact_sample = proxy.stream(fmt)
        finally:
            _usage_estimate.install()

        # The client sees the same stream: events, order, text, usage fields.
        assert _shape(estimated_events) == _shape(exact_events), fmt
        text = "".join(str(d) for _, d in estimated_events)
        assert "Reading" in text and "bridge" not in text.lower(), fmt
        usage, exact = _usage_of(fmt, estimated_events), _usage_of(fmt, exact_events)
        assert usage.keys() == exact.keys(), fmt
        prompt_key = "prompt_tokens" if fmt == "chat" else "input_tokens"
        # An estimate of the right size (characters / 4) next to tiktoken's count.
        assert 0.7 * REFERENCE <= usage[prompt_key] <= 1.3 * REFERENCE, (fmt, usage, exact)

        # Usage rows and metrics still get the request, and say which count is estimated.
        assert sample.status == 200 and sample.model == "internal-chat"
        assert sample.tokens_estimated and sample.tokens_in == usage[prompt_key], fmt
        assert not exact_sample.tokens_estimated
        # (On /v1/responses LiteLLM's own count comes out as 0: it cannot tokenize that
        # input format. The estimate is the first meaningful number there.)
        assert exact_sample.tokens_in == exact[prompt_key]
        assert sample.tokens_out == exact_sample.tokens_out > 0

    # LiteLLM asks the endpoint for usage on every streaming call (this one ignores it).
    streamed = [s.body for s in upstream.seen if s.body.get("stream")]
    assert streamed and all(b.get("stream_options") == {"include_usage": True} for b in streamed)
    metrics = proxy.made.supervisor.status().metrics
    assert metrics["per_model"]["internal-chat"]["requests"] == 2 * len(FORMATS)


def test_streams_with_upstream_usage_report_the_upstream_numbers_unlabelled(
    proxy_for: Callable[[bool], tuple[Proxy, FakeInternalUpstream]],
) -> None:
    proxy, _upstream = proxy_for(True)
    for fmt in FORMATS:
        events, sample = proxy.stream(fmt)
        usage = _usage_of(fmt, events)
        assert usage["prompt_tokens" if fmt == "chat" else "input_tokens"] == 9  # the endpoint's
        assert sample.tokens_in == 9 and not sample.tokens_estimated, fmt


def test_the_gemini_route_asks_for_usage_and_keeps_the_deployments_extra_body(
    proxy_for: Callable[[bool], tuple[Proxy, FakeInternalUpstream]],
) -> None:
    """Issue 26, item 9: Gemini CLI's route reaches a chat-completions endpoint through
    LiteLLM's generateContent adapter, which sent no ``stream_options`` (so the endpoint's
    token counts never came back and usage rows held an estimate) and dropped the
    deployment's ``extra_body`` (a static project id: the endpoint refused the request)."""
    proxy, upstream = proxy_for(True)
    headers = {"x-goog-api-key": proxy.made.key}
    body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
    before = len(proxy.samples)
    response = proxy.client.post(
        "/v1beta/models/internal-chat:streamGenerateContent",
        params={"alt": "sse"},
        json=body,
        headers=headers,
    )
    assert response.status_code == 200, response.text[:500]
    text = "".join(
        part.get("text", "")
        for _, data in sse_events(response.text)
        if isinstance(data, dict)
        for candidate in data.get("candidates") or []
        for part in candidate["content"]["parts"]
    )
    assert text == REPLY
    sent = upstream.seen[-1].body
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["project_id"] == "P-1"
    assert wait_for(lambda: len(proxy.samples) > before, 10), "no usage sample recorded"
    sample = proxy.samples[-1]
    assert sample.status == 200 and sample.endpoint.endswith(":streamGenerateContent")
    assert sample.tokens_in == 9 and not sample.tokens_estimated  # the endpoint's own count

    answer = proxy.client.post(
        "/v1beta/models/internal-chat:generateContent", json=body, headers=headers
    )
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json()["usageMetadata"]["promptTokenCount"] == 9
    sent = upstream.seen[-1].body
    assert sent["project_id"] == "P-1" and "stream_options" not in sent


def test_usage_rows_store_whether_the_input_tokens_are_an_estimate(app_paths: AppPaths) -> None:
    db, _key = open_store(app_paths)
    try:
        writer = UsageWriter(db=db, interval=60)
        for estimated in (True, False):
            writer.submit(
                RequestSample(time.time(), "internal-chat", "/v1/messages", 200, 5.0, 100, 7,
                              "claude-code", tokens_estimated=estimated)
            )  # fmt: skip
        assert writer.flush() == 2
        with db.reading() as conn:
            rows = conn.execute(select(tables["usage_records"])).all()
        assert [(r.tokens_in, r.tokens_estimated) for r in rows] == [(100, 1), (100, 0)]
    finally:
        db.close()


def test_a_database_from_before_the_label_keeps_its_rows_unlabelled(tmp_path: Path) -> None:
    from bridge_app.store import MIGRATIONS, Database, DatabaseKey

    key = DatabaseKey(bytes(range(32)), "key-file", "test")
    old = Database(tmp_path / "bridge.db", key, migrations=MIGRATIONS[:1])
    old.open()
    with old.transaction() as conn:
        conn.exec_driver_sql(
            "INSERT INTO usage_records (ts, model, endpoint, status, latency_ms, tokens_in,"
            " tokens_out) VALUES (1, 'm', '/v1/messages', 200, 1.0, 5, 1)"
        )
    old.close()
    new = Database(tmp_path / "bridge.db", key)
    new.open()
    try:
        with new.reading() as conn:
            rows = conn.execute(select(tables["usage_records"])).all()
        assert [(r.tokens_in, r.tokens_estimated) for r in rows] == [(5, 0)]
    finally:
        new.close()
