"""Config management against the real embedded proxy: every shipped template starts it,
and a config that validates but fails at start is rolled back with the proxy serving the
previous config again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from bridge_app.auth import Session
from bridge_app.config import ConfigApplyError
from bridge_app.devtools import FakeInternalUpstream
from bridge_app.proxy import ProxyState
from bridge_app.runtime import AppPaths
from bridge_app.services import Services, build_services
from bridge_app.tokens import Project

pytestmark = pytest.mark.integration

_ENV_REF = re.compile(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture
def stack(app_paths: AppPaths) -> Iterator[tuple[Services, Session, FakeInternalUpstream]]:
    services = build_services(app_paths)
    services.auth.create_first_admin("root", "Admin-Password-42!")
    session = services.auth.login("root", "Admin-Password-42!")
    upstream = FakeInternalUpstream(required_fields=()).start()
    try:
        yield services, session, upstream
    finally:
        services.close()
        upstream.stop()


def _placeholder_env(services: Services, session: Session, text: str, base: str) -> None:
    """Every variable a template needs, pointed at the local fake upstream."""
    for name in sorted(set(_ENV_REF.findall(text)) - {"LITELLM_MASTER_KEY"}):
        if name.endswith(("_BASE", "_URL")):
            value = f"{base}/v1"
        elif name.endswith("VERSION"):
            value = "2024-10-21"
        else:
            value = f"placeholder-{name.lower()}-0000"
        services.env.set(session, name, value, scope="shared")


def test_every_shipped_template_starts_the_proxy(
    stack: tuple[Services, Session, FakeInternalUpstream],
) -> None:
    services, session, upstream = stack
    templates = services.config.list_templates()
    names = {t.name for t in templates}
    assert {
        "demo",
        "internal-enterprise",
        "openai",
        "anthropic",
        "azure-openai",
        "ollama",
        "openai-compatible",
    } <= names
    services.tokens.projects.save(session, Project("P-1", "Apollo"))
    services.use_session(session)
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()  # the demo config of a fresh install
    key = services.proxy.master_key()
    for template in templates:
        text = services.config.new_from_template(template.name)
        _placeholder_env(services, session, text, upstream.url)
        result = services.config.apply(text, author="test", comment=template.name)
        assert result.restarted, template.name
        assert supervisor.status().state in (ProxyState.RUNNING, ProxyState.DEGRADED), (
            template.name,
            supervisor.status().last_error,
        )
        models = httpx.get(
            f"{supervisor.url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        assert models.status_code == 200, (template.name, models.text)
        assert models.json()["data"], template.name


def test_a_config_that_fails_at_start_is_rolled_back_and_the_old_one_serves(
    stack: tuple[Services, Session, FakeInternalUpstream],
) -> None:
    services, session, upstream = stack
    services.env.set(session, "OPENAI_COMPATIBLE_API_BASE", f"{upstream.url}/v1", scope="shared")
    services.env.set(session, "OPENAI_COMPATIBLE_API_KEY", "placeholder-key-0000", scope="shared")
    good = services.config.new_from_template("openai-compatible")
    services.config.apply(good, author="test", comment="good")
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()
    before = services.config.read_active()

    # Valid YAML and a valid key, but the callback's module does not exist: LiteLLM only
    # finds out while starting.
    document = services.config.open_document(good)
    document.set(("litellm_settings", "callbacks"), ["no_such_module.handler"])
    broken = document.to_text()
    assert services.config.validate(broken).ok, services.config.validate(broken).report()
    with pytest.raises(ConfigApplyError) as failure:
        services.config.apply(broken, author="test", comment="broken")
    assert failure.value.restored
    assert services.config.read_active() == before
    assert supervisor.status().state in (ProxyState.RUNNING, ProxyState.DEGRADED)

    key = services.proxy.master_key()
    model = re.search(r"model_name:\s*(\S+)", good)
    assert model is not None
    response = httpx.post(
        f"{supervisor.url}/v1/chat/completions",
        json={"model": model.group(1), "messages": [{"role": "user", "content": "after"}]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    history = services.config.list_versions(10)
    assert any(not v.applied and "rolled back" in v.comment for v in history)
