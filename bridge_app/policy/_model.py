"""The policy document: its vocabulary, and validation with line and column for each problem
(reported like `config validate`)."""

from __future__ import annotations

import fnmatch
import io
from dataclasses import dataclass, field
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from bridge_app.clients import TOOLS
from bridge_app.config import Problem, ValidationResult
from bridge_app.fleet import DestinationError, parse_destination, parse_webhook

ConfigLock = Literal["off", "admin_only", "locked"]
LOCKS: tuple[ConfigLock, ...] = ("off", "admin_only", "locked")
MAX_POLICY_BYTES = 256 * 1024

#: limit name -> (what a person reads, window in seconds; 0 = the calendar month)
LIMIT_KINDS: dict[str, tuple[str, int]] = {
    "requests_per_minute": ("requests per minute", 60),
    "tokens_per_minute": ("tokens per minute", 60),
    "requests_per_day": ("requests per day", 86_400),
    "tokens_per_day": ("tokens per day", 86_400),
    "budget_usd_per_month": ("USD per month", 0),
}


#: requests in flight at once (not a rate): the 4th of 3 gets 429 with Retry-After: 1
CONCURRENT = "concurrent_requests"


@dataclass(frozen=True)
class Limits:
    values: dict[str, float] = field(default_factory=dict)  # the rates (LIMIT_KINDS)
    concurrent: int | None = None  # concurrent_requests

    def __bool__(self) -> bool:  # rates to count; ``concurrent`` is checked at the gate
        return bool(self.values)


@dataclass(frozen=True)
class Policy:
    models_allow: tuple[str, ...] | None = None  # None: every model
    role_models_allow: dict[str, tuple[str, ...]] = field(default_factory=dict)
    per_user: Limits = field(default_factory=Limits)
    per_tool: dict[str, Limits] = field(default_factory=dict)
    per_machine: Limits = field(default_factory=Limits)  # limits.machine: every request here
    shared: str | None = None  # redis://... for counters shared by many machines
    config_lock: ConfigLock = "off"
    allow_non_loopback: bool = True
    allowed_upstream_hosts: tuple[str, ...] | None = None
    idle_lock_minutes: float | None = None
    kiosk: bool | None = None
    start_at_login: bool | None = None  # None: each person decides
    usage_retention_days: int = 90
    updates_disabled: bool = False  # updates: {enabled: false}
    updates_pin: str | None = None  # updates: {pin_version: "0.2.0"}: only this version
    audit_forward: tuple[str, ...] | None = None  # audit: {forward: [URL, ...]}; None: unset
    alerts_webhook: str | None = None  # alerts: {webhook: URL}

    def model_allowed(self, model: str, role: str) -> bool:
        for patterns in (self.models_allow, self.role_models_allow.get(role)):
            if patterns is not None and not any(fnmatch.fnmatchcase(model, p) for p in patterns):
                return False
        return True

    @property
    def has_limits(self) -> bool:
        return bool(self.per_user) or bool(self.per_machine) or any(self.per_tool.values())

    @property
    def has_concurrency(self) -> bool:
        groups = [self.per_user, self.per_machine, *self.per_tool.values()]
        return any(limits.concurrent for limits in groups)


NO_POLICY = Policy()

_TOP = {
    "models",
    "roles",
    "limits",
    "config_lock",
    "network",
    "ui",
    "usage_retention_days",
    "updates",
    "audit",
    "alerts",
}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, message: str, node: Any, key: Any = None, hint: str | None = None) -> None:
        line = column = 0
        lc = getattr(node, "lc", None)
        if lc is not None:
            try:
                if key is not None and isinstance(node, dict) and key in node:
                    line, column = lc.key(key)
                elif key is not None and isinstance(node, list):
                    line, column = lc.item(key)
                else:
                    line, column = lc.line, lc.col
                line, column = line + 1, column + 1
            except (KeyError, IndexError, TypeError):
                line, column = lc.line + 1, lc.col + 1
        self.problems.append(Problem("error", "policy", message, line, column, hint=hint))

    def mapping(self, node: Any, key: str, where: str, allowed: set[str]) -> dict[Any, Any]:
        value = node.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(f"{where} must be a mapping.", node, key)
            return {}
        for k in value:
            if k not in allowed:
                self.add(
                    f"Unknown key {k!r} in {where}.",
                    value,
                    k,
                    hint="Known keys: " + ", ".join(sorted(allowed)),
                )
        return value  # keeps its line and column information

    def patterns(self, node: Any, key: str, where: str) -> tuple[str, ...] | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add(f"{where} must be a list of model name patterns.", node, key)
            return None
        return tuple(value)

    def limits(self, node: Any, where: str) -> Limits:
        if not isinstance(node, dict):
            self.add(f"{where} must be a mapping of limits.", node)
            return Limits()
        out: dict[str, float] = {}
        concurrent: int | None = None
        for k, v in node.items():
            if k == CONCURRENT:
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    self.add(
                        f"{where}.{k} must be a whole number of requests (at least 1).", node, k
                    )
                else:
                    concurrent = v
            elif k not in LIMIT_KINDS:
                self.add(
                    f"Unknown limit {k!r} in {where}.",
                    node,
                    k,
                    hint="Known limits: " + ", ".join([*LIMIT_KINDS, CONCURRENT]),
                )
            elif isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                self.add(f"{where}.{k} must be a positive number, not {v!r}.", node, k)
            else:
                out[str(k)] = float(v)
        return Limits(out, concurrent)


