"""Remote gateways against a real standalone LiteLLM proxy (the `litellm` command) in front
of a local upstream: add / test / models (good key, wrong key, closed port, a server that
is not LiteLLM, https with a private CA), and a remote model used in one step, with the
internal token and project reaching the upstream through bridge -> gateway -> upstream."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from bridge_app.auth import Session
from bridge_app.devtools import FakeIam, FakeInternalUpstream
from bridge_app.remote import RemoteError
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import Services, build_services
from bridge_app.tokens import IamSettings, Project
from tests.integration._litellm_cli import StandaloneLiteLLM, make_private_ca
from tests.integration._upstream import FakeUpstream, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
GATEWAY_KEY = "sk-team-gateway-7f3a9c2e41b8"
ADMIN_PW = "Admin-Password-42!"
REPLY = "Hello from behind the team gateway."


def gateway_config(path: Path, upstream_url: str) -> Path:
    path.write_text(
        f"""model_list:
  - model_name: team-chat
    litellm_params:
      model: hosted_vllm/internal-chat
      api_base: {upstream_url}/v1
    model_info:
      mode: chat
litellm_settings:
  drop_params: true
general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Team:
    iam: FakeIam
    upstream: FakeInternalUpstream
    gateway: StandaloneLiteLLM


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    work = tmp_path_factory.mktemp("team-gateway")
    iam = FakeIam({"E42": "employee-pw-42"}).start()
    upstream = FakeInternalUpstream(token_valid=iam.valid, reply=REPLY).start()
    gateway = StandaloneLiteLLM(
        gateway_config(work / "gateway.yaml", upstream.url),
        env={"GATEWAY_MASTER_KEY": GATEWAY_KEY},
    )
    try:
        gateway.start()
        yield Team(iam, upstream, gateway)
    finally:
        gateway.stop()
        upstream.stop()
        iam.stop()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Services, Session]]:
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")})
    services = build_services(paths, redactor=Redactor())
    services.auth.create_first_admin("root", ADMIN_PW)
    session = services.auth.login("root", ADMIN_PW)
    try:
        yield services, session
    finally:
        services.close()


def test_add_test_and_models_against_a_real_litellm_gateway(
    team: Team, app: tuple[Services, Session]
) -> None:
    services, session = app
    result = services.remote.add(session, "team", team.gateway.url + "/v1/", key=GATEWAY_KEY)
    assert result is not None
    assert result.version == version("litellm")  # the gateway runs this LiteLLM
    assert result.models == ("team-chat",)
    assert result.auth == "key accepted"
    assert result.tls == "not used (http)"

    (gateway,) = services.remote.gateways()
    assert gateway.url == team.gateway.url  # the /v1 suffix is not part of the base
    assert gateway.has_key
    # The key is a sealed shared environment entry (what the proxy receives at start).
    assert services.env.effective_environment(None)[gateway.key_env] == GATEWAY_KEY
    assert GATEWAY_KEY.encode() not in services.paths.database_file.read_bytes()

    tested = services.remote.test("team")
    assert f"LiteLLM:  {version('litellm')}" in tested.lines()
    (model,) = services.remote.models("team")
    assert model.id == "team-chat"
    assert model.upstream_model == "hosted_vllm/internal-chat"  # /model/info with the master key
    assert model.mode == "chat"

    services.remote.remove(session, "team")
    assert services.remote.gateways() == []
    assert gateway.key_env not in services.env.defined_names(None)


def test_a_wrong_key_is_refused_with_a_clear_message_and_nothing_is_kept(
    team: Team, app: tuple[Services, Session]
) -> None:
    services, session = app
    with pytest.raises(RemoteError) as refused:
        services.remote.add(session, "team", team.gateway.url, key="sk-not-the-right-key-000")
    assert "refused the key (401 Unauthorized" in refused.value.message
    assert "--key-stdin" in (refused.value.hint or "")
    with pytest.raises(RemoteError) as keyless:
        services.remote.add(session, "team", team.gateway.url)
    assert "needs a key" in keyless.value.message
    assert services.remote.gateways() == []


def test_a_closed_port_and_a_server_that_is_not_litellm(app: tuple[Services, Session]) -> None:
    services, session = app
    with pytest.raises(RemoteError) as closed:
        services.remote.add(session, "team", f"http://127.0.0.1:{free_port()}", key="sk-x")
    assert "Nothing answers at http://127.0.0.1:" in closed.value.message

    other = FakeUpstream().start()
    try:
        with pytest.raises(RemoteError) as not_litellm:
            services.remote.add(session, "team", f"http://127.0.0.1:{other.port}", key="sk-x")
    finally:
        other.stop()
    assert "is not a LiteLLM proxy" in not_litellm.value.message

    for bad in ("ftp://gateway.corp", "gateway.corp:4000", "https://user:pw@gateway.corp"):
        with pytest.raises(RemoteError):
            services.remote.add(session, "team", bad, check=False)
    assert services.remote.gateways() == []


