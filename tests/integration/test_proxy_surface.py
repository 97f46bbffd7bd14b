"""LiteLLM's surface through the app: every route of the real proxy's route table, asked
without a key, with a tool key and with the master key. Only the health probes answer
without a key; a tool key reaches only the inference routes; nothing answers 500
"Database not connected"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OPEN = {"/health/liveliness", "/health/readiness"}
# What the tools send (chat, completions, messages, responses, Gemini, models,
# embeddings, token counting): (method, template) from the route table.
TOOL_ROUTES = {
    ("POST", "/chat/completions"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/openai/deployments/{model:path}/chat/completions"),
    ("POST", "/engines/{model:path}/chat/completions"),
    ("POST", "/completions"),
    ("POST", "/v1/completions"),
    ("POST", "/openai/deployments/{model:path}/completions"),
    ("POST", "/engines/{model:path}/completions"),
    ("POST", "/embeddings"),
    ("POST", "/v1/embeddings"),
    ("POST", "/openai/deployments/{model:path}/embeddings"),
    ("POST", "/engines/{model:path}/embeddings"),
    ("POST", "/v1/messages"),
    ("POST", "/v1/messages/count_tokens"),
    ("POST", "/responses"),
    ("POST", "/v1/responses"),
    ("POST", "/openai/v1/responses"),
    ("POST", "/responses/compact"),
    ("POST", "/v1/responses/compact"),
    ("POST", "/openai/v1/responses/compact"),
    ("POST", "/responses/input_tokens"),
    ("POST", "/v1/responses/input_tokens"),
    ("POST", "/openai/v1/responses/input_tokens"),
    ("POST", "/models/{model_name:path}:generateContent"),
    ("POST", "/models/{model_name:path}:streamGenerateContent"),
    ("POST", "/models/{model_name:path}:countTokens"),
    ("POST", "/v1beta/models/{model_name:path}:generateContent"),
    ("POST", "/v1beta/models/{model_name:path}:streamGenerateContent"),
    ("POST", "/v1beta/models/{model_name:path}:countTokens"),
    ("GET", "/models"),
    ("GET", "/v1/models"),
    ("GET", "/models/{model_id}"),
    ("GET", "/v1/models/{model_id}"),
    ("POST", "/utils/token_counter"),
}
# The master key also reads health and model info (no database needed).
MASTER_ONLY = {
    ("GET", "/health"),
    ("GET", "/model/info"),
    ("GET", "/v1/model/info"),
    ("GET", "/model_group/info"),
}


def _app_routes() -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route of LiteLLM's app, with the features
    LiteLLM registers lazily (on their first request) registered, so none is missed."""
    import litellm.proxy.proxy_server as ps
    from fastapi.routing import iter_route_contexts
    from litellm.proxy._lazy_features import register_all_features
    from starlette.routing import Mount

    register_all_features(ps.app)
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(ps.app.router.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.add(("GET", context.path.rstrip("/") + "/"))
        for method in context.methods or ():  # websocket routes have none (and uvicorn
            found.add((method, context.path))  # here serves no websockets at all)
    return sorted(found)


def _concrete(template: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":", 1)[0]
        return "demo" if name.startswith("model") else "x1"

    return re.sub(r"\{([^}]+)\}", fill, template)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, str]]:
    home = tmp_path_factory.mktemp("bridge-home")
    services = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()
    yield services, supervisor.url
    services.close()


def _ask(client: httpx.Client, method: str, path: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body: dict[str, Any] | None = None if method in ("GET", "HEAD", "DELETE", "OPTIONS") else {}
    return client.request(method, path, headers=headers, json=body)


def test_every_route_is_closed_unless_the_key_may_use_it(proxy: tuple[Services, str]) -> None:
    services, url = proxy
    master = services.proxy.master_key()
    tool = services.tools.create_key("claude-code")
    routes = _app_routes()
    assert len(routes) > 500  # the real table, lazily registered features included
    templates = set(routes)
    assert templates >= TOOL_ROUTES, sorted(TOOL_ROUTES - templates)
    assert templates >= MASTER_ONLY, sorted(MASTER_ONLY - templates)

    wrong: list[str] = []
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
        for method, template in routes:
            path = _concrete(template)
            anonymous = _ask(client, method, path, None)
            with_tool = _ask(client, method, path, tool)
            with_master = _ask(client, method, path, master)
            got = (anonymous.status_code, with_tool.status_code, with_master.status_code)
            if template in OPEN:
                ok = all(code not in (401, 403) and code < 500 for code in got)
            elif (method, template) in TOOL_ROUTES:
                # Reaches LiteLLM, which judges the (empty) body: 200, 400 or 422, never a
                # 500 (a Gemini stream request without contents is refused with a 400).
                ok = got[0] == 401 and all(c not in (401, 403) and c < 500 for c in got[1:])
            elif (method, template) in MASTER_ONLY:
                ok = got[:2] == (401, 403) and got[2] not in (401, 403, 500)
            else:
                ok = got == (401, 403, 403)
            for response in (anonymous, with_tool, with_master):
                if "Database not connected" in response.text:
                    ok = False
            if not ok:
                wrong.append(f"{method} {template}: {got} {with_master.text[:120]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "path", ["/openapi.json", "/docs", "/redoc", "/.well-known/litellm-ui-config", "/routes"]
)
def test_litellm_internals_need_the_master_key_and_then_are_refused(
    proxy: tuple[Services, str], path: str
) -> None:
    services, url = proxy
    tool = services.tools.create_key("gemini-cli")
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        anonymous = client.get(path)
        assert anonymous.status_code == 401
        assert "Missing API key" in anonymous.json()["error"]["message"]
        assert _ask(client, "GET", path, tool).status_code == 403
        refused = _ask(client, "GET", path, services.proxy.master_key())
        assert refused.status_code == 403
        assert "not available through LiteLLM Bridge" in refused.json()["error"]["message"]


def test_a_tool_key_cannot_read_model_details_or_debug_state(proxy: tuple[Services, str]) -> None:
    services, url = proxy
    tool = services.tools.create_key("codex-cli")
    master = services.proxy.master_key()
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        for path in ("/model/info", "/v1/model/info", "/routes", "/debug/asyncio-tasks"):
            response = _ask(client, "GET", path, tool)
            assert response.status_code == 403, (path, response.text)
            assert "api_base" not in response.text
        info = _ask(client, "GET", "/model/info", master)
        assert info.status_code == 200 and info.json()["data"]
        listed = _ask(client, "GET", "/v1/models", tool)
        assert [m["id"] for m in listed.json()["data"]] == ["demo"]
        chat = client.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {tool}"},
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert chat.status_code == 200, chat.text
