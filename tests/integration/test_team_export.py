"""`team export`: the exported config.yaml loads in a standalone LiteLLM proxy (the `litellm`
command) that serves a request, holds no secret, and two such proxies share router state
through a real redis-server: a cooldown one of them sets is honoured by the other."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from bridge_app.auth import Session
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from bridge_app.tokens import placeholders_in
from tests.integration._litellm_cli import StandaloneLiteLLM
from tests.integration._upstream import FakeUpstream, free_port
from tests.integration.test_routing import chats

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN_PW = "Admin-Password-42!"
REDIS_PW = "redis-test-password-1234"
MASTER = "sk-team-master-0a1b2c3d4e5f"
KEYS = {"KEY_A": "sk-upstream-a-0123456789", "KEY_B": "sk-upstream-b-0123456789"}


class RedisServer:
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run scripts/setup.sh")
        self.port = free_port()
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--requirepass", REDIS_PW, "--save", "", "--appendonly", "no"]
        command += ["--dir", str(directory)]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(host="127.0.0.1", port=self.port, password=REDIS_PW)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def upstreams() -> Iterator[list[FakeUpstream]]:
    started = [FakeUpstream().start() for _ in range(2)]
    yield started
    for upstream in started:
        upstream.stop()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Services, Session]]:
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")})
    services = build_services(paths, redactor=Redactor())
    services.auth.create_first_admin("root", ADMIN_PW)
    session = services.auth.login("root", ADMIN_PW)
    for name, value in KEYS.items():
        services.env.set(session, name, value, scope="shared")
    try:
        yield services, session
    finally:
        services.close()


def _ask(url: str, model: str = "smart") -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {MASTER}"},
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        timeout=60,
    )


def test_the_exported_team_deployment_serves_and_shares_router_state_through_redis(
    app: tuple[Services, Session], upstreams: list[FakeUpstream], tmp_path: Path
) -> None:
    services, _ = app
    first, second = upstreams
    remote = services.remote
    remote.add_deployment(
        "smart", "openai/up-model", author="t", api_base=first.base_url,
        key_envs=["KEY_A"], order=1, deployment_id="primary",
    )  # fmt: skip
    remote.add_deployment(
        "smart", "openai/up-model", author="t", api_base=second.base_url,
        key_envs=["KEY_B"], order=2, deployment_id="secondary",
    )  # fmt: skip
    remote.set_router(author="t", retries=2, cooldown_s=60, allowed_fails=0)

    out = tmp_path / "team"
    exported = remote.export_team(out)
    assert sorted(p.name for p in exported.files) == [
        ".env.example", "README.md", "config.yaml", "docker-compose.yaml",
    ]  # fmt: skip
    assert exported.skipped_models == ("demo",)  # the app's offline demo stays home
    for path in exported.files:
        text = path.read_text()
        for secret in (*KEYS.values(), services.proxy.master_key()):
            assert secret not in text, path.name
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    assert config["router_settings"]["redis_host"] == "os.environ/REDIS_HOST"
    assert [m["model_info"]["id"] for m in config["model_list"]] == ["primary", "secondary"]
    assert not placeholders_in(config)
    example = (out / ".env.example").read_text().splitlines()
    for name in ("KEY_A", "KEY_B", "LITELLM_MASTER_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        assert f"{name}=" in example  # named, without a value
    compose = yaml.safe_load((out / "docker-compose.yaml").read_text())
    assert set(compose["services"]) == {"litellm", "redis", "postgres"}
    assert "remote add team" in (out / "README.md").read_text()
    with pytest.raises(Exception, match="already exists"):
        remote.export_team(out)

    store = RedisServer(tmp_path)
    env = {
        **KEYS,
        "LITELLM_MASTER_KEY": MASTER,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(store.port),
        "REDIS_PASSWORD": REDIS_PW,
    }
    one = StandaloneLiteLLM(out / "config.yaml", env=env, log=tmp_path / "one.log")
    two = StandaloneLiteLLM(out / "config.yaml", env=env, log=tmp_path / "two.log")
    try:
        one.start()
        two.start()
        answer = _ask(one.url)
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"] == "upstream says hi"
        assert len(chats(first)) == 1 and not chats(second)

        first.fail_with = 429
        assert _ask(one.url).status_code == 200  # the second deployment answered
        assert len(chats(first)) == 2 and len(chats(second)) == 1
        assert store.client.exists("deployment:primary:cooldown")

        # The other proxy never saw the 429, yet it skips the cooling deployment.
        for _ in range(3):
            assert _ask(two.url).status_code == 200
        assert len(chats(first)) == 2, "proxy two called the deployment that cools down"
        assert len(chats(second)) == 4
    finally:
        one.stop()
        two.stop()
        store.stop()
