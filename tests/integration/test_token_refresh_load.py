"""Refresh that respects the IAM, under load: 20 s tokens from a standard OAuth 2.0
endpoint, 8 clients streaming through the proxy for 90 s. No request may fail, and the
IAM sees no more calls than docs/iam.md promises (one login, then one refresh per
lifetime - margin)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bridge_app.devtools import FakeInternalUpstream
from bridge_app.runtime import AppPaths, resource_path
from bridge_app.services import build_services
from bridge_app.tokens import Project, max_iam_calls
from tests._oauth_iam import OAuthIam
from tests.integration._wire import KINDS, build

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LIFETIME_S = 20
DURATION_S = 90
CLIENTS = 8


def test_eight_streaming_clients_for_90_s_on_20_s_tokens(app_paths: AppPaths) -> None:
    services = build_services(app_paths)
    services.auth.create_first_admin("root", "Admin-Password-42!")
    session = services.auth.login("root", "Admin-Password-42!")
    oauth = OAuthIam({"E1": "employee-pw-1"}, lifetime_s=LIFETIME_S).start()
    upstream = FakeInternalUpstream(token_valid=oauth.valid).start()
    try:
        services.env.set(session, "INTERNAL_LLM_API_BASE", f"{upstream.url}/v1", scope="shared")
        active = app_paths.proxy_config_dir / "config.yaml"
        active.parent.mkdir(parents=True, exist_ok=True)
        active.write_bytes(resource_path("configs", "internal-enterprise.yaml").read_bytes())
        services.tokens.set_iam_settings(
            session,
            oauth.password_grant_settings(),
        )
        services.tokens.save_project(session, Project("P-1", "Apollo"))
        services.core.use_session(session)
        supervisor = services.proxy.supervisor(port=0)
        supervisor.start()
        started = time.monotonic()
        services.tokens.login(session, "E1", "employee-pw-1")
        key = services.proxy.master_key()

        def client_run(worker: int) -> dict[int, int]:
            codes: dict[int, int] = {}
            i = 0
            with httpx.Client(base_url=supervisor.url, timeout=60) as client:
                while time.monotonic() - started < DURATION_S:
                    kind = KINDS[(worker + i) % len(KINDS)]
                    request = build(
                        client, kind, key, model="internal-chat", stream=True, text=f"w{worker}"
                    )
                    with client.stream(
                        request.method,
                        request.url,
                        headers=request.headers,
                        content=request.content,
                    ) as response:
                        response.read()
                        codes[response.status_code] = codes.get(response.status_code, 0) + 1
                    i += 1
            return codes

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(client_run, range(CLIENTS)))
        elapsed = time.monotonic() - started
        total: dict[int, int] = {}
        for codes in results:
            for code, count in codes.items():
                total[code] = total.get(code, 0) + count
        assert set(total) == {200}, total
        assert total[200] >= CLIENTS * 10, total  # it really was under load
        assert not any(not seen.accepted for seen in upstream.seen)
        calls = sum(oauth.calls.values())
        print(f"\n{total[200]} requests in {elapsed:.0f} s, IAM calls {dict(oauth.calls)}")
        assert oauth.calls["password"] == 1
        assert calls <= max_iam_calls(elapsed, LIFETIME_S), (calls, elapsed, oauth.calls)
        assert calls >= 1 + int(elapsed // LIFETIME_S)  # it did refresh, before expiry
        assert oauth.max_in_flight == 1
    finally:
        services.close()
        upstream.stop()
        oauth.stop()
