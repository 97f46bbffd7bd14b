"""Read the key names LiteLLM accepts from LiteLLM itself (its pydantic models, function
signatures and the proxy's config loader). Slow (imports LiteLLM): used only by
scripts/gen_litellm_keys.py and by the test that checks the frozen copy is current."""

from __future__ import annotations

import importlib
import inspect
import re
import types
import typing
from pathlib import Path
from typing import Any

# Accepted by the proxy but not visible in any model or signature LiteLLM exposes.
_EXTRA: dict[str, dict[str, str]] = {
    "top_level": {"include": "list"},
    "litellm_params": {
        "extra_body": "dict",
        "extra_headers": "dict",
        "headers": "dict",
        "input_cost_per_token": "number",
        "output_cost_per_token": "number",
    },
    "model_entry": {},
}


def annotation_code(annotation: Any) -> str:
    """Collapse a type annotation to one of the validator's coarse type codes."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        codes = {annotation_code(a) for a in args}
        if len(codes) == 1:
            return codes.pop()
        if codes <= {"int", "number"}:
            return "number"
        return ""
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return "str" if all(isinstance(v, str) for v in values) else ""
    target = origin or annotation
    if target is bool:
        return "bool"
    if target is int:
        return "int"
    if target is float:
        return "number"
    if target is str:
        return "str"
    if isinstance(target, type) and issubclass(target, (list, tuple, set)):
        return "list"
    if isinstance(target, type) and issubclass(target, dict):
        return "dict"
    if target in (typing.List, typing.Dict):  # noqa: UP006
        return "list" if target is typing.List else "dict"  # noqa: UP006
    return ""


def _model_fields(module: str, name: str) -> dict[str, str]:
    cls = getattr(importlib.import_module(module), name)
    return {field: annotation_code(info.annotation) for field, info in cls.model_fields.items()}


def _signature(func: Any) -> dict[str, str]:
    hints: dict[str, Any]
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # forward references LiteLLM never resolves
        hints = {}
    return {
        name: annotation_code(hints.get(name, Any))
        for name, p in inspect.signature(func).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def _model_info_fields() -> dict[str, str]:
    """Deployment model_info: the router's ModelInfo plus the cost-map fields (mode,
    max_tokens, supports_*) LiteLLM reads from it."""
    fields = _model_fields("litellm.types.router", "ModelInfo")
    base = importlib.import_module("litellm.types.utils").ModelInfoBase
    for name, hint in typing.get_type_hints(base).items():
        fields.setdefault(name, annotation_code(hint))
    return fields


def _value_code(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple, set)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return ""


def _module_settings(litellm: Any) -> dict[str, str]:
    """litellm_settings: the proxy does setattr(litellm, key, value) for every key."""
    settings: dict[str, str] = {}
    for name in dir(litellm):
        if name.startswith("_") or not name.islower():
            continue
        value = getattr(litellm, name)
        if value is None or isinstance(value, (bool, int, float, str, list, tuple, set, dict)):
            settings[name] = _value_code(value)
    return settings


def _quoted_names(source: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, source))


def collect_sections() -> dict[str, dict[str, str]]:
    import litellm
    import litellm.proxy._types

    proxy_source = Path(inspect.getfile(importlib.import_module("litellm.proxy.proxy_server")))
    source = proxy_source.read_text(encoding="utf-8")

    top = _model_fields("litellm.proxy._types", "ConfigYAML")
    for name in _quoted_names(source, r'\bconfig\.get\(\s*"([a-z_]+)"'):
        top.setdefault(name, "")
    top.update(_EXTRA["top_level"])
    for section in ("model_list", "litellm_settings", "general_settings", "router_settings"):
        top[section] = "list" if section == "model_list" else "dict"
    top["environment_variables"] = "dict"

    params = _model_fields("litellm.types.router", "LiteLLM_Params")
    for name, code in _signature(litellm.completion).items():
        params.setdefault(name, code)
    for name in getattr(litellm, "OPENAI_CHAT_COMPLETION_PARAMS", ()):
        params.setdefault(name, "")
    params.update(_EXTRA["litellm_params"])
    params.pop("messages", None)

    general = _model_fields("litellm.proxy._types", "ConfigGeneralSettings")
    proxy_dir = proxy_source.parent
    for path in proxy_dir.rglob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in _quoted_names(text, r'general_settings\.get\(\s*"([a-z_]+)"'):
            general.setdefault(name, "")

    router = _model_fields("litellm.types.router", "UpdateRouterConfig")
    router_cls = importlib.import_module("litellm.router").Router
    for name, code in _signature(router_cls.__init__).items():
        router.setdefault(name, code)
    router.pop("model_list", None)

    module_settings = _module_settings(litellm)
    for name in _quoted_names(source, r'\bkey == "([a-z_]+)"'):
        module_settings[name] = ""  # handled specially by the proxy: any shape it accepts

    entry = _model_fields("litellm.types.router", "Deployment")
    entry["model_info"] = "dict"
    entry["litellm_params"] = "dict"

    return {
        "top_level": top,
        "model_entry": entry,
        "litellm_params": params,
        "model_info": _model_info_fields(),
        "general_settings": general,
        "router_settings": router,
        "litellm_settings": module_settings,
    }
