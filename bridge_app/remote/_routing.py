"""Logical models as LiteLLM router settings: a model group is every ``model_list`` entry
sharing a ``model_name`` (a deployment each, with its own ``model_info.id``); ``order`` is
the priority (1 first), several deployments differing only by key rotate; fallbacks,
retries, timeouts and cooldown live in ``router_settings``. Everything here edits a
ConfigDocument, keeping the comments and order of what it does not touch."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bridge_app.config import ApplyResult, ConfigDocument, env_ref, env_ref_name
from bridge_app.remote._probe import RemoteError

STRATEGIES = ("simple-shuffle", "least-busy", "usage-based-routing-v2", "latency-based-routing")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Deployment:
    id: str
    group: str
    model: str
    api_base: str | None
    key_env: str | None
    order: int | None
    timeout: float | None
    max_retries: int | None
    explicit_id: bool = True  # False: LiteLLM gives it a hash id at start


@dataclass(frozen=True)
class ModelGroup:
    name: str
    deployments: tuple[Deployment, ...]
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouterSettings:
    strategy: str | None
    retries: int | None
    timeout: float | None
    cooldown_s: float | None
    allowed_fails: int | None
    cooldowns_disabled: bool
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _entries(document: ConfigDocument) -> list[Any]:
    models = document.get(("model_list",))
    return list(models) if isinstance(models, list) else []


def _fallbacks(document: ConfigDocument) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for section in ("router_settings", "litellm_settings"):
        items = document.get((section, "fallbacks"))
        for item in items if isinstance(items, list) else []:
            if isinstance(item, Mapping):
                for source, targets in item.items():
                    if isinstance(targets, list):
                        found[str(source)] = tuple(str(t) for t in targets)
    return found


def model_groups(document: ConfigDocument) -> list[ModelGroup]:
    fallbacks = _fallbacks(document)
    groups: dict[str, list[Deployment]] = {}
    for entry in _entries(document):
        if not isinstance(entry, Mapping) or not entry.get("model_name"):
            continue
        name = str(entry["model_name"])
        params = entry.get("litellm_params") or {}
        info = entry.get("model_info") or {}
        members = groups.setdefault(name, [])
        order = params.get("order")
        timeout = params.get("timeout")
        retries = params.get("max_retries")
        members.append(
            Deployment(
                id=str(info.get("id") or f"{name}#{len(members) + 1}"),
                explicit_id=bool(info.get("id")),
                group=name,
                model=str(params.get("model") or ""),
                api_base=str(params["api_base"]) if params.get("api_base") else None,
                key_env=env_ref_name(params.get("api_key")),
                order=int(order) if isinstance(order, int) else None,
                timeout=float(timeout) if isinstance(timeout, int | float) else None,
                max_retries=int(retries) if isinstance(retries, int) else None,
            )
        )
    return [
        ModelGroup(name, tuple(members), fallbacks.get(name, ()))
        for name, members in groups.items()
    ]


def router_settings(document: ConfigDocument) -> RouterSettings:
    def number(key: str) -> Any:
        value = document.get(("router_settings", key))
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    strategy = document.get(("router_settings", "routing_strategy"))
    retries, allowed = number("num_retries"), number("allowed_fails")
    timeout, cooldown = number("timeout"), number("cooldown_time")
    return RouterSettings(
        strategy=str(strategy) if strategy else None,
        retries=int(retries) if retries is not None else None,
        timeout=float(timeout) if timeout is not None else None,
        cooldown_s=float(cooldown) if cooldown is not None else None,
        allowed_fails=int(allowed) if allowed is not None else None,
        cooldowns_disabled=bool(document.get(("router_settings", "disable_cooldowns"))),
        fallbacks=_fallbacks(document),
    )


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise RemoteError(
            f"{value!r} is not a usable deployment id.",
            hint="Use letters, digits, '.', '_' and '-' (up to 64).",
        )
    return value


def _free_id(document: ConfigDocument, group: str) -> str:
    taken = {d.id for g in model_groups(document) for d in g.deployments}
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", group).strip("-.") or "model"
    number = 1
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def add_deployment(
    document: ConfigDocument,
    group: str,
    model: str,
    *,
    api_base: str | None = None,
    key_env: str | None = None,
    order: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    deployment_id: str | None = None,
    extra_params: Mapping[str, Any] | None = None,
) -> str:
    """Append one deployment to ``group`` (created if new); returns its id."""
    group = group.strip()
    if not group:
        raise RemoteError("A logical model needs a name, e.g. smart.")
    if "/" not in model:
        raise RemoteError(
            f"{model!r} does not name a provider.",
            hint="Write provider/model, e.g. openai/gpt-4o-mini or hosted_vllm/internal-chat.",
        )
    if key_env is not None and not _ENV.match(key_env):
        raise RemoteError(f"{key_env!r} is not a valid environment variable name.")
    if order is not None and order < 1:
        raise RemoteError("The priority (order) starts at 1 (tried first).")
    taken = {d.id for g in model_groups(document) for d in g.deployments}
    new_id = _check_id(deployment_id) if deployment_id else _free_id(document, group)
    if new_id in taken:
        raise RemoteError(f"A deployment with the id {new_id!r} already exists.")
    params = CommentedMap(model=model)
    if api_base:
        params["api_base"] = api_base
    if key_env:
        params["api_key"] = env_ref(key_env)
    if order is not None:
        params["order"] = order
    if timeout is not None:
        params["timeout"] = timeout
    if max_retries is not None:
        params["max_retries"] = max_retries
    for key, value in (extra_params or {}).items():
        params[key] = _yaml(value)
    entry = CommentedMap(model_name=group)
    entry["litellm_params"] = params
    entry["model_info"] = CommentedMap(id=new_id)
    models = document.get(("model_list",))
    if not isinstance(models, list):
        document.set(("model_list",), CommentedSeq())
        models = document.get(("model_list",))
    models.append(entry)
    return new_id


def _yaml(value: Any) -> Any:
    if isinstance(value, Mapping):
        return CommentedMap((k, _yaml(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return CommentedSeq(_yaml(v) for v in value)
    return value


def remove_deployment(document: ConfigDocument, deployment_id: str) -> str:
    """Remove one deployment; returns its group. The group's fallbacks go with its last
    deployment, and so do fallbacks to it."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(_entries(document)):
        if not isinstance(entry, Mapping) or not entry.get("model_name"):
            continue
        group = str(entry["model_name"])
        seen[group] = seen.get(group, 0) + 1
        info = entry.get("model_info")
        explicit = str(info.get("id")) if isinstance(info, Mapping) and info.get("id") else None
        if (explicit or f"{group}#{seen[group]}") == deployment_id:
            document.remove(("model_list", index), prune=False)
            if not any(g.name == group for g in model_groups(document)):
                remaining = {
                    source: tuple(t for t in targets if t != group)
                    for source, targets in _fallbacks(document).items()
                    if source != group
                }
                _write_fallbacks(document, {s: t for s, t in remaining.items() if t})
            return group
    raise RemoteError(
        f"There is no deployment with the id {deployment_id!r}.",
        hint="`litellm-bridge models list` shows every deployment's id.",
    )