def test_https_with_a_private_ca(app: tuple[Services, Session], tmp_path: Path) -> None:
    services, session = app
    ca, cert, key = make_private_ca(tmp_path)
    open_upstream = FakeInternalUpstream(required_fields=()).start()
    secure = StandaloneLiteLLM(
        gateway_config(tmp_path / "tls-gateway.yaml", open_upstream.url),
        env={"GATEWAY_MASTER_KEY": GATEWAY_KEY},
        tls=(cert, key),
    )
    try:
        secure.start()
        with pytest.raises(RemoteError) as untrusted:
            services.remote.add(session, "secure", secure.url, key=GATEWAY_KEY)
        assert "is not trusted" in untrusted.value.message
        assert "--ca-file" in (untrusted.value.hint or "")

        result = services.remote.add(
            session, "secure", secure.url, key=GATEWAY_KEY, ca_pem=ca.read_text()
        )
        assert result is not None and result.tls == "verified (private CA)"
        assert result.models == ("team-chat",)
        assert services.remote.test("secure").tls == "verified (private CA)"
        assert services.remote.gateway("secure").ca_pem == ca.read_text()

        # The embedded proxy trusts the same CA for this gateway's models (ssl_verify).
        services.remote.use_model("secure", "team-chat", author="root", inject={})
        supervisor = services.proxy.supervisor(port=free_port())
        supervisor.start()
        answer = httpx.post(
            f"{supervisor.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {services.proxy.master_key()}"},
            json={"model": "team-chat", "messages": [{"role": "user", "content": "hi"}]},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert open_upstream.seen and open_upstream.seen[-1].accepted

        # The app's one extra-CA setting, the shared SSL_CERT_FILE entry (which LiteLLM,
        # the IAM and update downloads add too), is enough without --ca-file.
        services.env.set(session, "SSL_CERT_FILE", str(ca), scope="shared")
        added = services.remote.add(session, "by-entry", secure.url, key=GATEWAY_KEY)
        assert added is not None and added.tls == "verified (private CA)"
        assert services.remote.gateway("by-entry").ca_pem is None
        assert services.remote.test("by-entry").tls == "verified (private CA)"
    finally:
        secure.stop()
        open_upstream.stop()


def test_a_remote_model_in_one_step_carries_the_token_and_project_upstream(
    team: Team, app: tuple[Services, Session]
) -> None:
    services, session = app
    services.remote.add(session, "team", team.gateway.url, key=GATEWAY_KEY)
    services.tokens.set_iam_settings(
        session, IamSettings(url=team.iam.token_url, token_path="data.access_token")
    )
    services.tokens.projects.save(session, Project("P-7", "Apollo"))
    services.tokens.activate(session)
    services.tokens.login(session, "E42", "employee-pw-42")
    services.core.use_session(session)

    with pytest.raises(RemoteError) as missing:
        services.remote.use_model("team", "no-such-model", author="root")
    assert "team-chat" in (missing.value.hint or "")
    applied = services.remote.use_model("team", "team-chat", author="root", local_name="team")
    assert applied.version_id >= 1
    config = services.config.read_active() or ""
    assert "litellm_proxy/team-chat" in config
    assert "os.environ/REMOTE_TEAM_API_KEY" in config
    assert GATEWAY_KEY not in config

    supervisor = services.proxy.supervisor(port=free_port())
    supervisor.start()
    token = services.tokens.current().token
    first = len(team.upstream.seen)
    answer = httpx.post(
        f"{supervisor.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {services.proxy.master_key()}"},
        json={"model": "team", "messages": [{"role": "user", "content": "hi"}]},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == REPLY
    (seen,) = team.upstream.seen[first:]
    assert seen.accepted
    assert seen.body["internal_token"] == token
    assert seen.body["project_id"] == "P-7"
    assert seen.body["project_name"] == "Apollo"


