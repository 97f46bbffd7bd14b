"""Live everywhere: a `serve --as root` runs in its own process; this test process changes
the same data folder through the application core, as another CLI or the window would.
Each change must reach the running proxy within 2 s, without a restart where none is
needed and without failing a request (requests stream through it the whole time)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge_app.auth import Session
from bridge_app.devtools import FakeIam, FakeInternalUpstream
from bridge_app.runtime import AppPaths, Redactor, resource_path
from bridge_app.services import Services, build_services
from bridge_app.tokens import IamSettings, Project
from tests.integration._upstream import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
ADMIN_PW = "Admin-Password-42!"
LIVE_S = 2.0
AS_ROOT = ("--as", "root", "--password-stdin")
CHAT = {"model": "internal-chat", "messages": [{"role": "user", "content": "hi"}]}


@dataclass
class Traffic:
    """Requests sent one after another through the proxy until stopped."""

    url: str
    key: str
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            while not self._stop.is_set():
                try:
                    reply = client.post(
                        f"{self.url}/v1/chat/completions",
                        headers={"Authorization": f"Bearer {self.key}"},
                        json={
                            "model": "internal-chat",
                            "messages": [{"role": "user", "content": "hi"}],
                        },
                    )
                    if reply.status_code != 200:
                        self.failures.append(f"{reply.status_code} {reply.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.sent += 1
                time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()


@dataclass
class World:
    services: Services
    admin: Session
    iam: FakeIam
    upstream: FakeInternalUpstream
    url: str
    serve: subprocess.Popen[str]


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    return env


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    home = tmp_path / "home"
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(home)})
    services = build_services(paths, redactor=Redactor())
    core = services.core
    services.auth.create_first_admin("root", ADMIN_PW)
    admin = core.login("root", ADMIN_PW)
    iam = FakeIam({"E42": "employee-pw-42"}).start()
    upstream = FakeInternalUpstream(token_valid=lambda _t: True, reply="pong").start()
    core.set_env(admin, "INTERNAL_LLM_API_BASE", f"{upstream.url}/v1", scope="shared")
    core.apply_config(admin, resource_path("configs", "internal-enterprise.yaml").read_bytes())
    services.tokens.set_iam_settings(
        admin, IamSettings(url=iam.token_url, token_path="data.access_token")
    )
    services.tokens.projects.save(admin, Project("P-7", "Apollo"))
    services.tokens.projects.save(admin, Project("P-8", "Borealis"))
    core.use_project(admin, "P-7")
    core.token_login(admin, "E42", "employee-pw-42")
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(port), *AS_ROOT],
        env=_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    assert serve.stdin is not None and serve.stdout is not None
    serve.stdin.write(ADMIN_PW + "\n")
    serve.stdin.close()
    printed: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = serve.stdout.readline()
        if not line:
            break
        printed.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    assert printed and printed[-1].startswith("Press Ctrl+C"), "".join(printed)
    try:
        yield World(services, admin, iam, upstream, f"http://127.0.0.1:{port}", serve)
    finally:
        serve.terminate()
        serve.wait(timeout=60)
        services.close()
        upstream.stop()
        iam.stop()


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """How long until ``check()`` held (fails after ``seconds``)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not seen within {seconds} s")


def _chat(world: World) -> httpx.Response:
    """One chat request through the proxy the other process runs."""
    return httpx.post(
        f"{world.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.services.proxy.master_key()}"},
        json=CHAT,
        timeout=30,
        trust_env=False,
    )


def _last_body(upstream: FakeInternalUpstream) -> dict[str, Any]:
    return upstream.seen[-1].body if upstream.seen else {}


