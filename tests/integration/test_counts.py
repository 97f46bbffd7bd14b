"""The counts the app shows are what happened: for any mix of successes, streams, upstream
failures, retries, fallbacks, requests the company's policy refuses and requests LiteLLM
itself rejects, sent through the real embedded proxy to real upstreams, the live metrics
(what `status` and the Dashboard show), the deployments' counts (Remote & models,
`models status`) and the usage rows (`usage`) agree with what the clients got and what
each upstream received.

Three counts, each what it says: client requests (with errors and the bridge's own
refusals apart), upstream calls per deployment (each retry and each fallback), and usage
rows (one per client request, charged to the deployment that answered). A refusal at the
deployment (no project selected) blames no deployment: its upstream was never called."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge_app.runtime import AppPaths, BridgeError, Redactor
from bridge_app.services import Services, UsageFilter, build_services
from tests.integration._upstream import FakeUpstream, free_port
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POLICY = 'models: {allow: ["fast", "solo", "backup", "ghost"]}\n'
REFUSED_TEXT = "not allowed by your company's policy"
#: What a person can send: fast answers; solo fails over to backup; with both down the
#: client gets an error; "blocked" is refused by the policy; "ghost" is allowed but no
#: model has that name (LiteLLM rejects it before any upstream is called).
KINDS = ("ok", "stream", "fallback", "down", "refused", "ghost", "no-project")
#: A request hook that refuses at the deployment (as the token injector does when no
#: project is selected): after the router chose a deployment, before anything is sent.
HOOK_TEXT = "No project is selected (the test's request hook)"
UPSTREAMS = ("fast", "solo", "backup")


@dataclass
class Proxy:
    services: Services
    url: str
    key: str
    fast: FakeUpstream
    solo: FakeUpstream
    backup: FakeUpstream


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    root = tmp_path_factory.mktemp("counts")
    policy = root / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIDGE_POLICY_FILE", str(policy))
        paths = AppPaths.from_environment(
            {"BRIDGE_HOME": str(root / "home"), "BRIDGE_POLICY_FILE": str(policy)}
        )
        services = build_services(paths, redactor=Redactor())
        services.auth.create_first_admin("root", "Admin-Password-42!")
        session = services.auth.login("root", "Admin-Password-42!")
        services.env.set(session, "KEY_A", "sk-upstream-a-0123456789", scope="shared")
        fast, solo, backup = (FakeUpstream().start() for _ in range(3))
        remote = services.remote
        for name, upstream in (("fast", fast), ("solo", solo), ("backup", backup)):
            remote.add_deployment(
                name, "openai/up-model", author="t", api_base=upstream.base_url, key_envs=["KEY_A"]
            )
        remote.set_fallbacks("solo", ["backup"], author="t")
        remote.set_router(author="t", retries=2)  # two retries of a failed call, then fallback
        supervisor = services.proxy.supervisor(port=free_port())
        supervisor.add_request_hook(_refuse_marked)
        supervisor.start()
        try:
            yield Proxy(services, supervisor.url, services.proxy.master_key(), fast, solo, backup)
        finally:
            supervisor.stop()
            services.close()
            for upstream in (fast, solo, backup):
                upstream.stop()


class _NoProject(BridgeError):
    http_status = 403


def _refuse_marked(data: dict[str, object], _context: object) -> None:
    if "no-project" in json.dumps(data.get("messages"), default=str):
        raise _NoProject(HOOK_TEXT)


def chats(upstream: FakeUpstream) -> int:
    return sum(1 for r in upstream.requests if str(r["path"]).endswith("/chat/completions"))


@dataclass
class Seen:
    """What the clients got and what each upstream received, over one batch."""

    client: Counter[str]  # "ok", "error", "refused"
    calls: Counter[str]  # upstream name -> chat requests it received
    failed: Counter[str]  # upstream name -> of those, answered with an error
    answered: Counter[str]  # upstream name -> answered with success


def send(proxy: Proxy, kind: str, seen: Seen) -> None:
    failing = {
        "fallback": {"solo"},
        "down": {"solo", "backup"},
    }.get(kind, set())
    upstreams = {"fast": proxy.fast, "solo": proxy.solo, "backup": proxy.backup}
    for name, upstream in upstreams.items():
        upstream.fail_with = 503 if name in failing else None
    model = {
        "ok": "fast",
        "stream": "fast",
        "refused": "blocked",
        "ghost": "ghost",
        "no-project": "fast",
    }.get(kind, "solo")
    before = {name: chats(u) for name, u in upstreams.items()}
    text = "no-project" if kind == "no-project" else "hi"
    body: dict[str, object] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if kind == "stream":
        body["stream"] = True
    answer = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {proxy.key}"},
        json=body,
        timeout=60,
    )
    if answer.status_code < 400:
        seen.client["ok"] += 1
    elif REFUSED_TEXT in answer.text or HOOK_TEXT in answer.text:
        seen.client["refused"] += 1
    else:
        seen.client["error"] += 1
    for name, upstream in upstreams.items():
        received = chats(upstream) - before[name]
        seen.calls[name] += received
        if name in failing:
            seen.failed[name] += received
        else:
            seen.answered[name] += received


def deployment_counts(proxy: Proxy) -> dict[str, tuple[int, int]]:
    states = proxy.services.remote.routing().states
    return {
        s.group: (s.requests, s.errors) for s in states if s.group in ("fast", "solo", "backup")
    }


def usage_by_deployment(proxy: Proxy) -> dict[str, int]:
    """Successful usage rows per upstream (the row names the deployment that answered)."""
    rows = proxy.services.usage.summary(UsageFilter(), "deployment")
    out: Counter[str] = Counter()
    for g in rows:
        name = g.key.split("-", 1)[0]
        out[name] += g.requests - g.errors - g.refused
    return dict(out)


@settings(
    max_examples=4,  # each example is real traffic, and LiteLLM backs off between retries
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(st.sampled_from(KINDS), min_size=1, max_size=7))
def test_status_deployments_and_usage_agree_with_clients_and_upstreams(
    proxy: Proxy, batch: list[str]
) -> None:
    metrics = proxy.services.proxy
    snapshot = lambda: metrics.status().metrics  # noqa: E731 - what `status` shows
    total_usage = lambda: proxy.services.usage.totals(UsageFilter())  # noqa: E731
    m0, d0, u0, a0 = snapshot(), deployment_counts(proxy), total_usage(), usage_by_deployment(proxy)
    seen = Seen(Counter(), Counter(), Counter(), Counter())
    for kind in batch:
        send(proxy, kind, seen)
    n = len(batch)
    # Success events are logged just after the answer, usage rows within a second.
    assert wait_for(lambda: snapshot()["requests"] - m0["requests"] == n, 15), (snapshot(), n)
    assert wait_for(lambda: total_usage().requests - u0.requests == n, 15)
    m1, d1, u1, a1 = snapshot(), deployment_counts(proxy), total_usage(), usage_by_deployment(proxy)

    # What the clients got.
    assert m1["errors"] - m0["errors"] == seen.client["error"], (batch, m1)
    assert m1["refused"] - m0["refused"] == seen.client["refused"], (batch, m1)
    assert u1.errors - u0.errors == seen.client["error"], batch
    assert u1.refused - u0.refused == seen.client["refused"], batch
    # What each upstream received: every retry and fallback is one call to its deployment.
    for name in ("fast", "solo", "backup"):
        calls = d1[name][0] - d0[name][0]
        failed = d1[name][1] - d0[name][1]
        assert (calls, failed) == (seen.calls[name], seen.failed[name]), (name, batch, seen)
        # And the usage rows charge each answer to the deployment that gave it.
        answered = a1.get(name, 0) - a0.get(name, 0)
        assert answered == seen.answered[name], (name, batch, seen)


def test_a_fallback_counts_once_and_charges_the_deployment_that_answered(proxy: Proxy) -> None:
    """The issue's case, as a person reads it: requests to a model whose upstream is down,
    each retried twice (LiteLLM backs off between retries) and then answered by the
    fallback."""
    m0, d0 = proxy.services.proxy.status().metrics, deployment_counts(proxy)
    seen = Seen(Counter(), Counter(), Counter(), Counter())
    for _ in range(5):
        send(proxy, "fallback", seen)
    assert seen.client == Counter(ok=5)
    assert wait_for(
        lambda: proxy.services.proxy.status().metrics["requests"] - m0["requests"] == 5, 15
    )
    m1, d1 = proxy.services.proxy.status().metrics, deployment_counts(proxy)
    assert m1["errors"] == m0["errors"]  # every client got its answer
    assert d1["backup"][0] - d0["backup"][0] == 5 and d1["backup"][1] == d0["backup"][1]
    assert d1["solo"][0] - d0["solo"][0] == seen.calls["solo"]  # 0 when cooling down
    assert d1["solo"][1] - d0["solo"][1] == seen.calls["solo"]


def test_status_models_status_and_usage_of_a_real_serve_say_what_happened(
    tmp_path: Path,
) -> None:
    """`serve` in its own process, real upstreams, the company's policy: what `status`,
    `models status` and `usage` print in another terminal."""
    from tests.integration._serve import ADMIN, ADMIN_PW, Serve, as_admin, cli, create_admin

    home = tmp_path / "home"
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    extra = {"BRIDGE_POLICY_FILE": str(policy)}
    create_admin(home)
    solo, backup = FakeUpstream().start(), FakeUpstream().start()
    try:
        done = cli(
            home, "env", "set", "KEY_A", "--shared", "--value-stdin", "--as", ADMIN,
            "--password-stdin", stdin=f"{ADMIN_PW}\nsk-upstream-a-0123456789\n", **extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        for args in (
            ("models", "add", "solo", "openai/up-model", "--api-base", solo.base_url,
             "--key-env", "KEY_A", "--id", "solo-1"),
            ("models", "add", "backup", "openai/up-model", "--api-base", backup.base_url,
             "--key-env", "KEY_A", "--id", "backup-1"),
            ("models", "fallbacks", "solo", "backup"),
            ("models", "routing", "--retries", "2", "--cooldown", "60", "--allowed-fails", "5"),
        ):  # fmt: skip
            done = as_admin(home, *args, **extra)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        port = free_port()
        serve = Serve(home, port, **extra)
        try:
            key = cli(home, "proxy-key", **extra).stdout.strip()
            solo.fail_with = 503
            codes = []
            for model in ("solo", "solo", "solo", "blocked", "ghost"):
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    headers={"Authorization": f"Bearer {key}"},
                    json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
                    timeout=60,
                )
                codes.append(answer.status_code)
            assert codes[:4] == [200, 200, 200, 403] and codes[4] >= 400, codes

            def status() -> dict[str, object]:
                return json.loads(cli(home, "status", "--json", **extra).stdout)["metrics"]

            assert wait_for(lambda: status()["requests"] == 5, 20), status()
            shown = status()
            assert (shown["errors"], shown["refused"]) == (1, 1), shown
            said = cli(home, "status", **extra).stdout
            assert "requests   5 (1 errors, 20.0%; 1 refused by the bridge)" in said, said
            # Each upstream call counts once, with the deployment it went to.
            assert chats(solo) == 9 and chats(backup) == 3
            models = cli(home, "models", "status", **extra).stdout
            assert "backup-1" in models and "healthy" in models, models
            assert "smart" not in models
            solo_line = next(ln for ln in models.splitlines() if "solo-1" in ln)
            assert "failing" in solo_line or "cooling down" in solo_line, models
            assert "deployment backup · backup-1: healthy (3 upstream calls, 0 failed)" in said

            def usage() -> str:
                return as_admin(home, "usage", "--by", "model", **extra).stdout

            table = wait_for(lambda: "total" in usage() and usage(), 20)
            assert table, usage()
            rows = {ln.split()[0]: ln.split() for ln in table.splitlines() if ln.strip()}
            assert rows["total"][1:4] == ["5", "1", "1"], table  # requests, errors, refused
            assert rows["solo"][1:4] == ["3", "0", "0"], table  # answered by the fallback
            assert rows["blocked"][1:4] == ["1", "0", "1"], table
            assert "not errors" in table
        finally:
            serve.stop()
    finally:
        solo.stop()
        backup.stop()
