"""Configs cannot make LiteLLM run code unless an admin allowed the module: YAML tags and
every config value LiteLLM imports (callbacks, handlers, hooks, guardrail modules) are
refused by validation with their line and column."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge_app.config import ConfigService, validate_text
from bridge_app.runtime import AppPaths
from bridge_app.services import Services, build_services

BASE = """\
model_list:
  - model_name: chat
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""


def _located(text: str, code: str) -> list[tuple[int, int]]:
    return [(p.line, p.column) for p in validate_text(text).errors if p.code == code]


@pytest.mark.parametrize(
    ("snippet", "line", "column"),
    [
        ("extra: !!python/object/apply:os.system ['id']\n", 8, 8),
        ("extra: !!python/name:os.system ''\n", 8, 8),
        ("extra:\n  value: !Custom {a: 1}\n", 9, 10),
        ("extra: !!str plain\n", 8, 8),
    ],
)
def test_every_yaml_tag_is_refused_where_it_is(snippet: str, line: int, column: int) -> None:
    result = validate_text(BASE + snippet)
    assert not result.ok
    assert _located(BASE + snippet, "yaml-tag") == [(line, column)], result.report()
    assert "is not allowed" in result.report()
    assert f"line {line}, column {column}" in result.report()


# (extra config, the value refused, its line, its column)
CODE_RUNNING = [
    ("litellm_settings:\n  callbacks: os.system\n", "os.system", 9, 14),
    ("litellm_settings:\n  callbacks:\n    - langfuse\n    - os.system\n", "os.system", 11, 7),
    ("litellm_settings:\n  callbacks: [my_handler]\n", "my_handler", 9, 15),
    (
        "litellm_settings:\n  success_callback: [langfuse, evil.hooks.log]\n",
        "evil.hooks.log",
        9,
        32,
    ),
    ("litellm_settings:\n  failure_callback: [evil.hooks.log]\n", "evil.hooks.log", 9, 22),
    ("litellm_settings:\n  audit_log_callbacks: [evil.hooks.log]\n", "evil.hooks.log", 9, 25),
    ("litellm_settings:\n  post_call_rules: rules.check\n", "rules.check", 9, 20),
    (
        "litellm_settings:\n  custom_provider_map:\n    - provider: mine\n"
        "      custom_handler: mypkg.handler\n",
        "mypkg.handler",
        11,
        23,
    ),
    (
        "litellm_settings:\n  guardrails:\n    - prompt_injection:\n"
        "        callbacks: [lakera_prompt_injection, evil.guard]\n",
        "evil.guard",
        11,
        46,
    ),
    ("  custom_auth: mypkg.auth.check\n", "mypkg.auth.check", 8, 16),
    ("  custom_key_generate: mypkg.keys.make\n", "mypkg.keys.make", 8, 24),
    ("  custom_sso: mypkg.sso.handler\n", "mypkg.sso.handler", 8, 15),
    (
        "  litellm_jwtauth:\n    custom_validate: mypkg.jwt.ok\n",
        "mypkg.jwt.ok",
        9,
        22,
    ),
    (
        "  pass_through_endpoints:\n    - path: /x\n      target: adapters.mine\n",
        "adapters.mine",
        10,
        15,
    ),
    (
        "guardrails:\n  - guardrail_name: g\n    litellm_params:\n"
        "      guardrail: mypkg.guards.Guard\n      mode: pre_call\n",
        "mypkg.guards.Guard",
        11,
        18,
    ),
    (
        "guardrails:\n  - guardrail_name: g\n    litellm_params:\n"
        "      guardrail: custom_code\n      mode: pre_call\n",
        "custom_code",
        11,
        18,
    ),
    ("router_settings:\n  plugins: [mypkg.route.Plugin]\n", "mypkg.route.Plugin", 9, 13),
    (
        "mcp_tools:\n  - name: t\n    description: d\n    handler: mypkg.tools.run\n",
        "mypkg.tools.run",
        11,
        14,
    ),
]


@pytest.mark.parametrize(("extra", "value", "line", "column"), CODE_RUNNING)
def test_code_running_values_are_refused_with_line_and_column(
    extra: str, value: str, line: int, column: int
) -> None:
    text = BASE + extra
    result = validate_text(text)
    hits = [p for p in result.errors if p.code == "code-not-allowed"]
    assert [(p.line, p.column) for p in hits] == [(line, column)], result.report()
    assert value in hits[0].message
    assert "config.allowed_modules" in (hits[0].hint or "")
    assert text.splitlines()[line - 1][column - 1 :].lstrip("[").startswith(value)


def test_litellm_built_in_integrations_are_accepted() -> None:
    text = BASE + (
        "litellm_settings:\n"
        "  callbacks: [langfuse, prometheus, presidio, detect_prompt_injection]\n"
        "  success_callback: [langfuse, datadog, s3]\n"
        "  failure_callback: [sentry]\n"
        "guardrails:\n"
        "  - guardrail_name: pii\n"
        "    litellm_params:\n"
        "      guardrail: presidio\n"
        "      mode: pre_call\n"
    )
    result = validate_text(text)
    assert not [p for p in result.problems if p.code == "code-not-allowed"], result.report()


def test_a_pass_through_url_is_not_code() -> None:
    text = (
        BASE + "  pass_through_endpoints:\n    - path: /x\n      target: https://example.com/v1\n"
    )
    assert not [p for p in validate_text(text).problems if p.code == "code-not-allowed"]


def test_an_allowed_module_and_its_attributes_are_accepted() -> None:
    text = BASE + (
        "  custom_auth: corp.auth.check\n"
        "litellm_settings:\n"
        "  callbacks: [corp.hooks.logger, corp.hookshot.x]\n"
    )
    result = validate_text(text, allowed_modules=["corp.hooks", "corp.auth.check"])
    refused = [p for p in result.errors if p.code == "code-not-allowed"]
    # corp.hookshot is not inside corp.hooks: a prefix of the text is not a module prefix.
    assert [p.message for p in refused] == [
        "litellm_settings.callbacks[2]: 'corp.hookshot.x' names Python code that LiteLLM "
        "would import and run as a callback; configs may only run code an admin allowed."
    ]


@pytest.fixture
def services(app_paths: AppPaths) -> Iterator[Services]:
    built = build_services(app_paths)
    yield built
    built.close()


def test_the_service_honours_the_admin_setting(services: Services) -> None:
    config: ConfigService = services.config
    text = BASE.replace(
        "general_settings:\n", "general_settings:\n  custom_auth: corp.auth.check\n"
    )
    assert config.allowed_modules() == ()
    assert not config.validate(text).ok

    services.settings.set("config.allowed_modules", ["corp.auth", " corp.auth ", "not a name", 3])
    assert config.allowed_modules() == ("corp.auth",)
    assert not [p for p in config.validate(text).errors if p.code == "code-not-allowed"]

    services.settings.set("config.allowed_modules", [])
    assert not config.validate(text).ok


def test_the_built_in_names_match_the_installed_litellm() -> None:
    """The allow-list is copied from LiteLLM's source (importing LiteLLM to validate would
    take seconds); a LiteLLM upgrade that adds or drops integrations must update it."""
    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm
    from litellm.types.guardrails import SupportedGuardrailIntegrations

    from bridge_app.config._code import BUILTIN_CALLBACKS, BUILTIN_GUARDRAILS

    assert set(litellm._known_custom_logger_compatible_callbacks) <= BUILTIN_CALLBACKS
    shipped = {g.value for g in SupportedGuardrailIntegrations}
    assert shipped - {"custom_code"} == BUILTIN_GUARDRAILS
