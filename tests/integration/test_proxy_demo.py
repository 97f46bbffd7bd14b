"""One real proxy (built through the composition root, real encrypted store) serving the
built-in demo model to requests shaped like each tool's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from bridge_app.store import tables
from tests.integration._wire import KINDS, answer_text, build, event_types
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.windows]  # the Windows leg too


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    home = tmp_path_factory.mktemp("bridge-home")
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(home)})
    services = build_services(paths, redactor=Redactor())
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()
    yield services
    services.close()


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[httpx.Client]:
    url = services.proxy.supervisor().url
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        yield client


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_demo_model_answers_every_wire_format(
    services: Services, client: httpx.Client, kind: str, stream: bool
) -> None:
    key = services.proxy.master_key()
    response = client.send(build(client, kind, key, stream=stream, text=f"hello {kind}"))
    assert response.status_code == 200, response.text
    text = answer_text(kind, response, stream=stream)
    assert "LiteLLM Bridge demo model" in text
    assert text.endswith(f"You said: hello {kind}")
    if not stream:
        assert response.headers["content-type"].startswith("application/json")
        return
    assert response.headers["content-type"].startswith("text/event-stream")
    events = event_types(response)
    if kind == "chat":
        assert events[-1] == "[DONE]"
    elif kind == "anthropic":  # what Claude Code parses
        assert events == [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    elif kind == "responses":  # what Codex CLI parses
        assert events[0] == "response.created"
        assert "response.output_text.delta" in events
        assert "response.completed" in events
    else:
        assert len(response.text.split("data:")) > 2  # really streamed, in several chunks


@pytest.mark.parametrize(
    ("kind", "style"),
    [
        ("chat", "bearer"),
        ("anthropic", "x-api-key"),
        ("anthropic", "bearer"),  # Claude Code with ANTHROPIC_AUTH_TOKEN
        ("responses", "bearer"),
        ("gemini", "x-goog-api-key"),
        ("gemini", "query"),
    ],
)
def test_missing_or_wrong_key_gets_a_clear_401_and_the_right_key_works(
    services: Services, client: httpx.Client, kind: str, style: str
) -> None:
    for key in (None, "sk-not-the-key-0123456789"):
        response = client.send(build(client, kind, key, header_style=style))
        assert response.status_code == 401, response.text
        message = response.json()["error"]["message"]
        assert "API key" in message
    good = client.send(build(client, kind, services.proxy.master_key(), header_style=style))
    assert good.status_code == 200, good.text


def test_models_list_needs_the_key(services: Services, client: httpx.Client) -> None:
    assert client.get("/v1/models").status_code == 401
    listed = client.get(
        "/v1/models", headers={"Authorization": f"Bearer {services.proxy.master_key()}"}
    )
    assert [m["id"] for m in listed.json()["data"]] == ["demo"]


def test_metrics_count_requests_and_usage_rows_reach_the_store(
    services: Services, client: httpx.Client
) -> None:
    key = services.proxy.master_key()
    before = services.proxy.status().metrics.get("per_model", {}).get("demo", {}).get("requests", 0)
    for kind in KINDS:
        assert client.send(build(client, kind, key, text="secret prompt words")).status_code == 200

    def counted() -> int:
        demo = services.proxy.status().metrics["per_model"].get("demo", {})
        return int(demo.get("requests", 0))

    assert wait_for(lambda: counted() >= before + 4, 5)
    status = services.proxy.status()
    assert status.state == "running" and status.ready
    assert status.metrics["tokens_out"] > 0
    assert status.metrics["latency_ms_p50"] is not None
    assert status.metrics["rejected"] >= 0

    def rows() -> list[dict[str, object]]:
        with services.db.reading() as conn:
            return [dict(r._mapping) for r in conn.execute(select(tables["usage_records"]))]

    wanted = {"/v1/chat/completions", "/v1/messages", "/v1/responses"}
    # Rows from earlier tests in this module share the store, so wait for every
    # endpoint of this test rather than for a row count: the writer batches rows
    # off the request path and the last one may land a moment after the others.
    assert wait_for(lambda: wanted <= {r["endpoint"] for r in rows()}, 10)
    stored = rows()
    assert wanted <= {r["endpoint"] for r in stored}
    assert all(r["model"] == "demo" for r in stored if r["status"] == 200)
    assert not any("secret prompt" in str(r) for r in stored)


def test_active_config_is_the_demo_and_holds_no_secret(services: Services) -> None:
    path: Path = services.proxy.active_config()
    text = path.read_text()
    assert "os.environ/LITELLM_MASTER_KEY" in text
    assert services.proxy.master_key() not in text
