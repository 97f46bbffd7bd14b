"""LiteLLM proxy configs: templates, round-trip editing, validation with line numbers,
version history and safe apply (with automatic rollback)."""

from bridge_app.config._apply import (
    ApplyResult,
    ConfigApplyError,
    ConfigInvalidError,
    ProxyRestarter,
)
from bridge_app.config._code import code_problems, module_allowed
from bridge_app.config._document import ConfigDocument, ConfigSyntaxError, ModelSummary
from bridge_app.config._guard import (
    STARTUP_HOOKS_ENV,
    RuntimeConfig,
    check_runtime,
    read_as_litellm,
)
from bridge_app.config._history import ConfigHistory, ConfigVersion
from bridge_app.config._litellm_keys import LITELLM_VERSION
from bridge_app.config._problems import Fix, KeyPath, Problem, Severity, ValidationResult
from bridge_app.config._refs import ENV_PREFIX, env_ref, env_ref_name
from bridge_app.config._service import (
    ACTIVE_CONFIG_NAME,
    ALLOWED_MODULES_SETTING,
    ConfigService,
    read_allowed_modules,
)
from bridge_app.config._templates import Template, TemplateLibrary
from bridge_app.config._validate import KnownEnv, validate_bytes, validate_data, validate_text
from bridge_app.config._yaml import MAX_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES, decode_config_bytes

__all__ = [
    "ACTIVE_CONFIG_NAME",
    "ALLOWED_MODULES_SETTING",
    "ENV_PREFIX",
    "LITELLM_VERSION",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "STARTUP_HOOKS_ENV",
    "ApplyResult",
    "ConfigApplyError",
    "ConfigDocument",
    "ConfigHistory",
    "ConfigInvalidError",
    "ConfigService",
    "ConfigSyntaxError",
    "ConfigVersion",
    "Fix",
    "KeyPath",
    "KnownEnv",
    "ModelSummary",
    "Problem",
    "ProxyRestarter",
    "RuntimeConfig",
    "Severity",
    "Template",
    "TemplateLibrary",
    "ValidationResult",
    "check_runtime",
    "code_problems",
    "decode_config_bytes",
    "env_ref",
    "env_ref_name",
    "module_allowed",
    "read_allowed_modules",
    "read_as_litellm",
    "validate_bytes",
    "validate_data",
    "validate_text",
]
