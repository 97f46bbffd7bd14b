"""The route rules in front of LiteLLM and how the key is read from a request."""

from __future__ import annotations

import pytest

from bridge_app.proxy import presented_key, route_access


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("GET", "/health/liveliness", "open"),
        ("GET", "/health/readiness/", "open"),
        ("GET", "/health/liveness", "closed"),
        ("GET", "/openapi.json", "closed"),
        ("GET", "/.well-known/litellm-ui-config", "closed"),
        ("POST", "/v1/chat/completions", "tool"),
        ("POST", "/openai/deployments/openai/gpt-4o/chat/completions", "tool"),
        ("GET", "/v1/chat/completions", "closed"),
        ("POST", "/v1/messages", "tool"),
        ("POST", "/v1/messages/count_tokens", "tool"),
        ("POST", "/v1/responses", "tool"),
        ("GET", "/v1/responses/resp_1", "closed"),
        ("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent", "tool"),
        ("POST", "/v1beta/models/vertex_ai/gemini:countTokens", "tool"),
        ("GET", "/v1/models", "tool"),
        ("POST", "/v1/embeddings", "tool"),
        ("GET", "/model/info", "master"),
        ("GET", "/health", "master"),
        ("GET", "/routes", "closed"),
        ("GET", "/debug/asyncio-tasks", "closed"),
        ("POST", "/key/generate", "closed"),
        ("GET", "/v2/model/info", "closed"),
    ],
)
def test_route_access(method: str, path: str, access: str) -> None:
    assert route_access(method, path) == access


def _scope(headers: dict[str, str], query: str = "") -> dict[str, object]:
    return {
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "query_string": query.encode(),
    }


def test_the_key_is_read_from_every_place_the_tools_send_it() -> None:
    assert presented_key(_scope({"Authorization": "Bearer sk-a"})) == "sk-a"
    assert presented_key(_scope({"x-api-key": "sk-b"})) == "sk-b"
    assert presented_key(_scope({"x-goog-api-key": "sk-c"})) == "sk-c"
    assert presented_key(_scope({"api-key": "sk-d"})) == "sk-d"
    assert presented_key(_scope({}, "alt=sse&key=sk-e")) == "sk-e"
    assert presented_key(_scope({"Authorization": "Basic abc"})) is None