def test_token_project_and_tool_keys_reach_a_serve_in_another_process(world: World) -> None:
    core, admin = world.services.core, world.admin
    traffic = Traffic(world.url, world.services.proxy.master_key())
    runner = threading.Thread(target=traffic.run, daemon=True)
    runner.start()
    try:
        _within(10, lambda: bool(world.upstream.seen))
        old = world.iam.latest()
        assert _last_body(world.upstream).get("internal_token") == old

        # A new token (another terminal's `token login`): the next requests carry it.
        core.token_login(admin, "E42", "employee-pw-42")
        new = world.iam.latest()
        assert new != old
        took = _within(LIVE_S, lambda: _last_body(world.upstream).get("internal_token") == new)
        print(f"token reached the other process after {took:.2f} s")

        # Another project (`token project use`).
        core.use_project(admin, "P-8")
        took = _within(LIVE_S, lambda: _last_body(world.upstream).get("project_id") == "P-8")
        print(f"project reached the other process after {took:.2f} s")
    finally:
        traffic.stop()
        runner.join(timeout=30)
    assert traffic.failures == [], traffic.failures[:3]
    assert traffic.sent >= 3  # requests were in flight across both changes

    # A tool key created here is accepted there, and refused once revoked.
    tools = world.services.tools
    key = tools.create_key("claude-code")

    def accepted() -> bool:
        reply = httpx.get(
            f"{world.url}/v1/models", headers={"Authorization": f"Bearer {key}"}, trust_env=False
        )
        return reply.status_code == 200

    _within(LIVE_S, accepted)
    tools.revoke_key("claude-code")
    _within(LIVE_S, lambda: not accepted())


def test_config_applied_here_restarts_the_proxy_there_or_rolls_back_there(world: World) -> None:
    core, admin = world.services.core, world.admin
    text = resource_path("configs", "internal-enterprise.yaml").read_text(encoding="utf-8")
    changed = text.replace("timeout: 600", "timeout: 300")
    result = core.apply_config(admin, changed, comment="shorter timeout")
    assert result.restarted, result.message
    assert "the proxy running in another process restarted with it" in result.message
    reply = _chat(world)
    assert reply.status_code == 200, reply.text

    history = world.services.config.list_versions()
    assert history[0].applied and history[0].comment == "shorter timeout"
    events = world.services.audit.list_events(admin, action="config")
    assert events[-1].action == "config.apply"
    assert f"{text.count('timeout: 600')} line(s) changed" in events[-1].detail


def test_a_disabled_person_stops_being_served_there(world: World) -> None:
    core, admin = world.services.core, world.admin
    core.create_user(admin, "dana", "Staple-Horse-42!")
    core.set_role(admin, "dana", "admin")
    dana = core.login("dana", "Staple-Horse-42!")
    core.change_password(dana, "Staple-Horse-42!", "Staple-Horse-43!")
    dana = core.login("dana", "Staple-Horse-43!")
    core.disable_user(dana, "root")  # the person `serve --as root` works for

    def refused() -> bool:
        reply = _chat(world)
        last.append(f"{reply.status_code} {reply.text[:300]}")
        return reply.status_code == 401

    last: list[str] = []
    try:
        _within(LIVE_S + 1, refused)
    except AssertionError:
        raise AssertionError(f"still served: {last[-1:]}") from None
    assert "internal token" in last[-1] or "logged in" in last[-1], last[-1]


def test_environment_entries_changed_here_restart_the_proxy_there(world: World) -> None:
    core, admin = world.services.core, world.admin
    second = FakeInternalUpstream(token_valid=lambda _t: True, reply="from the second").start()
    try:
        core.set_env(admin, "INTERNAL_LLM_API_BASE", f"{second.url}/v1", scope="shared")

        def answered_by_second() -> bool:
            try:
                reply = _chat(world)
            except httpx.HTTPError:
                return False  # the proxy is between its stop and its start
            return reply.status_code == 200 and "from the second" in reply.text

        took = _within(60, answered_by_second)
        print(f"the proxy there restarted with the new entries after {took:.2f} s")
        assert second.seen[-1].body.get("internal_token") == world.iam.latest()
    finally:
        second.stop()
    events = world.services.audit.list_events(admin, action="proxy")
    assert any("environment entries changed" in e.detail for e in events), events[-3:]
