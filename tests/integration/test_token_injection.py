"""The reason the product exists: every request a tool sends through the embedded proxy to
an internal model reaches the internal endpoint with the current token and project."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bridge_app.auth import Session
from bridge_app.devtools import FakeIam, FakeInternalUpstream
from bridge_app.proxy import ProxyState, ProxySupervisor
from bridge_app.runtime import AppPaths, resource_path
from bridge_app.services import Services, build_services
from bridge_app.tokens import IamSettings, Project
from tests.integration._wire import KINDS, answer_text, build
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

EMPLOYEE, EMPLOYEE_PW = "E100", "employee-pw-100"
ADMIN_PW = "Admin-Password-42!"
MODEL = "internal-chat"


@dataclass
class Stack:
    services: Services
    session: Session
    iam: FakeIam
    upstream: FakeInternalUpstream
    supervisor: ProxySupervisor
    key: str

    def request(
        self, client: httpx.Client, kind: str, *, stream: bool, text: str
    ) -> httpx.Response:
        return client.send(build(client, kind, self.key, model=MODEL, stream=stream, text=text))

    def last_seen(self, text: str) -> dict[str, Any]:
        for seen in reversed(self.upstream.seen):
            if text in repr(seen.body.get("messages")):
                return seen.body
        raise AssertionError(f"the upstream never saw a request with {text!r}")


@pytest.fixture
def stack(app_paths: AppPaths) -> Iterator[Stack]:
    services = build_services(app_paths)
    services.auth.create_first_admin("root", ADMIN_PW)
    session = services.auth.login("root", ADMIN_PW)
    iam = FakeIam({EMPLOYEE: EMPLOYEE_PW}).start()
    upstream = FakeInternalUpstream(token_valid=iam.valid).start()
    services.env.set(session, "INTERNAL_LLM_API_BASE", f"{upstream.url}/v1", scope="shared")
    active = app_paths.proxy_config_dir / "config.yaml"
    active.parent.mkdir(parents=True, exist_ok=True)
    active.write_bytes(resource_path("configs", "internal-enterprise.yaml").read_bytes())
    services.tokens.set_iam_settings(
        session, IamSettings(url=iam.token_url, token_path="data.access_token")
    )
    services.tokens.projects.save(session, Project("P-1", "Apollo", {"cost_center": "cc-1"}))
    services.tokens.projects.save(session, Project("P-2", "Gemini", {"cost_center": "cc-2"}))
    services.tokens.activate(session)
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()
    try:
        yield Stack(services, session, iam, upstream, supervisor, services.proxy.master_key())
    finally:
        services.close()
        upstream.stop()
        iam.stop()


def test_without_a_token_internal_models_are_refused_and_the_proxy_says_why(stack: Stack) -> None:
    status = wait_for(lambda: stack.supervisor.status().state == ProxyState.DEGRADED, 10)
    assert status, stack.supervisor.status()
    assert "internal token is missing" in (stack.supervisor.status().last_error or "")
    with httpx.Client(base_url=stack.supervisor.url, timeout=60) as client:
        response = stack.request(client, "chat", stream=False, text="no-token")
    assert response.status_code == 401
    assert "internal token is missing" in response.text
    assert stack.upstream.seen == []  # refused before anything left the machine

    stack.services.tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
    assert wait_for(lambda: stack.supervisor.status().state == ProxyState.RUNNING, 10)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_every_wire_format_carries_the_current_token_and_project(
    stack: Stack, stream: bool
) -> None:
    stack.services.tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
    token = stack.services.tokens.current().token
    with httpx.Client(base_url=stack.supervisor.url, timeout=120) as client:
        for kind in KINDS:
            marker = f"{kind}-{'s' if stream else 'p'}-marker"
            response = stack.request(client, kind, stream=stream, text=marker)
            assert response.status_code == 200, (kind, response.text[:300])
            assert "internal endpoint" in answer_text(kind, response, stream=stream), kind
            body = stack.last_seen(marker)
            assert body["internal_token"] == token, kind
            assert body["project_id"] == "P-1" and body["project_name"] == "Apollo", kind
    assert all(seen.accepted for seen in stack.upstream.seen)


def test_a_clients_own_extra_body_is_kept_and_cannot_spoof_the_token(stack: Stack) -> None:
    stack.services.tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
    token = stack.services.tokens.current().token
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "own-extra-body"}],
        "extra_body": {"client_field": "kept", "internal_token": "spoofed"},
    }
    with httpx.Client(base_url=stack.supervisor.url, timeout=60) as client:
        response = client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {stack.key}"}
        )
    assert response.status_code == 200, response.text
    seen = stack.last_seen("own-extra-body")
    assert seen["client_field"] == "kept"
    assert seen["internal_token"] == token


SPOOF = {"internal_token": "spoofed", "project_id": "P-evil", "project_name": "Evil"}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_injected_fields_win_over_the_clients_own_on_every_wire_format(
    stack: Stack, stream: bool
) -> None:
    # A client (or a tool's own config) sending the very fields the config injects — at
    # the top level, in extra_body and in metadata — must not override the bridge's values.
    stack.services.tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
    token = stack.services.tokens.current().token
    extra = {**SPOOF, "extra_body": dict(SPOOF), "metadata": dict(SPOOF)}
    with httpx.Client(base_url=stack.supervisor.url, timeout=120) as client:
        for kind in KINDS:
            marker = f"spoof-{kind}-{'s' if stream else 'p'}"
            request = build(
                client, kind, stack.key, model=MODEL, stream=stream, text=marker, extra=extra
            )
            response = client.send(request)
            assert response.status_code == 200, (kind, response.text[:300])
            body = stack.last_seen(marker)
            assert body["internal_token"] == token, kind
            assert body["project_id"] == "P-1" and body["project_name"] == "Apollo", kind
            assert "spoofed" not in repr(body) and "P-evil" not in repr(body), (kind, body)


def test_a_blocked_refresh_shows_in_status_with_the_iams_words_while_requests_still_work(
    stack: Stack, app_paths: AppPaths
) -> None:
    from bridge_app.proxy import STATUS_FILE, read_status

    stack.iam.lifetime_s = 8  # margin 5 s: the refresh is due 3 s after login
    stack.services.tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW, remember=True)
    stack.services.token_keeper.set_session(stack.session)
    stack.iam.employees[EMPLOYEE] = "changed-in-the-directory"
    said = "The IAM refused the login: invalid employee credentials"
    assert wait_for(lambda: stack.supervisor.status().state == ProxyState.DEGRADED, 30)
    problem = stack.supervisor.status().last_error or ""
    assert f"Automatic token refresh is blocked: {said}" in problem
    assert "Log in again" in problem
    # `litellm-bridge status` reads the status file the supervisor writes.
    assert wait_for(
        lambda: (
            said in (read_status(app_paths.data_dir / STATUS_FILE).to_dict()["last_error"] or "")
        ),
        10,
    )
    calls = stack.iam.calls
    with httpx.Client(base_url=stack.supervisor.url, timeout=60) as client:
        assert stack.request(client, "chat", stream=False, text="still").status_code == 200
    time.sleep(2)  # the keeper looks every second: it must not try again
    assert stack.iam.calls == calls
    stack.iam.employees[EMPLOYEE] = EMPLOYEE_PW
    stack.services.tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
    assert wait_for(lambda: stack.supervisor.status().state == ProxyState.RUNNING, 10)


def test_project_switch_and_refresh_apply_to_the_next_request_without_restart(
    stack: Stack,
) -> None:
    tokens = stack.services.tokens
    tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
    restarts = stack.supervisor.status().restarts
    with httpx.Client(base_url=stack.supervisor.url, timeout=60) as client:
        assert stack.request(client, "chat", stream=False, text="before").status_code == 200
        tokens.set_active_project(stack.session, "P-2")
        first = tokens.current().token
        tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
        second = tokens.current().token
        assert second != first
        assert stack.request(client, "gemini", stream=False, text="after").status_code == 200
    after = stack.last_seen("after")
    assert after["project_id"] == "P-2" and after["internal_token"] == second
    assert stack.supervisor.status().restarts == restarts


@pytest.mark.slow
def test_token_rotation_under_load_fails_no_request(stack: Stack) -> None:
    tokens = stack.services.tokens
    tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
    old = tokens.current().token
    switched_at: list[float] = []
    started: dict[str, float] = {}
    lock = threading.Lock()

    def client_run(worker: int) -> list[int]:
        codes = []
        with httpx.Client(base_url=stack.supervisor.url, timeout=120) as client:
            for i in range(8):
                marker = f"load-{worker}-{i}"
                with lock:
                    started[marker] = time.monotonic()
                kind = ("chat", "anthropic", "responses", "gemini")[(worker + i) % 4]
                codes.append(
                    stack.request(client, kind, stream=bool(i % 2), text=marker).status_code
                )
        return codes

    def rotate() -> None:
        time.sleep(1.0)
        tokens.login(stack.session, EMPLOYEE, EMPLOYEE_PW)
        switched_at.append(time.monotonic())

    rotator = threading.Thread(target=rotate)
    rotator.start()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = [code for codes in pool.map(client_run, range(32)) for code in codes]
    rotator.join()
    new = tokens.current().token
    assert new != old
    assert results.count(200) == len(results) == 256, {c: results.count(c) for c in set(results)}
    after_switch = [m for m, t in started.items() if t > switched_at[0]]
    assert after_switch, "the rotation happened after the load ended; nothing was measured"
    for marker in after_switch:
        assert stack.last_seen(marker)["internal_token"] == new, marker
