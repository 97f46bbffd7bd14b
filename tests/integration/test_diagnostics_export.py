"""The diagnostics archive holds what a support desk needs and no secret of any kind, even
after upstreams echoed every secret back through the proxy (into its log and errors)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge_app.devtools import FakeIam
from bridge_app.runtime import AppPaths
from bridge_app.services import build_services
from bridge_app.tokens import IamSettings, Project
from tests.integration._upstream import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
_BRIDGE = (sys.executable, "-m", "bridge_app")
_AS_ROOT = ("--as", "root", "--password-stdin")

ADMIN_PW = "Adm1n-Diag-Secret-7Q4Z!"
IAM_PW = "iam-pw-diag-secret-5521"
EMPLOYEE = "E-DIAG-1"
SHARED_ENV = "shared-env-diag-secret-8843"
PERSONAL_ENV = "personal-env-diag-secret-1177"
PROJECT_FIELD = "cost-center-diag-secret-6609"
CONFIG = """model_list:
  - model_name: echo
    litellm_params:
      model: openai/echo
      api_base: os.environ/ECHO_API_BASE
      api_key: os.environ/ECHO_API_KEY
      extra_body:
        internal_token: "{token}"
        cost_center: "{project.cost_center}"
  - model_name: echo-fail
    litellm_params:
      model: openai/echo-fail
      api_base: os.environ/ECHO_API_BASE
      api_key: os.environ/ECHO_API_KEY
      extra_body:
        internal_token: "{token}"
        cost_center: "{project.cost_center}"
        shared_value: os.environ/SHARED_DIAG_VALUE
router_settings:
  num_retries: 0
  disable_cooldowns: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""


