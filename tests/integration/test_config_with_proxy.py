"""Config management against the real embedded proxy: every shipped template starts it,
a callback module an admin allowed is loaded, code-running configs are refused before the
proxy sees them, and a config that validates but fails at start is rolled back with the
proxy serving the previous config again."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge_app.auth import Session
from bridge_app.config import ConfigApplyError, ConfigInvalidError
from bridge_app.devtools import FakeInternalUpstream
from bridge_app.proxy import ProxyState
from bridge_app.runtime import AppPaths, BridgeError
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
    services.core.use_session(session)
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

    # An admin allowed a callback module that does not exist: validation cannot know,
    # LiteLLM only finds out while starting.
    services.settings.set("config.allowed_modules", ["no_such_module"])
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


def test_an_allowed_callback_module_is_loaded_by_the_real_proxy(
    stack: tuple[Services, Session, FakeInternalUpstream],
) -> None:
    from tests.integration import _allowed_callback

    services, session, upstream = stack
    services.env.set(session, "OPENAI_COMPATIBLE_API_BASE", f"{upstream.url}/v1", scope="shared")
    services.env.set(session, "OPENAI_COMPATIBLE_API_KEY", "placeholder-key-0000", scope="shared")
    document = services.config.open_document(services.config.new_from_template("openai-compatible"))
    document.set(
        ("litellm_settings", "callbacks"), ["tests.integration._allowed_callback.recorder"]
    )
    text = document.to_text()
    refused = services.config.validate(text)
    assert [p.code for p in refused.errors] == ["code-not-allowed"], refused.report()

    services.settings.set("config.allowed_modules", ["tests.integration._allowed_callback"])
    assert services.config.validate(text).ok
    services.config.apply(text, author="test", comment="allowed callback")
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()
    model = re.search(r"model_name:\s*(\S+)", text)
    assert model is not None
    response = httpx.post(
        f"{supervisor.url}/v1/chat/completions",
        json={"model": model.group(1), "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {services.proxy.master_key()}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 10
    while not _allowed_callback.recorder.models and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _allowed_callback.recorder.models, "LiteLLM did not call the allowed callback"


_BAD_BASE = """\
model_list:
  - model_name: my-model
    litellm_params:
      model: hosted_vllm/my-model
      api_base: os.environ/OPENAI_COMPATIBLE_API_BASE
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""


@pytest.mark.parametrize(
    ("extra", "line", "column"),
    [
        ("litellm_settings:\n  callbacks: [os.system]\n", 9, 15),
        ("litellm_settings:\n  success_callback: [bridge_hooks.log]\n", 9, 22),
        (
            "guardrails:\n  - guardrail_name: g\n    litellm_params:\n"
            "      guardrail: custom_code\n      mode: pre_call\n",
            11,
            18,
        ),
        ("callbacks_payload: !!python/object/apply:os.system ['touch pwned']\n", 8, 20),
    ],
)
def test_code_running_configs_are_refused_and_the_proxy_keeps_serving(
    stack: tuple[Services, Session, FakeInternalUpstream],
    tmp_path: Path,
    extra: str,
    line: int,
    column: int,
) -> None:
    services, session, upstream = stack
    services.env.set(session, "OPENAI_COMPATIBLE_API_BASE", f"{upstream.url}/v1", scope="shared")
    services.env.set(session, "OPENAI_COMPATIBLE_API_KEY", "placeholder-key-0000", scope="shared")
    good = services.config.new_from_template("openai-compatible")
    services.config.apply(good, author="test", comment="good")
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()
    before = services.config.read_active()
    bad = _BAD_BASE + extra
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    result = services.config.validate_file(path)
    assert not result.ok
    assert f"line {line}, column {column}" in result.report(), result.report()
    with pytest.raises(ConfigInvalidError):
        services.config.apply(bad, author="test", comment="bad")
    assert services.config.read_active() == before
    assert supervisor.status().state in (ProxyState.RUNNING, ProxyState.DEGRADED)
    assert not (tmp_path / "pwned").exists()


def test_the_proxy_refuses_to_start_an_active_file_that_would_run_code(
    stack: tuple[Services, Session, FakeInternalUpstream],
) -> None:
    """A file written before validation refused such configs, or edited by hand."""
    services, session, upstream = stack
    services.env.set(session, "OPENAI_COMPATIBLE_API_BASE", f"{upstream.url}/v1", scope="shared")
    services.proxy.active_config().write_text(
        _BAD_BASE
        + "litellm_settings:\n  callbacks: [tests.integration._allowed_callback.recorder]\n",
        encoding="utf-8",
    )
    supervisor = services.proxy.supervisor(port=0)
    with pytest.raises(BridgeError) as refused:
        supervisor.start()
    assert "names Python code that LiteLLM would import" in refused.value.message
    assert "tests.integration._allowed_callback.recorder" in refused.value.message
    assert supervisor.status().state == ProxyState.FAILED

    services.proxy.active_config().write_text(_BAD_BASE, encoding="utf-8")
    with pytest.raises(BridgeError, match="cannot be an environment entry"):
        services.env.set(session, "LITELLM_WORKER_STARTUP_HOOKS", "os:getcwd", scope="shared")
    # An entry an earlier version stored (it took the name): the start still refuses it.
    with services.db.transaction() as conn:
        services.env._upsert(
            conn, session, "LITELLM_WORKER_STARTUP_HOOKS", "os:getcwd", "shared", None
        )
    with pytest.raises(BridgeError, match="The environment entry LITELLM_WORKER_STARTUP_HOOKS"):
        supervisor.start()