def _cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def test_the_remote_commands(team: Team, tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(home)}))
    services.auth.create_first_admin("root", ADMIN_PW)
    services.close()

    wrong = _cli(
        home, "remote", "add", "team", team.gateway.url, "--key-stdin", "--as", "root",
        "--password-stdin", stdin=f"{ADMIN_PW}\nsk-wrong-key-123456789\n",
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "error: The gateway refused the key (401 Unauthorized" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    added = _cli(
        home, "remote", "add", "team", team.gateway.url, "--key-stdin", "--as", "root",
        "--password-stdin", stdin=f"{ADMIN_PW}\n{GATEWAY_KEY}\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert f"LiteLLM:  {version('litellm')}" in added.stdout
    assert "Added the remote gateway team." in added.stdout

    listed = _cli(home, "remote", "list")
    assert f"team             {team.gateway.url}" in listed.stdout
    assert "key stored" in listed.stdout
    assert GATEWAY_KEY not in listed.stdout

    tested = _cli(home, "remote", "test", "team")
    assert tested.returncode == 0, tested.stderr
    assert "key:      key accepted" in tested.stdout
    models = _cli(home, "remote", "models", "team")
    assert models.stdout.startswith("team-chat")
    assert "hosted_vllm/internal-chat" in models.stdout

    used = _cli(
        home, "remote", "use", "team", "team-chat", "--as", "root", "--password-stdin",
        stdin=f"{ADMIN_PW}\n",
    )  # fmt: skip
    assert used.returncode == 0, used.stderr
    assert "Local model team-chat -> team/team-chat." in used.stdout
    shown = _cli(home, "models", "list")
    assert "litellm_proxy/team-chat @ " + team.gateway.url in shown.stdout

    listed = _cli(home, "remote", "list")
    assert "key stored  used by team-chat-1" in listed.stdout

    # Its key cannot go while a model uses it: the config could not start without it.
    refused = _cli(
        home, "remote", "remove", "team", "--as", "root", "--password-stdin", stdin=f"{ADMIN_PW}\n"
    )
    assert refused.returncode == 1
    assert (
        "error: 1 local model uses the gateway team: team-chat-1. Without its key the config "
        "could not start." in refused.stderr
    )
    assert "litellm-bridge remote remove team --with-models" in refused.stderr
    unset = _cli(
        home, "env", "unset", "REMOTE_TEAM_API_KEY", "--shared", "--as", "root",
        "--password-stdin", stdin=f"{ADMIN_PW}\n",
    )  # fmt: skip
    assert unset.returncode == 1
    assert "error: The active config uses REMOTE_TEAM_API_KEY" in unset.stderr
    assert "team" in _cli(home, "remote", "list").stdout  # nothing changed

    removed = _cli(
        home, "remote", "remove", "team", "--with-models", "--as", "root", "--password-stdin",
        stdin=f"{ADMIN_PW}\n",
    )  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    assert "Removed the local models team-chat-1: " in removed.stdout
    assert "Removed the remote gateway team and its key." in removed.stdout
    assert "team-chat" not in _cli(home, "models", "list").stdout
    assert _cli(home, "remote", "list").stdout.startswith("No remote gateways.")
    checked = _cli(home, "config", "validate")  # the active config, as it is now
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_removing_a_gateway_in_use_never_takes_a_running_serve_down(
    team: Team, tmp_path: Path
) -> None:
    """Issue 26, item 2, as it was seen: `serve` runs in another process with `demo` and a
    model on the team gateway; removing the gateway (refused, then with its models) never
    closes the port or fails `demo`, and the proxy ends `running` without the model."""
    import json
    import threading

    from bridge_app.runtime import resource_path
    from tests.integration._serve import Serve, wait_until

    home = tmp_path / "home"
    services = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(home)}))
    try:
        services.auth.create_first_admin("root", ADMIN_PW)
        admin = services.core.login("root", ADMIN_PW)
        services.core.apply_config(admin, resource_path("configs", "demo.yaml").read_bytes())
        services.core.add_gateway(admin, "team", team.gateway.url, key=GATEWAY_KEY)
        services.core.use_remote_model(admin, "team", "team-chat", inject={})
    finally:
        services.close()
    serve = Serve(home, free_port())
    key = _cli(home, "proxy-key").stdout.strip()
    codes: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            while not stop.is_set():
                try:
                    reply = client.post(
                        f"{serve.url}/v1/chat/completions",
                        headers={"Authorization": f"Bearer {key}"},
                        json={"model": "demo", "messages": [{"role": "user", "content": "x"}]},
                    )
                    codes.append(reply.status_code)
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    def team_model() -> int:
        return httpx.post(
            f"{serve.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "team-chat", "messages": [{"role": "user", "content": "x"}]},
            timeout=30,
            trust_env=False,
        ).status_code

    runner = threading.Thread(target=traffic, daemon=True)
    runner.start()
    try:
        # Served (its upstream wants an internal token this test does not get: 401).
        assert team_model() not in (400, 404)
        refused = _cli(
            home, "remote", "remove", "team", "--as", "root", "--password-stdin",
            stdin=f"{ADMIN_PW}\n",
        )  # fmt: skip
        assert refused.returncode == 1 and "--with-models" in refused.stderr
        removed = _cli(
            home, "remote", "remove", "team", "--with-models", "--as", "root",
            "--password-stdin", stdin=f"{ADMIN_PW}\n",
        )  # fmt: skip
        assert removed.returncode == 0, removed.stderr
        assert wait_until(lambda: team_model() in (400, 404), timeout=60), "team-chat stayed"

        def running() -> bool:
            status = json.loads(_cli(home, "status", "--json").stdout)
            return bool(status["state"] == "running")

        assert wait_until(running, timeout=60)
        mark = len(codes)
        wait_until(lambda: len(codes) > mark + 5, timeout=30)
    finally:
        stop.set()
        runner.join(timeout=30)
        serve.stop()
    assert errors == []  # the port never closed, no connection was dropped
    assert set(codes) <= {200, 503}, set(codes)  # 503 + Retry-After while restarting
    assert codes[-1] == 200 and codes.count(200) > 10
