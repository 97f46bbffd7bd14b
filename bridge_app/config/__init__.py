"""LiteLLM proxy configs: templates, round-trip editing, validation with line numbers,
version history and safe apply (with automatic rollback)."""

from bridge_app.config._apply import (
    ApplyResult,
    ConfigApplyError,
    ConfigInvalidError,
    ProxyRestarter,
)
from bridge_app.config._document import ConfigDocument, ConfigSyntaxError, ModelSummary
from bridge_app.config._history import ConfigHistory, ConfigVersion
from bridge_app.config._problems import Fix, KeyPath, Problem, Severity, ValidationResult
from bridge_app.config._refs import (
    ENV_PREFIX,
    PLACEHOLDER_FIELDS,
    env_ref,
    env_ref_name,
    is_valid_placeholder,
    resolve_placeholders,
)
from bridge_app.config._service import ACTIVE_CONFIG_NAME, ConfigService
from bridge_app.config._templates import Template, TemplateLibrary
from bridge_app.config._validate import KnownEnv, validate_bytes, validate_data, validate_text
from bridge_app.config._yaml import MAX_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES

__all__ = [
    "ACTIVE_CONFIG_NAME",
    "ENV_PREFIX",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "PLACEHOLDER_FIELDS",
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
    "Severity",
    "Template",
    "TemplateLibrary",
    "ValidationResult",
    "env_ref",
    "env_ref_name",
    "is_valid_placeholder",
    "resolve_placeholders",
    "validate_bytes",
    "validate_data",
    "validate_text",
]