class EchoUpstream:
    """Answers chat completions with everything it received (headers and body); the
    `echo-fail` model gets a 400 whose message repeats it all, as careless servers do."""

    def __init__(self) -> None:
        self.port = free_port()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def _handle(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        echo = json.dumps({"headers": dict(request.headers), "body": body})
        if "fail" in str(body.get("model")):
            return JSONResponse({"error": {"message": f"rejected: {echo}"}}, status_code=400)
        return JSONResponse(
            {
                "id": "e1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": echo},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    def __enter__(self) -> EchoUpstream:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def iam() -> Iterator[FakeIam]:
    server = FakeIam({EMPLOYEE: IAM_PW}).start()
    yield server
    server.stop()


def _hits(archive: bytes, secrets: dict[str, str]) -> list[str]:
    found = [f"{name} in the zip bytes" for name, s in secrets.items() if s.encode() in archive]
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            for name, secret in secrets.items():
                if secret.encode() in data or secret.encode() in info.filename.encode():
                    found.append(f"{name} in {info.filename}")
    return found


def test_the_archive_has_every_part_and_no_secret_after_upstreams_echoed_them(
    app_paths: AppPaths, iam: FakeIam, tmp_path: Path
) -> None:
    services = build_services(app_paths)
    try:
        services.auth.create_first_admin("root", ADMIN_PW)
        session = services.auth.login("root", ADMIN_PW)
        with EchoUpstream() as upstream:
            services.env.set(
                session, "ECHO_API_BASE", f"http://127.0.0.1:{upstream.port}/v1", scope="shared"
            )
            services.env.set(session, "SHARED_DIAG_VALUE", SHARED_ENV, scope="shared")
            services.env.set(session, "ECHO_API_KEY", PERSONAL_ENV, scope="personal")
            services.tokens.set_iam_settings(
                session, IamSettings(url=iam.token_url, token_path="data.access_token")
            )
            services.tokens.projects.save(
                session, Project("P-DIAG", "Diag", {"cost_center": PROJECT_FIELD})
            )
            services.tokens.activate(session)
            services.tokens.login(session, EMPLOYEE, IAM_PW, remember=True)
            token = services.tokens.current().token
            assert token
            tool_key = services.tools.create_key("claude-code")
            master_key = services.proxy.master_key()
            active = app_paths.proxy_config_dir / "config.yaml"
            active.parent.mkdir(parents=True, exist_ok=True)
            active.write_text(CONFIG, encoding="utf-8")
            services.core.use_session(session)
            supervisor = services.proxy.supervisor(port=0)
            supervisor.start()
            with httpx.Client(base_url=supervisor.url, timeout=60, trust_env=False) as client:
                for model, key in (("echo", master_key), ("echo-fail", tool_key)):
                    for _ in range(2):
                        response = client.post(
                            "/v1/chat/completions",
                            json={"model": model, "messages": [{"role": "user", "content": "x"}]},
                            headers={"Authorization": f"Bearer {key}"},
                        )
                        if model == "echo":  # the echo really carried the secrets
                            assert response.status_code == 200, response.text
                            text = response.text
                            assert PERSONAL_ENV in text and PROJECT_FIELD in text
                            assert token in text
                        else:
                            assert response.status_code >= 400
            secrets = {
                "admin password": ADMIN_PW,
                "IAM password": IAM_PW,
                "token": token,
                "shared env entry": SHARED_ENV,
                "personal env entry": PERSONAL_ENV,
                "project field": PROJECT_FIELD,
                "tool key": tool_key,
                "master key": master_key,
            }
            path = tmp_path / "out" / "diag.zip"
            steps: list[tuple[str, float]] = []
            result = services.diagnostics.export(
                session, path, lambda what, f: steps.append((what, f))
            )
        assert result.path == path and path.exists()
        assert steps[-1] == ("done", 1.0) and len(steps) > 10
        archive = path.read_bytes()
        assert _hits(archive, secrets) == []
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            names = set(zf.namelist())
            assert {
                "doctor.json",
                "versions.json",
                "paths.json",
                "settings.json",
                "config/active.yaml",
                "config/validation.json",
                "policy.json",
                "status.json",
                "logs/proxy.log",
                "errors.json",
                "audit-verify.json",
                "integrity.json",
                "tools.json",
                "unclean-shutdowns.json",
            } <= names
            config = zf.read("config/active.yaml").decode()
            assert "api_key: os.environ/ECHO_API_KEY" in config  # references stay readable
            versions = json.loads(zf.read("versions.json"))
            assert versions["litellm"] == version("litellm")
            status = json.loads(zf.read("status.json"))
            assert status["state"] == "running" and status["metrics"]["requests"] >= 4
            assert json.loads(zf.read("audit-verify.json"))["ok"] is True
            errors = json.loads(zf.read("errors.json"))
            assert errors["log_errors"], "the upstream's 400s are among the last errors"
            assert all(e["hint"] for e in errors["log_errors"])
            tools = {t["id"]: t for t in json.loads(zf.read("tools.json"))}
            assert tools["claude-code"]["has_own_key"] is True
            log_text = zf.read("logs/proxy.log").decode()
            assert "rejected" in log_text  # the echoing error is there, masked
    finally:
        services.close()

    # The command does the same from another process (which learned no secret yet).
    cli = subprocess.run(
        [*_BRIDGE, "diagnostics", "export", str(tmp_path / "cli.zip"), *_AS_ROOT],
        input=f"{ADMIN_PW}\n",
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
    )
    assert cli.returncode == 0, cli.stderr
    assert "It contains no passwords, keys or tokens" in cli.stdout
    assert _hits((tmp_path / "cli.zip").read_bytes(), secrets) == []


def test_export_refuses_a_name_that_is_not_a_zip(app_paths: AppPaths, tmp_path: Path) -> None:
    services = build_services(app_paths)
    try:
        services.auth.create_first_admin("root", ADMIN_PW)
        session = services.auth.login("root", ADMIN_PW)
        with pytest.raises(Exception, match=r"diag.txt is not a \.zip file name"):
            services.diagnostics.export(session, tmp_path / "diag.txt")
        assert not (tmp_path / "diag.txt").exists()
    finally:
        services.close()
