"""The LiteLLM YAML the proxy starts with: the built-in demo, the active file, pre-checks."""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bridge_app.config import RuntimeConfig, check_runtime, read_as_litellm
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
    check_structure(path, data)
    return data


def refuse_unsafe(path: Path, runtime: RuntimeConfig) -> None:
    """ConfigError naming the first reason (``bridge_app.config.check_runtime``) that
    LiteLLM must not run this config, its includes or this environment."""
    errors = [p for p in runtime.problems if p.severity == "error"]
    if not errors:
        return
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    where = first.location()
    detail = f"{where}: {first.message}" if where else first.message
    raise ConfigError(
        f"The proxy was not started with the config {path}: {detail}{more}",
        hint=first.hint or "Fix it in the Config screen or with `litellm-bridge config validate`.",
    )


def run_copy_path(path: Path, folder: Path | None = None) -> Path:
    """The file LiteLLM is given instead of ``path``: ``path`` with its includes merged,
    exactly as checked. By default beside it, so modules an admin allowed next to the
    config are still found there (LiteLLM looks beside the file it reads)."""
    return (folder or path.parent) / f".{path.stem}.running.yaml"


def write_run_copy(path: Path, data: dict[str, Any], folder: Path | None = None) -> Path:
    """Write what LiteLLM runs. ASCII only (other characters escaped), so that LiteLLM,
    which opens the file in the locale's encoding (cp1252 on many Windows machines),
    reads exactly these values."""
    target = run_copy_path(path, folder)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
    header = (
        f"# Written by LiteLLM Bridge at every proxy start: {path.name} with its includes\n"
        "# merged, as checked. Edit the config, not this file.\n"
    )
    atomic_write(target, (header + text).encode("ascii"), mode=0o600)
    return target


def check_structure(path: Path, data: dict[str, Any]) -> None:
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


@functools.cache
def private_run_dir() -> Path:
    """A private folder for the run copy of a config given directly (a shipped template,
    read-only in an installed bundle), removed at exit."""
    folder = tempfile.mkdtemp(prefix="litellm-bridge-run-")  # owner-only
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return Path(folder)


def prepare_run_config(
    path: Path,
    *,
    entries: dict[str, str],
    environment: dict[str, str],
    allowed_modules: Iterable[str],
    run_dir: Path | None,
) -> tuple[dict[str, Any], Path]:
    """What LiteLLM will run at this start: the config at ``path`` with its includes merged
    and the environment (``entries`` the app adds; ``environment`` all LiteLLM will see),
    checked (ConfigError says why not), then written where LiteLLM reads it: it gets the
    merged copy it was checked as, never a file to read includes from."""
    runtime = check_runtime(
        load_config(path),
        location=path,
        read=read_as_litellm,
        allowed_modules=allowed_modules,
        entries=entries,
        environment=environment,
    )
    refuse_unsafe(path, runtime)
    data = runtime.data
    check_structure(path, data)
    check_environment(path, data, environment)
    return data, write_run_copy(path, data, run_dir or private_run_dir())
