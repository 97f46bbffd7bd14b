"""The policy service on a real SQLCipher store: vocabulary, the config lock, the change
feed bringing a policy applied elsewhere to a running instance, limit counters, usage
summaries and retention."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge_app.policy import (
    LimitExceededError,
    LocalCounters,
    ModelNotAllowedError,
    PolicyRefusedError,
    PolicyService,
    PolicyWatcher,
    RequestPolicy,
    parse_policy,
)
from bridge_app.proxy._hooks import RequestContext
from bridge_app.store import ChangeFeed, Database, tables
from bridge_app.usage import UsageFilter, UsageService
from tests.integration.conftest import wait_for
from tests.unit._auth_stack import DB_KEY, Stack, open_stack, with_admin_and_user


@pytest.fixture
def stack(tmp_path: Path) -> Stack:
    s = open_stack(tmp_path / "bridge.db")
    yield s
    s.close()


def _service(stack: Stack, machine: Path) -> PolicyService:
    return PolicyService(
        db=stack.db, audit=stack.audit, settings=stack.settings, machine_file=machine
    )


def test_models_allow_and_role_lists_both_apply() -> None:
    policy, result = parse_policy(
        'models: {allow: ["internal-*", "demo"]}\n'
        'roles: {user: {models: {allow: ["internal-chat"]}}}\n'
    )
    assert result.ok and policy is not None
    assert policy.model_allowed("internal-chat", "user")
    assert not policy.model_allowed("internal-code", "user")
    assert policy.model_allowed("internal-code", "admin")
    assert not policy.model_allowed("gpt-4o", "admin")


def test_config_lock_levels(stack: Stack, tmp_path: Path) -> None:
    admin, bob = with_admin_and_user(stack)
    policy_file = tmp_path / "p.yaml"
    service = _service(stack, tmp_path / "absent.yaml")
    for area in ("config", "env.shared", "settings"):
        service.check_change(bob, area)  # no policy: nothing is locked

    policy_file.write_text("config_lock: admin_only\n")
    service.apply(admin, policy_file)
    with pytest.raises(PolicyRefusedError, match="App settings is managed by your company"):
        service.check_change(bob, "settings")
    with pytest.raises(PolicyRefusedError, match="managed by your company"):
        service.check_change(None, "config")
    service.check_change(admin, "config")
    assert service.locked_areas(bob) == {"config", "env.shared", "settings"}

    policy_file.write_text("config_lock: locked\n")
    service.apply(admin, policy_file)
    with pytest.raises(PolicyRefusedError, match="nobody can change it on this machine"):
        service.check_change(admin, "config")
    service.check_change(admin, "settings")
    assert service.locked_areas(admin) == {"config"}

    with pytest.raises(Exception, match="Only an admin can change the policy"):
        service.apply(bob, policy_file)


def test_a_policy_applied_by_another_process_reaches_a_running_instance(
    stack: Stack, tmp_path: Path
) -> None:
    admin, _bob = with_admin_and_user(stack)
    other_db = Database(stack.db.path, DB_KEY)  # what a second process opens
    other_db.open()
    try:
        running = PolicyService(
            db=other_db,
            audit=stack.audit,
            settings=stack.settings,
            machine_file=tmp_path / "absent.yaml",
        )
        feed = ChangeFeed(db=other_db, interval=0.2)
        watcher = PolicyWatcher(service=running, feed=feed)
        feed.start()
        watcher.start()
        assert running.policy().config_lock == "off"
        file = tmp_path / "p.yaml"
        file.write_text('config_lock: admin_only\nmodels: {allow: ["demo"]}\n')
        _service(stack, tmp_path / "absent.yaml").apply(admin, file)
        assert wait_for(lambda: running.policy().config_lock == "admin_only", timeout=10)
        watcher.stop()
        feed.stop()
    finally:
        other_db.close()


def test_request_hook_refuses_models_and_counts_rolling_limits(
    stack: Stack, tmp_path: Path
) -> None:
    admin, _bob = with_admin_and_user(stack)
    file = tmp_path / "p.yaml"
    file.write_text(
        'models: {allow: ["demo"]}\n'
        "limits:\n  per_user: {requests_per_minute: 3}\n"
        "  per_tool: {claude-code: {requests_per_day: 1}, codex-cli: {requests_per_day: 1}}\n"
    )
    service = _service(stack, tmp_path / "absent.yaml")
    service.apply(admin, file)
    hook = RequestPolicy(service=service, audit=stack.audit)
    ctx = RequestContext(call_type="acompletion", client="admin")
    with pytest.raises(ModelNotAllowedError, match="model gpt-4o is not allowed"):
        hook({"model": "gpt-4o"}, ctx)
    claude = {
        "model": "demo",
        "proxy_server_request": {"headers": {"user-agent": "claude-cli/2.0 (external, cli)"}},
    }
    hook(claude, ctx)
    with pytest.raises(
        LimitExceededError, match="requests_per_day = 1 for tool claude-code"
    ) as day:
        hook(claude, ctx)
    # Frees up in a day: final. Claude Code stops at once on x-should-retry: false and
    # shows the message; told "Retry-After: 60" it retried silently for minutes.
    assert day.value.final and day.value.http_status == 429
    assert day.value.http_headers == {"x-should-retry": "false"}
    assert "It allows requests again" in day.value.message
    # Codex CLI retries any 429 whatever it says: the same refusal is a 403 for it.
    codex = RequestContext(call_type="acompletion", client="codex-cli")
    hook({"model": "demo"}, codex)
    with pytest.raises(LimitExceededError, match="requests_per_day = 1 for tool codex-cli") as cx:
        hook({"model": "demo"}, codex)
    assert cx.value.final and cx.value.http_status == 403
    assert cx.value.http_headers == {"x-should-retry": "false"}
    hook({"model": "demo"}, ctx)
    with pytest.raises(LimitExceededError) as over:
        hook({"model": "demo"}, ctx)
    assert over.value.http_headers == {"Retry-After": str(over.value.retry_after)}
    assert 1 <= over.value.retry_after <= 60 and not over.value.final
    assert over.value.http_status == 429
    assert "requests_per_minute = 3" in over.value.message

    # Rolling: what was admitted a minute ago no longer counts.
    counters = LocalCounters(db=stack.db)
    later = time.time() + 61
    assert counters.totals(f"user:{service.subject_user}", later).minute_requests == 0
    assert counters.totals(f"user:{service.subject_user}", later).day_requests == 3

    warnings = service.quota_warnings()
    assert any("Quota reached" in w and "requests per minute" in w for w in warnings)
    events = stack.audit.list_events(admin, action="policy", limit=50)
    actions = [e.action for e in events]
    assert "policy.request_refused" in actions and "policy.quota" in actions


def test_usage_summary_and_retention(stack: Stack, tmp_path: Path) -> None:
    admin, bob = with_admin_and_user(stack)
    service = _service(stack, tmp_path / "absent.yaml")
    usage = UsageService(db=stack.db, policy=service)
    now = time.time()
    rows = [
        {
            "ts": now - 3600,
            "model": "demo",
            "endpoint": "/v1/messages",
            "status": 200,
            "latency_ms": 10.0,
            "tokens_in": 5,
            "tokens_out": 7,
            "client": "claude-code",
            "user": "bob",
            "cost_usd": 0.01,
        },
        {
            "ts": now - 60,
            "model": "internal-chat",
            "endpoint": "/v1/chat/completions",
            "status": 429,
            "latency_ms": 1.0,
            "tokens_in": 0,
            "tokens_out": 0,
            "client": "admin",
            "user": "root",
            "cost_usd": 0.0,
        },
        {
            "ts": now - 40 * 86_400,
            "model": "demo",
            "endpoint": "/v1/chat/completions",
            "status": 200,
            "latency_ms": 3.0,
            "tokens_in": 1,
            "tokens_out": 1,
            "client": None,
            "user": "bob",
            "cost_usd": 0.0,
        },
    ]
    with stack.db.transaction() as conn:
        conn.execute(tables["usage_records"].insert(), rows)
    everything = UsageFilter()
    by_model = {g.key: g for g in usage.summary(everything, "model")}
    assert by_model["demo"].requests == 2 and by_model["internal-chat"].errors == 1
    by_tool = {g.key for g in usage.summary(everything, "tool")}
    assert by_tool == {"claude-code", "(main key)", "(none)"}
    mine = usage.scoped(bob, UsageFilter(user=None))
    assert usage.totals(mine).requests == 2
    with pytest.raises(Exception, match="Only an admin can see another person's usage"):
        usage.scoped(bob, UsageFilter(user="root"))

    out = tmp_path / "usage.csv"
    usage.export(out, "csv", usage.scoped(admin, everything), "user")
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("user,requests,errors,tokens_in,tokens_out")
    assert lines[-1].startswith("total,3,1,6,8")

    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("usage_retention_days: 30\n")
    service.apply(admin, policy_file)
    assert usage.prune() == 1
    with stack.db.reading() as conn:
        left = conn.execute(select(func.count()).select_from(tables["usage_records"])).scalar()
    assert left == 2


def test_shared_environment_changes_follow_the_lock(stack: Stack, tmp_path: Path) -> None:
    from bridge_app.envvars import EnvService

    admin, bob = with_admin_and_user(stack)
    service = _service(stack, tmp_path / "absent.yaml")
    env = EnvService(db=stack.db, shared_key=b"\x01" * 32, redactor=stack.redactor)
    env.change_guard = service.check_change
    env.set(admin, "HTTPS_PROXY", "http://proxy.corp.example:8080", scope="shared")
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text("config_lock: admin_only\n")
    service.apply(admin, policy_file)
    env.set(admin, "HTTPS_PROXY", "http://proxy2.corp.example:8080", scope="shared")
    with pytest.raises(PolicyRefusedError, match="Shared environment entries is managed"):
        env.set(bob, "HTTPS_PROXY", "http://elsewhere:1", scope="shared")
    assert env.effective_environment(None)["HTTPS_PROXY"] == "http://proxy2.corp.example:8080"


def test_a_refusal_burst_is_audited_when_it_starts_and_counted_when_it_ends(
    stack: Stack, tmp_path: Path
) -> None:
    admin, _bob = with_admin_and_user(stack)
    file = tmp_path / "p.yaml"
    file.write_text('models: {allow: ["demo"]}\n')
    service = _service(stack, tmp_path / "absent.yaml")
    service.apply(admin, file)
    hook = RequestPolicy(service=service, audit=stack.audit)
    hook.burst_window = 0.5
    ctx = RequestContext(call_type="acompletion", client="admin")

    def refusals() -> list[str]:
        events = stack.audit.list_events(admin, action="policy.request_refused", limit=50)
        return [e.detail for e in events]

    for _ in range(4):
        with pytest.raises(ModelNotAllowedError):
            hook({"model": "gpt-4o"}, ctx)
    assert len(refusals()) == 1 and "refused: model gpt-4o" in refusals()[0]
    deadline = time.monotonic() + 10
    while len(refusals()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the burst's window closes without a further request
    assert any("3 more refusals of this kind within 0.5 s" in d for d in refusals())

    # A lone refusal writes one event; a burst still open is counted when the app stops.
    hook.burst_window = 60
    with pytest.raises(ModelNotAllowedError):
        hook({"model": "gpt-4o"}, ctx)
    with pytest.raises(ModelNotAllowedError):
        hook({"model": "o3"}, ctx)
    hook.close()
    details = refusals()
    assert len(details) == 4
    assert any("1 more refusal of this kind within 60 s after: model gpt-4o" in d for d in details)


def test_the_policy_can_pin_the_update_version_or_turn_updates_off() -> None:
    pinned, result = parse_policy('updates:\n  pin_version: "0.2.0"\n')
    assert result.ok and pinned is not None
    assert (pinned.updates_disabled, pinned.updates_pin) == (False, "0.2.0")
    off, result = parse_policy("updates:\n  enabled: false\n")
    assert result.ok and off is not None and off.updates_disabled
    bad, result = parse_policy("updates:\n  enabled: sometimes\n  channel: beta\n")
    assert bad is None
    assert [p.message for p in result.problems] == [
        "updates.enabled must be true or false.",
        "Unknown key 'channel' in updates.",
    ]


@pytest.mark.windows
def test_a_policy_file_a_standard_user_could_write_is_not_trusted(tmp_path: Path) -> None:
    """At the machine-wide location, a file (or folder) the user could have made is not
    the company's policy (Windows: %ProgramData% lets every user create files)."""
    from bridge_app.policy._owner import untrusted_owner

    made = tmp_path / "policy.yaml"
    made.write_text("models: {allow: ['*']}\n", encoding="utf-8")
    if sys.platform != "win32":
        made.chmod(0o666)
    problem = untrusted_owner(made)
    assert problem is not None
    assert str(made) in problem or "may change" in problem


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() != 0, reason="needs a root-owned folder (Linux)"
)
def test_a_root_owned_policy_file_is_trusted(tmp_path: Path) -> None:
    from bridge_app.policy._owner import untrusted_owner

    tmp_path.chmod(0o755)
    made = tmp_path / "policy.yaml"
    made.write_text("models: {allow: ['*']}\n", encoding="utf-8")
    made.chmod(0o644)
    assert untrusted_owner(made) is None