def _write_fallbacks(document: ConfigDocument, fallbacks: Mapping[str, Sequence[str]]) -> None:
    document.remove(("litellm_settings", "fallbacks"))
    document.set_fallbacks(fallbacks)


def set_fallbacks(document: ConfigDocument, group: str, targets: Sequence[str]) -> None:
    names = {g.name for g in model_groups(document)}
    if group not in names:
        raise RemoteError(f"There is no logical model named {group!r}.")
    for target in targets:
        if target not in names:
            raise RemoteError(
                f"The fallback {target!r} is not a model of this config.",
                hint="Add it first (models add), then name it as a fallback.",
            )
        if target == group:
            raise RemoteError("A model cannot fall back to itself.")
    current = dict(_fallbacks(document))
    if targets:
        current[group] = tuple(targets)
    else:
        current.pop(group, None)
    _write_fallbacks(document, current)


def set_router(
    document: ConfigDocument,
    *,
    strategy: str | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    cooldown_s: float | None = None,
    allowed_fails: int | None = None,
) -> None:
    """Set the given router settings (None leaves one as it is)."""
    if strategy is not None:
        if strategy not in STRATEGIES:
            raise RemoteError(
                f"{strategy!r} is not a routing strategy.", hint=f"Use one of {STRATEGIES}."
            )
        document.set(("router_settings", "routing_strategy"), strategy)
    for key, value, least in (
        ("num_retries", retries, 0),
        ("timeout", timeout, 0.1),
        ("cooldown_time", cooldown_s, 0),
        ("allowed_fails", allowed_fails, 0),
    ):
        if value is None:
            continue
        if value < least:
            raise RemoteError(f"{key} must be at least {least}.")
        document.set(("router_settings", key), value)
    if cooldown_s is not None or allowed_fails is not None:
        # A cooldown that is configured must not stay switched off by a template.
        document.remove(("router_settings", "disable_cooldowns"))


def with_fallback_note(
    result: ApplyResult,
    before: Mapping[str, tuple[str, ...]],
    after: Mapping[str, tuple[str, ...]],
) -> ApplyResult:
    """Say which fallbacks went with a model's last deployment (LiteLLM refuses a fallback
    to a model that does not exist), and how to have them back."""
    gone = [
        f"{source} -> {target}"
        for source, targets in before.items()
        for target in targets
        if target not in after.get(source, ())
    ]
    if not gone:
        return result
    note = (
        f" Fallbacks removed with it: {', '.join(gone)}. Adding the model again does not "
        "bring them back: set them with `litellm-bridge models fallbacks` (or Remote & models)."
    )
    return replace(result, message=result.message + note)
