"""The policy's concurrent_requests with real streaming clients through the real proxy:
per tool (claude-code: 2) and per person (3), on every wire format, streaming. Requests
are held in flight by the upstream; the one over a limit gets 429 with Retry-After: 1 at
once and nothing reaches the upstream; a slot frees up when a stream ends or its client
goes away."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge_app.policy import PolicyService, RequestPolicy
from tests.integration._serve import wait_until
from tests.integration._upstream import FakeUpstream
from tests.integration._wire import build
from tests.integration.conftest import Made
from tests.unit._auth_stack import open_stack, with_admin_and_user

pytestmark = pytest.mark.integration

CLAUDE = "claude-cli/2.0.14 (external, cli)"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    server.hold = hold = threading.Event()
    yield server
    hold.set()
    server.stop()


def _corp(upstream: FakeUpstream) -> str:
    return (
        "model_list:\n"
        "  - model_name: corp\n"
        "    litellm_params:\n"
        "      model: openai/corp-model\n"
        f"      api_base: {upstream.base_url}\n"
        "      api_key: upstream-key-for-test\n"
        "      use_chat_completions_api: true\n"
    )


def _upstream_calls(upstream: FakeUpstream) -> int:
    return sum(1 for r in upstream.requests if r["path"].endswith("/chat/completions"))


def _state(streams: list[Stream], upstream: FakeUpstream) -> object:
    return (
        [(s.kind, s.status, s.body[:200]) for s in streams],
        [(r["path"], r["json"].get("stream")) for r in upstream.requests],
    )


class Stream(threading.Thread):
    """One streaming client: what status it got, and the whole text it read."""

    def __init__(self, url: str, key: str, kind: str, agent: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.kind, self.agent = url, key, kind, agent
        self.status: int | None = None
        self.body = ""
        self.response: httpx.Response | None = None

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60, trust_env=False) as client:
            request = build(client, self.kind, self.key, model="corp", stream=True)
            request.headers["user-agent"] = self.agent
            response = self.response = client.send(request, stream=True)
            try:
                self.status = response.status_code
                for text in response.iter_text():
                    self.body += text
            except httpx.HTTPError:
                pass  # closed by leave()
            finally:
                response.close()

    def leave(self) -> None:
        """The client goes away mid-stream (closes its connection)."""
        if self.response is not None:
            self.response.close()


def test_concurrent_requests_per_tool_and_per_person_on_every_wire_format(
    make_proxy: object, upstream: FakeUpstream, tmp_path: Path
) -> None:
    stack = open_stack(tmp_path / "bridge.db")
    admin, _bob = with_admin_and_user(stack)
    service = PolicyService(
        db=stack.db, audit=stack.audit, settings=stack.settings, machine_file=tmp_path / "none"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "limits:\n"
        "  per_user: {concurrent_requests: 3}\n"
        "  per_tool: {claude-code: {concurrent_requests: 2}}\n",
        encoding="utf-8",
    )
    service.apply(admin, policy)
    enforcer = RequestPolicy(service=service, audit=stack.audit)
    made: Made = make_proxy(  # type: ignore[operator]
        config_text=_corp(upstream)
    )
    made.supervisor.limit_in_flight(enforcer)
    made.supervisor.start()
    url, key = made.supervisor.url, made.key
    user = f"user {service.subject_user}"
    streams: list[Stream] = []

    def begin(kind: str, agent: str) -> Stream:
        stream = Stream(url, key, kind, agent)
        stream.start()
        streams.append(stream)
        return stream

    def refused(kind: str, agent: str) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
            request = build(client, kind, key, model="corp", stream=True)
            request.headers["user-agent"] = agent
            return client.send(request)

    try:
        # Claude Code (told apart by its User-Agent) runs two streams: its limit.
        begin("anthropic", CLAUDE)
        begin("responses", CLAUDE)
        assert wait_until(lambda: _upstream_calls(upstream) == 2, timeout=30), _state(
            streams, upstream
        )
        third = refused("chat", CLAUDE)
        assert third.status_code == 429, third.text
        assert third.headers["retry-after"] == "1"
        assert (
            "Your company's policy allows 2 requests at a time for tool claude-code, and 2 "
            "are running. Retry in a moment." in third.json()["error"]["message"]
        )
        # Another tool of the same person still gets the person's third slot...
        begin("gemini", "python-httpx/0.28")
        assert wait_until(lambda: _upstream_calls(upstream) == 3, timeout=30), _state(
            streams, upstream
        )
        # ... and then the person is at their limit, on any wire format.
        assert enforcer.in_flight() == {
            f"user:{service.subject_user}": 3,
            "tool:claude-code": 2,
        }, (enforcer.in_flight(), _state(streams, upstream))
        for kind in ("chat", "gemini"):
            fourth = refused(kind, "python-httpx/0.28")
            assert fourth.status_code == 429, (kind, fourth.text)
            assert f"allows 3 requests at a time for {user}" in fourth.json()["error"]["message"]
        assert _upstream_calls(upstream) == 3  # nothing of the refused ones left
        assert enforcer.in_flight() == {f"user:{service.subject_user}": 3, "tool:claude-code": 2}

        # A client that goes away mid-stream frees its slot.
        assert wait_until(lambda: streams[0].response is not None, timeout=20)
        streams[0].leave()
        assert wait_until(lambda: enforcer.in_flight().get("tool:claude-code") == 1, timeout=20), (
            enforcer.in_flight()
        )
        again = begin("chat", CLAUDE)
        assert wait_until(lambda: again.status == 200, timeout=30)

        upstream.hold.set()  # every stream may finish now
        for stream in streams:
            stream.join(timeout=60)
        for stream in streams[1:]:
            assert stream.status == 200, (stream.kind, stream.body[:500])
            assert "says" in stream.body and "hi" in stream.body, (stream.kind, stream.body)
        assert wait_until(lambda: enforcer.in_flight() == {}, timeout=10), enforcer.in_flight()
        after = refused("chat", CLAUDE)  # free again: the same request is answered
        assert after.status_code == 200, after.text
        # The refusals are in the audit log (one event per burst, as for every limit).
        refusals = stack.audit.list_events(admin, action="policy.request_refused")
        assert refusals[0].detail == "refused: concurrent_requests for tool claude-code"
    finally:
        upstream.hold.set()
        made.supervisor.stop()
        stack.close()


def test_a_machine_wide_rate_counts_every_person_and_tool(
    make_proxy: object, upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.hold = None
    stack = open_stack(tmp_path / "bridge.db")
    admin, bob = with_admin_and_user(stack)
    service = PolicyService(
        db=stack.db, audit=stack.audit, settings=stack.settings, machine_file=tmp_path / "none"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text("limits:\n  machine: {requests_per_minute: 3}\n", encoding="utf-8")
    service.apply(admin, policy)
    enforcer = RequestPolicy(service=service, audit=stack.audit)
    made: Made = make_proxy(  # type: ignore[operator]
        config_text=_corp(upstream)
    )
    made.supervisor.add_admission_hook(enforcer)
    made.supervisor.start()
    codes = []
    try:
        with httpx.Client(base_url=made.supervisor.url, timeout=60, trust_env=False) as c:
            for kind, person in (("chat", admin), ("anthropic", bob), ("responses", admin)):
                service.serve_as(person)  # another person on the same machine
                codes.append(c.send(build(c, kind, made.key, model="corp")).status_code)
            service.serve_as(bob)
            over = c.send(build(c, "gemini", made.key, model="corp"))
    finally:
        made.supervisor.stop()
        stack.close()
    assert codes == [200, 200, 200]
    assert over.status_code == 429, over.text
    host = socket.gethostname()
    assert f"requests_per_minute = 3 for this machine ({host})" in over.text
    assert 1 <= int(over.headers["retry-after"]) <= 60
