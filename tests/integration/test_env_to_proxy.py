"""What the environment manager holds is what the embedded proxy sees, and only that."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from bridge_app.auth import Session
from bridge_app.devtools import FakeInternalUpstream
from bridge_app.proxy import ProxyState
from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.services import Services, build_services

pytestmark = pytest.mark.integration

CONFIG = """\
model_list:
  - model_name: upstream
    litellm_params:
      model: hosted_vllm/internal-model
      api_base: os.environ/BRIDGE_TEST_API_BASE
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
router_settings:
  disable_cooldowns: true
"""


@pytest.fixture
def services(app_paths: AppPaths) -> Iterator[tuple[Services, Session]]:
    services = build_services(app_paths)
    services.auth.create_first_admin("root", "Admin-Password-42!")
    session = services.auth.login("root", "Admin-Password-42!")
    active = app_paths.proxy_config_dir / "config.yaml"
    active.parent.mkdir(parents=True, exist_ok=True)
    active.write_text(CONFIG, encoding="utf-8")
    try:
        yield services, session
    finally:
        services.close()
        os.environ.pop("BRIDGE_TEST_EXTRA", None)


def test_disabled_entries_are_invisible_until_enabled_and_restarted(
    services: tuple[Services, Session],
) -> None:
    svc, admin = services
    with FakeInternalUpstream(required_fields=()) as upstream:
        svc.env.set(admin, "BRIDGE_TEST_API_BASE", f"{upstream.url}/v1", scope="shared")
        svc.env.set_enabled(admin, "BRIDGE_TEST_API_BASE", False, scope="shared")
        svc.env.set(admin, "BRIDGE_TEST_EXTRA", "extra-value-1", scope="shared", enabled=False)
        supervisor = svc.proxy.supervisor(port=0)

        # Referenced but disabled: the start is refused and says which variable.
        with pytest.raises(BridgeError, match="BRIDGE_TEST_API_BASE, which is not set"):
            supervisor.start()
        assert supervisor.status().state == ProxyState.FAILED
        assert "BRIDGE_TEST_EXTRA" not in os.environ

        svc.env.set_enabled(admin, "BRIDGE_TEST_API_BASE", True, scope="shared")
        supervisor.start()
        assert "BRIDGE_TEST_EXTRA" not in os.environ  # still disabled: not applied

        svc.env.set_enabled(admin, "BRIDGE_TEST_EXTRA", True, scope="shared")
        assert "BRIDGE_TEST_EXTRA" not in os.environ  # a change needs a restart
        supervisor.restart("env changed")
        assert os.environ.get("BRIDGE_TEST_EXTRA") == "extra-value-1"

        key = svc.proxy.master_key()
        response = httpx.post(
            f"{supervisor.url}/v1/chat/completions",
            json={"model": "upstream", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert upstream.seen and upstream.seen[-1].accepted

        # Disabling again and restarting takes it away from the proxy's environment.
        svc.env.set_enabled(admin, "BRIDGE_TEST_EXTRA", False, scope="shared")
        supervisor.restart("env changed")
        assert "BRIDGE_TEST_EXTRA" not in os.environ


def test_personal_entries_apply_once_the_user_is_signed_in(
    services: tuple[Services, Session],
) -> None:
    svc, admin = services
    with FakeInternalUpstream(required_fields=()) as upstream:
        svc.env.set(admin, "BRIDGE_TEST_API_BASE", f"{upstream.url}/v1", scope="shared")
        svc.env.set(admin, "BRIDGE_TEST_EXTRA", "personal-value-7")  # personal
        supervisor = svc.proxy.supervisor(port=0)  # exists before anyone signs in
        supervisor.start()
        assert "BRIDGE_TEST_EXTRA" not in os.environ
        svc.core.use_session(admin)
        supervisor.restart("signed in")
        assert os.environ.get("BRIDGE_TEST_EXTRA") == "personal-value-7"
        svc.core.use_session(None)
        supervisor.restart("signed out")
        assert "BRIDGE_TEST_EXTRA" not in os.environ
