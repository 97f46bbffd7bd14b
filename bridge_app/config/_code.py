"""Config values that make LiteLLM import and run Python code.

LiteLLM (1.109.3, as 1.106.2) resolves these through ``get_instance_fn``
(``importlib.import_module``, or a ``<module>.py`` next to the config file, or an
``s3://``/``gcs://`` download) while it loads the config, so a config that names a module
runs it with the app's rights. Names LiteLLM maps to its own integrations ("langfuse",
"prometheus", "presidio", ...) are allowed; anything else only when an admin put it on the
allow-list (setting ``config.allowed_modules``). The key list was taken from LiteLLM's proxy
source: every caller of ``get_instance_fn`` during config load
(``proxy_server.load_config``, ``callback_utils.initialize_callbacks_on_proxy``,
``guardrail_registry``, ``mcp_server/tool_registry.load_tools_from_config``,
``create_pass_through_route``, ``LiteLLM_JWTAuth.custom_validate``, routing plugins)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bridge_app.config._checks import position
from bridge_app.config._problems import KeyPath, Problem


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: ``litellm._known_custom_logger_compatible_callbacks`` (LiteLLM 1.109.3)
_CUSTOM_LOGGER_CALLBACKS = _words(
    "lago openmeter logfire literalai litellm_agent dynamic_rate_limiter "
    "dynamic_rate_limiter_v3 langsmith prometheus otel datadog datadog_metrics "
    "datadog_llm_observability galileo braintrust arize arize_phoenix langtrace gcs_bucket "
    "azure_storage opik argilla mlflow langfuse langfuse_otel weave_otel pagerduty humanloop "
    "azure_sentinel gcs_pubsub agentops anthropic_cache_control_hook generic_api "
    "resend_email sendgrid_email smtp_email deepeval s3_v2 clickhouse pointfive zerobus "
    "aws_sqs vector_store_pre_call_hook dotprompt bitbucket gitlab cloudzero focus mavvrik "
    "vantage posthog levo compression_interception newrelic signoz ternary"
)

#: names ``initialize_callbacks_on_proxy`` handles itself besides the ones above
_PROXY_HOOK_CALLBACKS = _words(
    "presidio llamaguard_moderations hide_secrets openai_moderations lakera_prompt_injection "
    "aporia_prompt_injection google_text_moderation llmguard_moderations blocked_user_check "
    "banned_keywords detect_prompt_injection batch_redis_requests azure_content_safety "
    "websearch_interception datadog_cost_management code_interpreter_interception"
)

#: names ``Logging.set_callbacks`` maps for success_callback / failure_callback
_LOGGING_CALLBACKS = _words(
    "athina datadog dynamodb greenscale helicone langfuse logfire lunary openmeter "
    "promptlayer s3 sentry slack supabase traceloop wandb"
)

#: ``SupportedGuardrailIntegrations`` without ``custom_code`` (it execs Python from the
#: config, so it is code an admin has to allow like any module)
_GUARDRAILS = _words(
    "agent_365 aim airia akto alice aporia azure/prompt_shield azure/text_moderations bedrock "
    "block_code_execution cato_networks cisco_ai_defense compresr conduct crowdstrike_aidr "
    "decision_model deepkeep dynamoai enkryptai generic_guardrail_api grayswan guardrails_ai "
    "headroom hiddenlayer hide-secrets ibm_guardrails javelin lakera lakera_v2 lasso "
    "litellm_content_filter llm_as_a_judge llm_shield_proxy mcp_end_user_permission "
    "mcp_jwt_signer mcp_security microsoft_purview model_armor noma noma_v2 onyx "
    "openai_moderation ovalix pangea panw_prisma_airs pillar presidio prompt_security "
    "promptguard qostodian_nexus qualifire reco repelloai rubrik semantic_guard singulr straiker "
    "tool_permission typesafe vigil_guard wingback xecguard zscaler_ai_guard"
)

BUILTIN_CALLBACKS = _CUSTOM_LOGGER_CALLBACKS | _PROXY_HOOK_CALLBACKS
BUILTIN_LOGGING_CALLBACKS = _CUSTOM_LOGGER_CALLBACKS | _LOGGING_CALLBACKS
BUILTIN_GUARDRAILS = _GUARDRAILS

_EXAMPLES = {
    BUILTIN_CALLBACKS: "langfuse, prometheus, presidio",
    BUILTIN_LOGGING_CALLBACKS: "langfuse, prometheus, datadog",
    BUILTIN_GUARDRAILS: "presidio, lakera_v2, openai_moderation",
}

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def is_module_name(value: str) -> bool:
    """A dotted Python name an admin may put on the allow-list."""
    return bool(_DOTTED.match(value))


def module_allowed(value: str, allowed: Iterable[str]) -> bool:
    """``value`` is an allowed name, or an attribute of an allowed module."""
    return any(value == name or value.startswith(name + ".") for name in allowed)


@dataclass(frozen=True)
class _Slot:
    """Where a code reference sits: its key path (``*`` = every list item or mapping
    value) and which built-in names are fine there (None: every value is code)."""

    path: tuple[str, ...]
    builtins: frozenset[str] | None
    what: str


_GENERAL_HOOKS = (
    "custom_auth",
    "custom_key_generate",
    "custom_key_update",
    "custom_key_policy",
    "custom_team_metadata_validate",
    "custom_sso",
    "custom_ui_sso_sign_in_handler",
)

_SLOTS: tuple[_Slot, ...] = (
    _Slot(("litellm_settings", "callbacks", "*"), BUILTIN_CALLBACKS, "a callback"),
    # A single callback given as text (not a list) is always imported.
    _Slot(("litellm_settings", "callbacks"), None, "a callback"),
    _Slot(("litellm_settings", "success_callback", "*"), BUILTIN_LOGGING_CALLBACKS, "a callback"),
    _Slot(("litellm_settings", "failure_callback", "*"), BUILTIN_LOGGING_CALLBACKS, "a callback"),
    _Slot(
        ("litellm_settings", "audit_log_callbacks", "*"), BUILTIN_LOGGING_CALLBACKS, "a callback"
    ),
    _Slot(("litellm_settings", "post_call_rules"), None, "a post-call rule"),
    _Slot(("litellm_settings", "post_call_rules", "*"), None, "a post-call rule"),
    _Slot(
        ("litellm_settings", "custom_provider_map", "*", "custom_handler"),
        None,
        "a custom provider handler",
    ),
    _Slot(
        ("litellm_settings", "guardrails", "*", "*", "callbacks", "*"),
        BUILTIN_CALLBACKS,
        "a guardrail callback",
    ),
    *(_Slot(("general_settings", key), None, f"the {key} hook") for key in _GENERAL_HOOKS),
    _Slot(
        ("general_settings", "litellm_jwtauth", "custom_validate"),
        None,
        "a JWT validation hook",
    ),
    _Slot(
        ("general_settings", "pass_through_endpoints", "*", "target"),
        None,
        "a pass-through adapter",
    ),
    _Slot(("guardrails", "*", "litellm_params", "guardrail"), BUILTIN_GUARDRAILS, "a guardrail"),
    _Slot(("router_settings", "plugins", "*"), None, "a routing plugin"),
    _Slot(
        ("model_list", "*", "litellm_params", "complexity_router_config", "plugins", "*"),
        None,
        "a routing plugin",
    ),
    _Slot(
        ("model_list", "*", "litellm_params", "complexity_router_config", "classifier_plugin"),
        None,
        "a classifier plugin",
    ),
    _Slot(("mcp_tools", "*", "handler"), None, "an MCP tool handler"),
)


def _is_url(slot: _Slot, value: str) -> bool:
    # A pass-through target that is a URL is forwarded to, not imported.
    return slot.path[-1] == "target" and value.startswith(("http://", "https://"))


def code_problems(data: Any, allowed: Iterable[str]) -> list[Problem]:
    """Every value of ``data`` (a round-trip document) that LiteLLM would import as code
    and that is neither one of its built-in names nor on ``allowed``."""
    allowed_names = tuple(allowed)
    problems: list[Problem] = []
    for slot in _SLOTS:
        for container, key, value, path in _matches(data, slot.path):
            if value is None:
                continue
            if not isinstance(value, str):
                if isinstance(value, dict | list) and slot.path[-1] != "*":
                    continue  # a list slot ("post_call_rules") is checked item by item
                problems.append(
                    _problem(
                        container,
                        key,
                        path,
                        f"{_label(path)} must name {slot.what} as text, but it is "
                        f"{type(value).__name__}.",
                        code="code-reference",
                    )
                )
                continue
            name = value.strip()
            if slot.builtins is not None and name in slot.builtins:
                continue
            if _is_url(slot, name) or module_allowed(name, allowed_names):
                continue
            problems.append(_refusal(container, key, path, slot, name))
    return problems


def _refusal(container: Any, key: Any, path: KeyPath, slot: _Slot, name: str) -> Problem:
    label = _label(path)
    if slot.builtins is BUILTIN_GUARDRAILS and name == "custom_code":
        message = (
            f"{label}: the custom_code guardrail runs Python code written in the config; "
            "configs may only run code an admin allowed."
        )
    elif slot.builtins is not None and "." not in name:
        message = f"{label}: {name!r} is not one of LiteLLM's built-in integrations" + (
            "."
            if slot.builtins is BUILTIN_GUARDRAILS
            else ", so LiteLLM would try to import it as Python code."
        )
    else:
        message = (
            f"{label}: {name!r} names Python code that LiteLLM would import and run as "
            f"{slot.what}; configs may only run code an admin allowed."
        )
    allow = "an admin can allow a module with the setting config.allowed_modules"
    hint = (
        f"Use one of LiteLLM's built-in names (e.g. {_EXAMPLES[slot.builtins]}); {allow}."
        if slot.builtins is not None
        else f"Remove it; {allow}."
    )
    return _problem(container, key, path, message, code="code-not-allowed", hint=hint)


def _problem(
    container: Any, key: Any, path: KeyPath, message: str, *, code: str, hint: str | None = None
) -> Problem:
    at_value = not isinstance(container, list)
    line, column = position(container, key, value=at_value)
    return Problem("error", code, message, line, column, path, hint)


def _label(path: KeyPath) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part + 1}]")
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts)


def _matches(node: Any, pattern: tuple[str, ...]) -> Iterable[tuple[Any, Any, Any, KeyPath]]:
    """(container, key, value, path) for every place ``pattern`` reaches in ``node``."""
    stack: list[tuple[Any, tuple[str, ...], KeyPath]] = [(node, pattern, ())]
    while stack:
        current, rest, path = stack.pop()
        head, tail = rest[0], rest[1:]
        children: list[tuple[Any, Any]]
        if head == "*":
            if isinstance(current, dict):
                children = [(k, v) for k, v in current.items() if isinstance(k, str)]
            elif isinstance(current, list):
                children = list(enumerate(current))
            else:
                children = []
        elif isinstance(current, dict) and head in current:
            children = [(head, current[head])]
        else:
            children = []
        for key, value in reversed(children):
            child_path: KeyPath = (*path, key)
            if not tail:
                yield current, key, value, child_path
            else:
                stack.append((value, tail, child_path))
