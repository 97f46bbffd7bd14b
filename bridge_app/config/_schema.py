"""What the validator expects where: LiteLLM's key names (frozen from LiteLLM's own types,
see _litellm_keys.py) plus the few types LiteLLM leaves loose but a person should not."""

from __future__ import annotations

import difflib
from typing import Any

from ruamel.yaml.scalarbool import ScalarBoolean

from bridge_app.config._litellm_keys import KNOWN_KEYS
from bridge_app.config._refs import env_ref_name, looks_like_secret_value

SECTIONS = ("model_list", "litellm_settings", "general_settings", "router_settings")

# LiteLLM types these as unions (float | str | httpx.Timeout ...); in a YAML file a
# person means a number of seconds or a count.
TYPE_OVERRIDES: dict[tuple[str, str], str] = {
    ("litellm_params", "timeout"): "number",
    ("litellm_params", "stream_timeout"): "number",
    ("litellm_params", "max_retries"): "int",
    ("litellm_params", "api_base"): "str",
    ("litellm_settings", "num_retries"): "int",
    ("litellm_settings", "request_timeout"): "number",
    ("litellm_settings", "drop_params"): "bool",
    ("litellm_settings", "fallbacks"): "list",
    ("litellm_settings", "context_window_fallbacks"): "list",
    ("router_settings", "fallbacks"): "list",
    ("general_settings", "master_key"): "str",
    ("top_level", "model_list"): "list",
    ("top_level", "environment_variables"): "dict",
}

TYPE_WORDS = {
    "str": "text",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping (key: value lines)",
}

SECTION_LABELS = {
    "top_level": "the top level",
    "model_entry": "a model_list entry",
    "litellm_params": "litellm_params",
    "model_info": "model_info",
    "general_settings": "general_settings",
    "router_settings": "router_settings",
    "litellm_settings": "litellm_settings",
}


def known_keys(section: str) -> dict[str, str]:
    return KNOWN_KEYS.get(section, {})


def expected_type(section: str, key: str) -> str:
    return TYPE_OVERRIDES.get((section, key), known_keys(section).get(key, ""))


def is_bool(value: Any) -> bool:
    return isinstance(value, (bool, ScalarBoolean))


def type_matches(value: Any, code: str) -> bool:
    if not code or value is None:
        return True  # LiteLLM treats an empty value as "not set"
    if code in ("str", "int", "number", "bool") and env_ref_name(value) is not None:
        return True  # resolved from the environment at start
    if code == "str":
        return isinstance(value, str)
    if code == "int":
        return isinstance(value, int) and not is_bool(value)
    if code == "number":
        return isinstance(value, (int, float)) and not is_bool(value)
    if code == "bool":
        return is_bool(value)
    if code == "list":
        return isinstance(value, list)
    if code == "dict":
        return isinstance(value, dict)
    return True


def describe(value: Any) -> str:
    if is_bool(value):
        return f"the boolean {str(bool(value)).lower()}"
    if isinstance(value, str):
        if looks_like_secret_value(value) or "@" in value:
            return "a text that looks like a credential (not repeated here)"
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "an empty value" if value is None else type(value).__name__


def suggest(name: str, candidates: list[str] | dict[str, str], cutoff: float = 0.8) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None
