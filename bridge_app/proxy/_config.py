"""The LiteLLM YAML the proxy starts with: the built-in demo, the active file, pre-checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bridge_app.runtime import AppPaths, BridgeError, atomic_write, resource_path

DEMO_CONFIG = "demo.yaml"
_ENV_REF = re.compile(r"^os\.environ/([A-Za-z_][A-Za-z0-9_]*)$")


class ConfigError(BridgeError):
    pass


def active_config_path(paths: AppPaths) -> Path:
    return paths.active_config_file


def ensure_active_config(paths: AppPaths) -> Path:
    """The active config; on a fresh install, a copy of the shipped demo config."""
    target = active_config_path(paths)
    if target.exists():
        return target
    source = resource_path("configs", DEMO_CONFIG)
    atomic_write(target, source.read_bytes(), mode=0o600, make_parents=True)
    return target


def load_config(path: Path) -> dict[str, Any]:
    """Parse and sanity-check a LiteLLM config; ConfigError says which file and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"The proxy config {path} does not exist.",
            hint="Choose a config in the Config screen, or reinstall to get the demo config.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the proxy config {path}: {exc}.") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"The proxy config {path} is not valid YAML{where}: {problem}.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"The proxy config {path} must be a mapping (key: value) at the top.")
    _check_structure(path, data)
    return data


def _check_structure(path: Path, data: dict[str, Any]) -> None:
    models = data.get("model_list")
    if models is not None and not isinstance(models, list):
        raise ConfigError(f"In {path}: model_list must be a list of models.")
    for index, entry in enumerate(models or [], start=1):
        where = f"In {path}: model_list entry {index}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a mapping with model_name and litellm_params.")
        if not entry.get("model_name"):
            raise ConfigError(f"{where} has no model_name.")
        params = entry.get("litellm_params")
        if not isinstance(params, dict) or not params.get("model"):
            raise ConfigError(
                f"{where} ({entry.get('model_name')}) needs litellm_params with a model."
            )
    for section in ("general_settings", "litellm_settings", "router_settings"):
        value = data.get(section)
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"In {path}: {section} must be a mapping.")


def referenced_env_names(data: Any) -> set[str]:
    """Every NAME in an ``os.environ/NAME`` value anywhere in the config."""
    found: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            match = _ENV_REF.match(item.strip())
            if match:
                found.add(match.group(1))
    return found


def check_environment(path: Path, data: dict[str, Any], environ: dict[str, str]) -> None:
    missing = sorted(n for n in referenced_env_names(data) if not environ.get(n))
    if missing:
        names = ", ".join(missing)
        plural = "variables" if len(missing) > 1 else "variable"
        raise ConfigError(
            f"The proxy config {path} uses the environment {plural} {names}, which is not set.",
            hint="Add it in the Environment screen (or with `litellm-bridge env set`).",
        )
