"""network.allowed_upstream_hosts: a deployment whose api_base is on another host is
refused by the real proxy before anything leaves; an allowed one reaches its upstream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge_app.policy import PolicyService, RequestPolicy
from tests.integration._upstream import FakeUpstream
from tests.integration._wire import build
from tests.integration.conftest import Made
from tests.unit._auth_stack import open_stack, with_admin_and_user

pytestmark = pytest.mark.integration


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


def test_upstream_hosts_outside_the_policy_are_refused(
    make_proxy: object, upstream: FakeUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORP_UPSTREAM_KEY", "upstream-key-for-test")
    stack = open_stack(tmp_path / "bridge.db")
    admin, _bob = with_admin_and_user(stack)
    service = PolicyService(
        db=stack.db, audit=stack.audit, settings=stack.settings, machine_file=tmp_path / "none"
    )
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('network: {allowed_upstream_hosts: ["*.corp.example"]}\n')
    service.apply(admin, policy_file)
    made: Made = make_proxy(  # type: ignore[operator]
        config_text=(
            "model_list:\n"
            "  - model_name: corp\n"
            "    litellm_params:\n"
            "      model: openai/corp-model\n"
            f"      api_base: {upstream.base_url}\n"
            "      api_key: os.environ/CORP_UPSTREAM_KEY\n"
            "      use_chat_completions_api: true\n"
        )
    )
    made.supervisor.add_request_hook(RequestPolicy(service=service, audit=stack.audit).upstream)
    made.supervisor.start()
    try:
        with httpx.Client(base_url=made.supervisor.url, timeout=60, trust_env=False) as c:
            for kind in ("chat", "anthropic", "responses"):
                r = c.send(build(c, kind, made.key, model="corp"))
                assert r.status_code == 403, (kind, r.text)
                assert "upstream host 127.0.0.1 is not allowed by your company's policy" in r.text

            def calls() -> int:
                return sum(1 for r in upstream.requests if r["path"].endswith("/completions"))

            assert calls() == 0  # no request left for the refused host

            policy_file.write_text('network: {allowed_upstream_hosts: ["127.0.0.1"]}\n')
            service.apply(admin, policy_file)
            r = c.send(build(c, "chat", made.key, model="corp"))
            assert r.status_code == 200, r.text
            assert calls() == 1
    finally:
        made.supervisor.stop()
        stack.close()