def parse_policy(text: str) -> tuple[Policy | None, ValidationResult]:
    """Read a policy; on any error returns (None, the problems with their positions)."""
    checker = _Checker()
    if len(text.encode("utf-8", errors="replace")) > MAX_POLICY_BYTES:
        checker.problems.append(Problem("error", "too-large", "The policy is larger than 256 KB."))
        return None, ValidationResult(tuple(checker.problems))
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        reason = exc.problem or exc.context or "invalid YAML"
        checker.problems.append(Problem("error", "syntax", f"YAML syntax: {reason}.", line, column))
        return None, ValidationResult(tuple(checker.problems))
    except YAMLError as exc:
        checker.problems.append(Problem("error", "syntax", f"The YAML cannot be read: {exc}."))
        return None, ValidationResult(tuple(checker.problems))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        checker.problems.append(
            Problem(
                "error", "wrong-type", "A policy must be a mapping (models:, limits: ...).", 1, 1
            )
        )
        return None, ValidationResult(tuple(checker.problems))
    for key in data:
        if key not in _TOP:
            checker.add(
                f"Unknown key {key!r}.", data, key, hint="Known keys: " + ", ".join(sorted(_TOP))
            )
    models = checker.mapping(data, "models", "models", {"allow"})
    allow = checker.patterns(models, "allow", "models.allow") if models else None
    role_allow: dict[str, tuple[str, ...]] = {}
    roles = checker.mapping(data, "roles", "roles", {"user", "admin"})
    for role, body in roles.items():
        if not isinstance(body, dict):
            checker.add(f"roles.{role} must be a mapping.", data["roles"], role)
            continue
        block = checker.mapping(body, "models", f"roles.{role}.models", {"allow"})
        for k in body:
            if k != "models":
                checker.add(f"Unknown key {k!r} in roles.{role}.", body, k)
        patterns = checker.patterns(block, "allow", f"roles.{role}.models.allow") if block else None
        if patterns is not None:
            role_allow[str(role)] = patterns
    limits = checker.mapping(
        data, "limits", "limits", {"per_user", "per_tool", "shared", "machine"}
    )
    per_user = (
        checker.limits(limits["per_user"], "limits.per_user") if "per_user" in limits else Limits()
    )
    per_machine = (
        checker.limits(limits["machine"], "limits.machine") if "machine" in limits else Limits()
    )
    per_tool: dict[str, Limits] = {}
    tools = limits.get("per_tool")
    if tools is not None:
        if not isinstance(tools, dict):
            checker.add(
                "limits.per_tool must map tool names to limits.", data["limits"], "per_tool"
            )
        else:
            known = [spec.id for spec in TOOLS]
            for tool, body in tools.items():
                if str(tool) not in known:
                    # A name no request is ever counted under would limit nothing.
                    checker.add(
                        f"Unknown tool {tool!r} in limits.per_tool: a limit on it would "
                        "never apply.",
                        tools,
                        tool,
                        hint="Tool names: " + ", ".join(known),
                    )
                    continue
                per_tool[str(tool)] = checker.limits(body, f"limits.per_tool.{tool}")
    shared = limits.get("shared")
    if shared is not None and (
        not isinstance(shared, str) or not shared.startswith(("redis://", "rediss://"))
    ):
        checker.add(
            "limits.shared must be a redis:// or rediss:// URL.",
            data["limits"],
            "shared",
            hint="For example redis://127.0.0.1:6379/0",
        )
        shared = None
    lock = data.get("config_lock", "off")
    if lock is False:  # YAML 1.1 readers turn a bare `off` into false
        lock = "off"
    if lock not in LOCKS:
        checker.add(
            f"config_lock must be one of {', '.join(LOCKS)}, not {lock!r}.", data, "config_lock"
        )
        lock = "off"
    network = checker.mapping(
        data, "network", "network", {"allow_non_loopback", "allowed_upstream_hosts"}
    )
    non_loopback = network.get("allow_non_loopback", True)
    if not isinstance(non_loopback, bool):
        checker.add(
            "network.allow_non_loopback must be true or false.",
            data["network"],
            "allow_non_loopback",
        )
        non_loopback = True
    hosts = (
        checker.patterns(network, "allowed_upstream_hosts", "network.allowed_upstream_hosts")
        if network
        else None
    )
    ui = checker.mapping(data, "ui", "ui", {"idle_lock_minutes", "kiosk", "start_at_login"})
    idle = ui.get("idle_lock_minutes")
    if idle is not None and (
        isinstance(idle, bool) or not isinstance(idle, int | float) or idle < 0
    ):
        checker.add(
            "ui.idle_lock_minutes must be a number of minutes (0: never).",
            data["ui"],
            "idle_lock_minutes",
        )
        idle = None
    kiosk = ui.get("kiosk")
    if kiosk is not None and not isinstance(kiosk, bool):
        checker.add("ui.kiosk must be true or false.", data["ui"], "kiosk")
        kiosk = None
    start_at_login = ui.get("start_at_login")
    if start_at_login is not None and not isinstance(start_at_login, bool):
        checker.add("ui.start_at_login must be true or false.", data["ui"], "start_at_login")
        start_at_login = None
    retention = data.get("usage_retention_days", 90)
    if isinstance(retention, bool) or not isinstance(retention, int) or retention < 1:
        checker.add(
            "usage_retention_days must be a whole number of days (at least 1).",
            data,
            "usage_retention_days",
        )
        retention = 90
    updates_disabled, updates_pin = _updates(checker, data)
    audit_forward = _audit(checker, data)
    alerts_webhook = _alerts(checker, data)
    result = ValidationResult(tuple(sorted(checker.problems, key=lambda p: (p.line, p.column))))
    if not result.ok:
        return None, result
    return (
        Policy(
            models_allow=allow,
            role_models_allow=role_allow,
            per_user=per_user,
            per_tool=per_tool,
            per_machine=per_machine,
            shared=shared,
            config_lock=lock,
            allow_non_loopback=non_loopback,
            allowed_upstream_hosts=hosts,
            idle_lock_minutes=float(idle) if idle is not None else None,
            kiosk=kiosk,
            start_at_login=start_at_login,
            usage_retention_days=int(retention),
            updates_disabled=updates_disabled,
            updates_pin=updates_pin,
            audit_forward=audit_forward,
            alerts_webhook=alerts_webhook,
        ),
        result,
    )


