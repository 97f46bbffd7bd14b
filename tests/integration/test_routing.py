"""Logical models through the embedded proxy: a model group of two local upstreams with
priorities; when the first fails (or answers 429) the request succeeds through the second,
the first shows as cooling down, and it answers again after the cooldown; a group of
deployments differing only by key spreads requests over the keys; fallbacks to another
model. Counted by the upstreams themselves."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bridge_app.auth import Session
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, UsageFilter, build_services
from bridge_app.store import tables
from tests.integration._upstream import FakeUpstream, free_port
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN_PW = "Admin-Password-42!"


@pytest.fixture
def upstreams() -> Iterator[list[FakeUpstream]]:
    started = [FakeUpstream().start() for _ in range(3)]
    yield started
    for upstream in started:
        upstream.stop()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Services, Session]]:
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")})
    services = build_services(paths, redactor=Redactor())
    services.auth.create_first_admin("root", ADMIN_PW)
    session = services.auth.login("root", ADMIN_PW)
    for name in ("KEY_A", "KEY_B", "KEY_C"):
        services.env.set(session, name, f"sk-upstream-{name.lower()}-0123456789", scope="shared")
    try:
        yield services, session
    finally:
        services.close()


def _ask(services: Services, url: str, model: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {services.proxy.master_key()}"},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=60,
    )


def answered_by(services: Services, deployment: str) -> bool:
    # The success callback runs just after the answer is sent: give it a moment.
    return bool(wait_for(lambda: services.remote.routing().recent[0].deployment == deployment, 10))


def chats(upstream: FakeUpstream) -> list[dict[str, object]]:
    # LiteLLM may also ask an upstream for /v1/models at start; only chats count here.
    return [r for r in upstream.requests if str(r["path"]).endswith("/chat/completions")]


def _state(services: Services, deployment: str) -> tuple[str, str]:
    (found,) = [s for s in services.remote.routing().states if s.id == deployment]
    return found.state, found.detail


@pytest.mark.parametrize("failure", [429, 500])
def test_a_failing_first_deployment_cools_down_and_the_second_answers(
    app: tuple[Services, Session], upstreams: list[FakeUpstream], failure: int
) -> None:
    services, _ = app
    first, second, _third = upstreams
    remote = services.remote
    remote.add_deployment(
        "smart", "openai/up-model", author="t", api_base=first.base_url,
        key_envs=["KEY_A"], order=1, deployment_id="primary",
    )  # fmt: skip
    remote.add_deployment(
        "smart", "openai/up-model", author="t", api_base=second.base_url,
        key_envs=["KEY_B"], order=2, deployment_id="secondary",
    )  # fmt: skip
    remote.set_router(author="t", retries=2, cooldown_s=3, allowed_fails=0)
    listed = {d.id: d for g in remote.routing().groups for d in g.deployments}
    assert listed["primary"].order == 1 and listed["secondary"].order == 2

    supervisor = services.proxy.supervisor(port=free_port())
    supervisor.start()
    assert _ask(services, supervisor.url, "smart").status_code == 200
    assert len(chats(first)) == 1 and not chats(second)  # priority 1 first

    first.fail_with = failure
    answer = _ask(services, supervisor.url, "smart")
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "upstream says hi"
    assert len(chats(first)) == 2  # it was tried...
    assert len(chats(second)) == 1  # ...and the second answered
    state, detail = _state(services, "primary")
    assert state == "cooling down", detail
    assert detail.startswith("until ") and str(failure) in detail
    assert _state(services, "secondary")[0] == "healthy"
    assert answered_by(services, "secondary")

    # While it cools down, requests go straight to the second deployment.
    assert _ask(services, supervisor.url, "smart").status_code == 200
    assert len(chats(first)) == 2 and len(chats(second)) == 2

    first.fail_with = None
    assert wait_for(lambda: _state(services, "primary")[0] != "cooling down", timeout=30)
    assert _ask(services, supervisor.url, "smart").status_code == 200
    assert len(chats(first)) == 3  # back in service after the cooldown
    assert answered_by(services, "primary")
    assert _state(services, "primary")[0] == "healthy"
    assert "sk-upstream" not in str(remote.routing().states)

    # Usage rows: one per client request (4, all answered), each with the deployment that
    # answered (id and upstream host, never a key). The primary's failed call is its own
    # count (3 calls, 1 failed), not a fifth request nor an error of the client's.
    services.proxy.usage.flush()
    usage = tables["usage_records"]
    with services.db.reading() as conn:
        rows = conn.execute(select(usage.c.model, usage.c.status, usage.c.deployment)).all()
    one, two = f"primary @ 127.0.0.1:{first.port}", f"secondary @ 127.0.0.1:{second.port}"
    answered = Counter(d for m, status, d in rows if m == "smart" and status == 200)
    assert answered == {one: 2, two: 2}, rows
    assert len(rows) == 4, rows
    by_deployment = {g.key: g for g in services.usage.summary(UsageFilter(), "deployment")}
    assert by_deployment[two].requests == 2 and by_deployment[two].errors == 0
    assert by_deployment[one].requests == 2 and by_deployment[one].errors == 0
    calls = {s.id: (s.requests, s.errors) for s in remote.routing().states}
    assert calls["primary"] == (3, 1) and calls["secondary"] == (2, 0), calls


def test_several_keys_rotate_and_a_fallback_answers_for_a_failing_model(
    app: tuple[Services, Session], upstreams: list[FakeUpstream]
) -> None:
    services, _ = app
    first, second, third = upstreams
    remote = services.remote
    ids, _ = remote.add_deployment(
        "fast", "openai/up-model", author="t", api_base=first.base_url,
        key_envs=["KEY_A", "KEY_B", "KEY_C"],
    )  # fmt: skip
    assert ids == ["fast-1", "fast-2", "fast-3"]
    remote.add_deployment(
        "solo", "openai/up-model", author="t", api_base=second.base_url, key_envs=["KEY_A"]
    )
    remote.add_deployment(
        "backup", "openai/up-model", author="t", api_base=third.base_url, key_envs=["KEY_C"]
    )
    remote.set_fallbacks("solo", ["backup"], author="t")
    assert remote.routing().router.fallbacks == {"solo": ("backup",)}

    supervisor = services.proxy.supervisor(port=free_port())
    supervisor.start()
    for _ in range(30):
        assert _ask(services, supervisor.url, "fast").status_code == 200
    keys = Counter(r["headers"]["authorization"] for r in chats(first))  # type: ignore[index]
    assert set(keys) == {
        "Bearer sk-upstream-key_a-0123456789",
        "Bearer sk-upstream-key_b-0123456789",
        "Bearer sk-upstream-key_c-0123456789",
    }, keys
    assert sum(keys.values()) == 30
    # Which deployment answered: every one of the three, 30 in all (as the upstream saw).
    assert wait_for(
        lambda: sum(s.requests for s in remote.routing().states if s.group == "fast") == 30, 10
    )
    per_deployment = {s.id: s.requests for s in remote.routing().states if s.group == "fast"}
    assert sorted(per_deployment.values()) == sorted(keys.values()), per_deployment

    second.fail_with = 503
    answer = _ask(services, supervisor.url, "solo")
    assert answer.status_code == 200, answer.text
    assert chats(second) and len(chats(third)) == 1  # the fallback model answered
    assert answered_by(services, "backup-1")
    state, detail = _state(services, "solo-1")
    assert state in ("failing", "cooling down")
    assert "503" in detail or "rejected" in detail
    assert "sk-upstream" not in detail  # the upstream echoed the key; it is masked


def test_models_status_reads_a_running_serve_process(
    tmp_path: Path, upstreams: list[FakeUpstream]
) -> None:
    """`models status` in another process shows the deployments of the proxy `serve` runs
    (through the status file) and which one answered."""
    import subprocess
    import sys

    from tests.integration.test_proxy_cli import REPO, _cli, _env, _until_ready

    first, second, _ = upstreams
    home = tmp_path / "home"

    STDIN = ("--password-stdin",)

    def as_root(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bridge_app", *args, "--as", "root", "--password-stdin"],
            env=_env(home),
            input="Admin-Password-42!\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
        )

    made = subprocess.run(
        [sys.executable, "-m", "bridge_app", "user", "create", "--admin", "root", *STDIN],
        env=_env(home),
        input="Admin-Password-42!\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert made.returncode == 0, made.stderr
    for args in (
        ("models", "add", "smart", "openai/up-model", "--api-base", first.base_url,
         "--order", "1", "--id", "primary"),
        ("models", "add", "smart", "openai/up-model", "--api-base", second.base_url,
         "--order", "2", "--id", "secondary"),
        ("models", "routing", "--retries", "2", "--cooldown", "60", "--allowed-fails", "0"),
    ):  # fmt: skip
        done = as_root(*args)
        assert done.returncode == 0, done.stderr
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(port)],
        env={**_env(home), "OPENAI_API_KEY": "sk-upstream-unused-0000"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        lines = _until_ready(serve)
        assert any(f"http://127.0.0.1:{port}" in ln for ln in lines), lines
        key = _cli(home, "proxy-key").stdout.strip()
        first.fail_with = 429
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "smart", "messages": [{"role": "user", "content": "hi"}]},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text

        def status() -> str:
            return _cli(home, "models", "status").stdout

        shown = wait_for(lambda: "-> secondary" in status() and status(), timeout=20)
        assert shown, status()
        assert "sk-upstream-unused-0000" not in shown  # the upstream echoed it; masked
        assert "primary              cooling down  until" in shown
        assert "secondary            healthy" in shown
        # `status` says the same, one sentence per deployment, with the cooldown's end.
        said = _cli(home, "status").stdout
        assert re.search(r"deployment smart · primary: cooling down until \d\d:\d\d:\d\d", said)
        assert "deployment smart · secondary: healthy (1 upstream calls, 0 failed)" in said, said

        # `usage --by deployment`: the request that fell back was answered by the second.
        two = f"secondary @ 127.0.0.1:{second.port}"

        def by_deployment() -> str:
            return as_root("usage", "--by", "deployment").stdout

        table = wait_for(lambda: two in by_deployment() and by_deployment(), timeout=20)
        assert table, by_deployment()
        lines = {ln.split("  ")[0].strip(): ln.split() for ln in table.splitlines()}
        assert lines[two][-7:-4] == ["1", "0", "0"], table  # 1 request, no error, none refused
        # One client request, one row: the primary's failed call is the deployment's count
        # (`models status` above), not a second request of the client's.
        assert f"primary @ 127.0.0.1:{first.port}" not in lines, table
        assert lines["total"][-7:-4] == ["1", "0", "0"], table
        out = tmp_path / "usage.csv"
        exported = as_root("usage", "export", "--format", "csv", str(out), "--by", "deployment")
        assert exported.returncode == 0, exported.stderr
        csv_lines = out.read_text(encoding="utf-8-sig").splitlines()
        assert csv_lines[0].startswith("deployment,requests,errors"), csv_lines
        assert csv_lines[0].endswith(",refused"), csv_lines
        assert any(ln.startswith(f"{two},1,0,") for ln in csv_lines), csv_lines
    finally:
        serve.terminate()
        serve.wait(30)
