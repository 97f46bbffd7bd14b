"""A `serve` whose token refresh was refused (blocked) recovers when the person logs in
again from another terminal: it adopts the new token and refreshes it by itself again
(issue 26, item 1). Real parts: `serve --as root` in its own process, a standard OAuth 2.0
token endpoint with short-lived tokens, an upstream that accepts only current tokens, and
`token login` / `token status` run as CLI commands beside it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge_app.devtools import FakeInternalUpstream
from bridge_app.runtime import AppPaths, Redactor, resource_path
from bridge_app.services import build_services
from bridge_app.tokens import Project
from tests._oauth_iam import OAuthIam
from tests.integration._serve import ADMIN, ADMIN_PW, Serve, cli, wait_until
from tests.integration._upstream import free_port
from tests.integration._webhook import Webhook

pytestmark = [pytest.mark.integration, pytest.mark.slow]
LIFETIME_S = 10  # refresh is due 5 s before expiry (docs/iam.md): every ~5 s
EMPLOYEE, EMPLOYEE_PW = "E1", "employee-pw-1"


def _token_cli(home: Path, *args: str, remember: bool = False) -> str:
    done = cli(
        home,
        "token",
        *args,
        *(["--remember"] if remember else []),
        "--as",
        ADMIN,
        "--password-stdin",
        stdin=f"{ADMIN_PW}\n{EMPLOYEE_PW}\n",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _blocked(home: Path) -> bool:
    status = json.loads(_token_cli(home, "status", "--json"))
    return bool(status["refresh_blocked"])


class Traffic(threading.Thread):
    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.codes: list[int] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            while not self.stopped.is_set():
                reply = client.post(
                    f"{self.url}/v1/chat/completions",
                    headers={"Authorization": f"Bearer {self.key}"},
                    json={"model": "internal-chat", "messages": [{"role": "user", "content": "x"}]},
                )
                self.codes.append(reply.status_code)
                time.sleep(0.2)

    def failures_since(self, start: int) -> list[int]:
        return [code for code in self.codes[start:] if code != 200]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


@pytest.fixture
def home(tmp_path: Path, webhook: Webhook) -> Iterator[tuple[Path, OAuthIam, FakeInternalUpstream]]:
    home = tmp_path / "home"
    oauth = OAuthIam({EMPLOYEE: EMPLOYEE_PW}, lifetime_s=LIFETIME_S).start()
    upstream = FakeInternalUpstream(token_valid=oauth.valid).start()
    services = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    try:
        services.auth.create_first_admin(ADMIN, ADMIN_PW)
        core = services.core
        admin = core.login(ADMIN, ADMIN_PW)
        core.set_env(admin, "INTERNAL_LLM_API_BASE", f"{upstream.url}/v1", scope="shared")
        core.set_env(admin, "ALERT_WEBHOOK_URL", webhook.url, scope="shared")  # IT's alerts
        core.apply_config(admin, resource_path("configs", "internal-enterprise.yaml").read_bytes())
        services.tokens.set_iam_settings(
            admin,
            oauth.password_grant_settings(),
        )
        services.tokens.projects.save(admin, Project("P-1", "Apollo"))
        core.use_project(admin, "P-1")
    finally:
        services.close()
    try:
        yield home, oauth, upstream
    finally:
        upstream.stop()
        oauth.stop()


def test_a_blocked_serve_refreshes_again_after_a_login_elsewhere(
    home: tuple[Path, OAuthIam, FakeInternalUpstream], webhook: Webhook
) -> None:
    path, oauth, _upstream = home
    _token_cli(path, "login", "--employee-id", EMPLOYEE)  # no password kept
    serve = Serve(path, free_port(), "--as", ADMIN, "--password-stdin", stdin=f"{ADMIN_PW}\n")
    traffic = Traffic(serve.url, _master_key(path))
    traffic.start()
    try:
        # The IAM revokes the refresh token: the next refresh is refused, refresh is blocked.
        wait_until(lambda: traffic.codes.count(200) >= 3, timeout=30)
        oauth.revoke_refresh_tokens()
        assert wait_until(lambda: _blocked(path), timeout=3 * LIFETIME_S), "never blocked"
        # IT's webhook is told, once, with what the person has to do.
        assert wait_until(lambda: webhook.kinds() == ["refresh_blocked"], timeout=10)
        blocked = webhook.received[0]["alert"]
        assert blocked["title"] == f"Internal token refresh blocked for {ADMIN}"
        assert "logs in again in Token & projects" in blocked["action"]

        # The person logs in again from another terminal, keeping the password this time.
        _token_cli(path, "login", "--employee-id", EMPLOYEE, remember=True)
        assert not _blocked(path)
        refreshes, passwords = oauth.calls["refresh_token"], oauth.calls["password"]
        mark = len(traffic.codes)
        # 1.5 lifetimes: `serve` refreshed the new token with its refresh token by itself.
        time.sleep(1.5 * LIFETIME_S)
        assert oauth.calls["refresh_token"] > refreshes, dict(oauth.calls)
        # The refresh token is revoked again: the remembered password takes over.
        oauth.revoke_refresh_tokens()
        time.sleep(1.5 * LIFETIME_S)
        assert oauth.calls["password"] > passwords, dict(oauth.calls)
        # Three lifetimes in all: without automatic refresh the token expired twice over.
        assert traffic.failures_since(mark) == [], traffic.codes[mark:]
        assert len(traffic.codes) - mark >= 3 * LIFETIME_S  # requests really flowed
        assert not _blocked(path)
        assert webhook.kinds() == ["refresh_blocked"]  # the password took over: no new block
    finally:
        traffic.stopped.set()
        traffic.join(timeout=30)
        serve.stop()


def _master_key(home: Path) -> str:
    services = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )
    try:
        return services.proxy.master_key()
    finally:
        services.close()