def _under_wine() -> bool:
    import ctypes

    return sys.platform == "win32" and hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")


@pytest.mark.windows
@pytest.mark.skipif(
    sys.platform != "win32" or _under_wine(),
    reason="Windows access lists: Wine keeps none (every file reads as the user's own, "
    "tests/windows/test_wine_msi.py); the GitHub Windows job runs this",
)
def test_the_installed_machine_policy_is_writable_by_administrators_only(tmp_path: Path) -> None:
    """`policy install` (the MSI's POLICYFILE) on a folder a user created first, as
    %ProgramData% allows: afterwards it and the files belong to the Administrators, and
    no one else may change them."""
    from bridge_app.policy import EXAMPLE_POLICY, install_machine_policy
    from bridge_app.policy._owner import untrusted_owner

    target = tmp_path / "LiteLLM Bridge" / "policy.yaml"
    target.parent.mkdir()
    assert untrusted_owner(target.parent) is not None  # the user's own folder
    source = tmp_path / "company.yaml"
    source.write_text(EXAMPLE_POLICY, encoding="utf-8")
    placed, signed = install_machine_policy(source, target)
    assert (placed, signed) == (target, False)
    assert untrusted_owner(target) is None
    assert untrusted_owner(target.parent) is None


def test_concurrency_and_machine_limits_are_read_with_line_and_column() -> None:
    from bridge_app.policy._model import parse_policy

    policy, result = parse_policy(
        "limits:\n"
        "  per_user: {concurrent_requests: 3, requests_per_minute: 60}\n"
        "  per_tool: {claude-code: {concurrent_requests: 2}}\n"
        "  machine: {requests_per_minute: 120, concurrent_requests: 8}\n"
    )
    assert result.ok and policy is not None
    assert policy.per_user.concurrent == 3 and policy.per_user.values == {"requests_per_minute": 60}
    assert policy.per_tool["claude-code"].concurrent == 2
    assert not policy.per_tool["claude-code"]  # no rate to count for it
    assert policy.per_machine.values == {"requests_per_minute": 120}
    assert policy.per_machine.concurrent == 8
    assert policy.has_concurrency and policy.has_limits
    bad, result = parse_policy("limits:\n  per_user: {concurrent_requests: 0}\n  machine: []\n")
    assert bad is None
    assert [(p.line, p.column, p.message) for p in result.problems] == [
        (
            2,
            14,
            "limits.per_user.concurrent_requests must be a whole number of requests (at least 1).",
        ),
        (3, 12, "limits.machine must be a mapping of limits."),
    ]