def _updates(checker: _Checker, data: Any) -> tuple[bool, str | None]:
    """``updates: {enabled: false}`` stops every update; ``pin_version`` allows one only."""
    updates = checker.mapping(data, "updates", "updates", {"enabled", "pin_version"})
    enabled = updates.get("enabled", True)
    if not isinstance(enabled, bool):
        checker.add("updates.enabled must be true or false.", data["updates"], "enabled")
        enabled = True
    pin = updates.get("pin_version")
    if pin is not None and (not isinstance(pin, str | int | float) or isinstance(pin, bool)):
        checker.add(
            "updates.pin_version must be a version such as 0.2.0.", data["updates"], "pin_version"
        )
        pin = None
    return not enabled, str(pin) if pin is not None else None


def _audit(checker: _Checker, data: Any) -> tuple[str, ...] | None:
    """``audit: {forward: [URL, ...]}``: where every machine sends its audit events (an
    empty list forwards nowhere and stops an admin from choosing a destination)."""
    audit = checker.mapping(data, "audit", "audit", {"forward"})
    if "forward" not in audit:
        return None
    urls = audit["forward"]
    if urls is None:
        urls = []
    if not isinstance(urls, list):
        checker.add("audit.forward must be a list of destinations.", data["audit"], "forward")
        return None
    found = []
    for index, url in enumerate(urls):
        try:
            found.append(parse_destination(url if isinstance(url, str) else ""))
        except DestinationError as exc:
            checker.add(f"audit.forward: {exc.message}", urls, index, hint=exc.hint)
    out = [d.url for d in found]
    if len({d.key for d in found}) != len(found):
        checker.add("audit.forward names a destination twice.", data["audit"], "forward")
    return tuple(out)


def _alerts(checker: _Checker, data: Any) -> str | None:
    """``alerts: {webhook: URL}``: where alerts go. Anyone who can read the policy reads
    it: a webhook whose address is its secret (Slack, Teams) belongs in the shared entry
    ALERT_WEBHOOK_URL instead."""
    alerts = checker.mapping(data, "alerts", "alerts", {"webhook"})
    url = alerts.get("webhook")
    if url is None:
        return None
    try:
        return parse_webhook(url if isinstance(url, str) else "").url
    except DestinationError as exc:
        checker.add(f"alerts.webhook: {exc.message}", data["alerts"], "webhook", hint=exc.hint)
        return None
