"""The proxy in front of a real (small, local) OpenAI-compatible upstream: request hooks
reach it, and secrets it echoes back never reach a log line."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bridge_app.proxy import PROXY_LOG_NAME
from bridge_app.runtime import Redactor
from tests.integration._upstream import FakeUpstream
from tests.integration._wire import KINDS, answer_text, build
from tests.integration.conftest import Made, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


def _config(upstream: FakeUpstream) -> str:
    return (
        "model_list:\n"
        "  - model_name: corp\n"
        "    litellm_params:\n"
        "      model: openai/corp-model\n"
        f"      api_base: {upstream.base_url}\n"
        "      api_key: os.environ/CORP_UPSTREAM_KEY\n"
        "      use_chat_completions_api: true\n"  # messages/responses -> upstream chat
        "router_settings:\n"
        "  disable_cooldowns: true\n"
        "general_settings:\n"
        "  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )


def test_a_request_hook_field_reaches_the_upstream_on_every_path(
    make_proxy: Callable[..., Made], upstream: FakeUpstream
) -> None:
    made = make_proxy(
        config_text=_config(upstream), environment=lambda: {"CORP_UPSTREAM_KEY": "corp-key-1234"}
    )
    seen: list[Any] = []

    def inject(data: dict[str, Any], context: Any) -> None:
        seen.append(context)
        extra = dict(data.get("extra_body") or {})
        extra["bridge_project"] = "proj-42"
        data["extra_body"] = extra

    made.supervisor.add_request_hook(inject)
    made.supervisor.start()
    with httpx.Client(base_url=made.supervisor.url, timeout=30, trust_env=False) as client:
        for kind in KINDS:
            for stream in (False, True):
                request = build(client, kind, made.key, model="corp", stream=stream)
                response = client.send(request)
                assert response.status_code == 200, (kind, stream, response.text)
                if (kind, stream) != ("anthropic", False):
                    # LiteLLM 1.106 returns empty content for a non-streamed /v1/messages
                    # bridged to chat (use_chat_completions_api); Claude Code streams.
                    assert "upstream says hi" in answer_text(kind, response, stream=stream)
    bodies = [r["json"] for r in upstream.requests if r["path"].endswith("/chat/completions")]
    assert len(bodies) == 8
    assert all(body["bridge_project"] == "proj-42" for body in bodies)
    assert upstream.requests[0]["headers"]["authorization"] == "Bearer corp-key-1234"
    assert "admin" in {c.client for c in seen}  # inner LiteLLM layers may not carry it

    made.supervisor.remove_request_hook(inject)
    with httpx.Client(base_url=made.supervisor.url, timeout=30, trust_env=False) as client:
        assert client.send(build(client, "chat", made.key, model="corp")).status_code == 200
    assert "bridge_project" not in upstream.requests[-1]["json"]


def test_a_secret_from_the_environment_never_reaches_the_logs(
    make_proxy: Callable[..., Made], upstream: FakeUpstream, tmp_path: Any
) -> None:
    secret = "corp" + secrets.token_hex(16)  # shaped like nothing the patterns know
    made = make_proxy(
        config_text=_config(upstream),
        environment=lambda: {"CORP_UPSTREAM_KEY": secret},
        redactor=Redactor(),
    )
    made.supervisor.start()
    upstream.fail_with = 401  # and it echoes the credential it got in the error body
    with httpx.Client(base_url=made.supervisor.url, timeout=30, trust_env=False) as client:
        for stream in (False, True):
            response = client.send(build(client, "chat", made.key, model="corp", stream=stream))
            assert response.status_code >= 400
    assert any(secret in r["headers"].get("authorization", "") for r in upstream.requests)

    def echoed() -> list[str]:
        return [ln.text for ln in made.logs.lines() if "upstream rejected credentials" in ln.text]

    lines = wait_for(echoed, 5)
    assert lines, "the upstream's error should be logged (else this test proves nothing)"
    assert not any(secret in line for line in lines)
    made.supervisor.stop()
    made.logs.detach()  # flush and close the file
    captured = "\n".join(ln.text for ln in made.logs.lines())
    on_disk = (tmp_path / "logs" / PROXY_LOG_NAME).read_text(encoding="utf-8")
    assert "upstream rejected credentials" in on_disk
    for text in (captured, on_disk):
        assert secret not in text
        assert made.key not in text
