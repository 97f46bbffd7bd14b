"""Remote gateways, logical models and the team export, without a network: address and
name checks, router settings edited on the config document, the deployment states a
person reads, the team config, and the proxy metrics that carry the state."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bridge_app.auth import PermissionDeniedError
from bridge_app.config import ConfigDocument
from bridge_app.proxy import ProxyMetrics, RequestSample
from bridge_app.remote import RemoteError, key_env_name, normalize_url
from bridge_app.remote._live import deployment_states, live_ids, recent_requests
from bridge_app.remote._probe import proxy_for
from bridge_app.remote._routing import (
    add_deployment,
    model_groups,
    remove_deployment,
    router_settings,
    set_fallbacks,
    set_router,
)
from bridge_app.remote._team import export_team, team_config
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import build_services
from tests.unit.test_cli import run_cli

BASE = """\
# my models
model_list:
  - model_name: internal-chat   # the company endpoint
    litellm_params:
      model: hosted_vllm/internal-chat
      api_base: os.environ/INTERNAL_LLM_API_BASE
      extra_body:
        internal_token: "{token}"
        project_id: "{project.id}"
        route: blue
  - model_name: demo
    litellm_params:
      model: bridge-demo/echo
router_settings:
  num_retries: 2
  disable_cooldowns: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""


def test_gateway_addresses_are_http_or_https_base_urls() -> None:
    assert normalize_url(" https://gw.corp:4000/v1/ ") == "https://gw.corp:4000"
    assert normalize_url("http://10.0.0.5/litellm") == "http://10.0.0.5/litellm"
    for bad, says in (
        ("ftp://gw.corp", "not an http:// or https://"),
        ("gw.corp:4000", "not an http:// or https://"),
        ("https://me:pw@gw.corp", "credentials"),
        ("https://gw.corp/?key=x", "query"),
        ("http://gw.corp:99999", "invalid port"),
    ):
        with pytest.raises(RemoteError, match=says):
            normalize_url(bad)
    assert key_env_name("team-eu") == "REMOTE_TEAM_EU_API_KEY"


def test_the_gateway_is_reached_through_the_same_corporate_proxy_as_the_app() -> None:
    network = {
        "HTTPS_PROXY": "http://proxy.corp:8080",
        "HTTP_PROXY": "http://plain.corp:8080",
        "NO_PROXY": "internal.corp, .lab.corp",
    }
    assert proxy_for("https://gw.example.com", network) == "http://proxy.corp:8080"
    assert proxy_for("http://gw.example.com", network) == "http://plain.corp:8080"
    assert proxy_for("https://llm.internal.corp:4000", network) is None
    assert proxy_for("https://gw.lab.corp", network) is None
    assert proxy_for("http://127.0.0.1:4000", network) is None
    assert proxy_for("https://gw.example.com", {}) is None


def test_logical_model_with_priorities_rotation_and_router_settings() -> None:
    doc = ConfigDocument.from_text(BASE)
    first = add_deployment(doc, "smart", "openai/gpt-4o", key_env="KEY_A", order=1)
    second = add_deployment(
        doc, "smart", "openai/gpt-4o", api_base="http://127.0.0.1:9/v1", key_env="KEY_B", order=2
    )
    assert (first, second) == ("smart-1", "smart-2")
    set_fallbacks(doc, "smart", ["internal-chat"])
    set_router(doc, strategy="least-busy", retries=3, timeout=30, cooldown_s=45, allowed_fails=1)

    text = doc.to_text()
    assert text.startswith("# my models\n")
    assert "# the company endpoint" in text  # untouched parts keep their comments
    data = yaml.safe_load(text)
    smart = [m for m in data["model_list"] if m["model_name"] == "smart"]
    assert [m["litellm_params"]["api_key"] for m in smart] == [
        "os.environ/KEY_A",
        "os.environ/KEY_B",
    ]
    assert [m["model_info"]["id"] for m in smart] == ["smart-1", "smart-2"]
    assert data["router_settings"] == {
        "num_retries": 3,
        "fallbacks": [{"smart": ["internal-chat"]}],
        "routing_strategy": "least-busy",
        "timeout": 30,
        "cooldown_time": 45,
        "allowed_fails": 1,
    }  # a configured cooldown is not left switched off
    (group,) = [g for g in model_groups(doc) if g.name == "smart"]
    assert [(d.id, d.order, d.key_env) for d in group.deployments] == [
        ("smart-1", 1, "KEY_A"),
        ("smart-2", 2, "KEY_B"),
    ]
    assert group.fallbacks == ("internal-chat",)
    settings = router_settings(doc)
    assert (settings.retries, settings.cooldown_s, settings.cooldowns_disabled) == (3, 45, False)

    assert remove_deployment(doc, "smart-1") == "smart"
    assert remove_deployment(doc, "smart-2") == "smart"
    assert "smart" not in yaml.safe_load(doc.to_text())["router_settings"].get("fallbacks", {})
    assert remove_deployment(doc, "demo#1") == "demo"  # deployments without an id too


def test_logical_model_mistakes_get_clear_messages() -> None:
    doc = ConfigDocument.from_text(BASE)
    with pytest.raises(RemoteError, match="does not name a provider"):
        add_deployment(doc, "smart", "gpt-4o")
    with pytest.raises(RemoteError, match="starts at 1"):
        add_deployment(doc, "smart", "openai/gpt-4o", order=0)
    with pytest.raises(RemoteError, match="not a valid environment variable"):
        add_deployment(doc, "smart", "openai/gpt-4o", key_env="my key")
    add_deployment(doc, "smart", "openai/gpt-4o", deployment_id="one")
    with pytest.raises(RemoteError, match="already exists"):
        add_deployment(doc, "smart", "openai/gpt-4o", deployment_id="one")
    with pytest.raises(RemoteError, match="not a model of this config"):
        set_fallbacks(doc, "smart", ["nowhere"])
    with pytest.raises(RemoteError, match="itself"):
        set_fallbacks(doc, "smart", ["smart"])
    with pytest.raises(RemoteError, match="not a routing strategy"):
        set_router(doc, strategy="round-robin-ish")
    with pytest.raises(RemoteError, match="no deployment with the id"):
        remove_deployment(doc, "ghost")


def test_deployment_states_read_like_a_person_expects() -> None:
    doc = ConfigDocument.from_text(BASE)
    add_deployment(doc, "smart", "openai/a", deployment_id="a", order=1)
    add_deployment(doc, "smart", "openai/b", deployment_id="b", order=2)
    add_deployment(doc, "smart", "openai/c", deployment_id="c", order=3)
    now = 1_000_000.0
    metrics = {
        "deployments": {
            "a": {
                "requests": 3,
                "errors": 1,
                "last_error": "RateLimitError: slow down",
                "last_error_at": now - 5,
                "last_ok_at": now - 60,
                "cooldown_until": now + 30,
                "cooldown_status": "429",
                "cooldown_error": "RateLimitError: slow down",
            },
            "b": {"requests": 2, "errors": 1, "last_error": "HTTP 500", "last_error_at": now - 2},
            "c": {"requests": 4, "errors": 0, "last_ok_at": now - 1},
            "9f1hash": {"model": "demo", "requests": 1, "errors": 0, "last_ok_at": now},
        },
        "recent": [
            {"ts": now - 1, "model": "smart", "deployment": "c", "status": 200},
            {"ts": now, "model": "demo", "deployment": "9f1hash", "status": 200},
        ],
    }
    groups = model_groups(doc)
    states = {s.id: s for s in deployment_states(groups, metrics, now=now)}
    assert states["a"].state == "cooling down"
    assert (
        states["a"].detail.startswith("until ")
        and "after 429: RateLimitError" in states["a"].detail
    )
    assert states["b"].state == "failing" and states["b"].detail.endswith("HTTP 500")
    assert states["c"].state == "healthy" and states["c"].detail == "4 upstream calls, 0 failed"
    assert states["internal-chat#1"].detail == "no requests yet"
    assert states["demo#1"].requests == 1  # LiteLLM's hash id matched by its group
    assert live_ids(groups, metrics)["9f1hash"] == "demo#1"
    recent = recent_requests(metrics, names=live_ids(groups, metrics))
    assert [(r.model, r.deployment) for r in recent] == [("demo", "demo#1"), ("smart", "c")]
    after = deployment_states(groups, metrics, now=now + 31)
    assert {s.id: s.state for s in after}["a"] == "failing"  # cooldown over, last call failed
    # The dashboard's and `status`'s one line per deployment.
    until = time.strftime("%H:%M:%S", time.localtime(now + 30))
    assert states["a"].sentence() == (
        f"smart · a: cooling down until {until} after 429: RateLimitError: slow down"
    )
    assert states["b"].sentence().startswith("smart · b: failing, last error at ")
    assert states["c"].sentence() == "smart · c: healthy (4 upstream calls, 0 failed)"


def test_after_a_config_apply_the_state_is_the_new_deployments_and_no_hash_is_shown() -> None:
    """Issue 26, item 4: after an apply LiteLLM gives a deployment a new hash id; the old
    id's failure ("No project is selected") stayed on screen while requests returned 200,
    and "answered by" showed the 64-character hash."""
    doc = ConfigDocument.from_text(BASE)
    groups = model_groups(doc)
    (chat,) = [g for g in groups if g.name == "internal-chat"]
    target = chat.deployments[0].model + (
        f" @ {chat.deployments[0].api_base}" if chat.deployments[0].api_base else ""
    )
    old, new, now = "a" * 64, "b" * 64, 1_000_000.0
    metrics = {
        "deployments": {
            old: {
                "model": "internal-chat",
                "target": target,
                "current": False,
                "requests": 2,
                "errors": 2,
                "last_error": "No project is selected",
                "last_error_at": now - 30,
            },
            new: {"model": "internal-chat", "target": target, "requests": 3, "errors": 0,
                  "last_ok_at": now - 1},
        },
        "recent": [
            {"ts": now - 30, "model": "internal-chat", "deployment": old, "status": 400},
            {"ts": now - 1, "model": "internal-chat", "deployment": new, "status": 200},
        ],
    }  # fmt: skip
    states = {s.id: s for s in deployment_states(groups, metrics, now=now)}
    assert states["internal-chat#1"].state == "healthy"
    assert states["internal-chat#1"].detail == "3 upstream calls, 0 failed"
    names = live_ids(groups, metrics)
    recent = recent_requests(metrics, names=names)
    assert [r.deployment for r in recent] == ["internal-chat#1", "internal-chat#1"]
    assert all(len(r.line()) < 80 for r in recent)


def test_an_untrusted_upstream_certificate_says_what_to_do() -> None:
    """Issue 26, item 9: behind a company CA the client saw "Cannot connect to host ..."
    and nothing said that the shared SSL_CERT_FILE entry is the fix."""
    doc = ConfigDocument.from_text(BASE)
    add_deployment(doc, "smart", "openai/a", deployment_id="a")
    error = (
        "litellm.APIConnectionError: Cannot connect to host internal.corp:443 ssl:True "
        "[SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
        "failed: unable to get local issuer certificate (_ssl.c:1006)')]"
    )
    metrics = {"deployments": {"a": {"requests": 1, "errors": 1, "last_error": error,
                                     "last_error_at": 10.0}}}  # fmt: skip
    (state,) = [s for s in deployment_states(model_groups(doc), metrics, now=20.0) if s.id == "a"]
    assert state.state == "failing"
    assert state.detail.endswith(
        "(its certificate is not trusted: the company CA belongs in this machine's trust store "
        "(IT rolls it out; the app reads it), or an admin sets the shared entry SSL_CERT_FILE "
        "to the CA file, see README, 'An internal endpoint behind a company CA')"
    )


def test_metrics_remember_a_deployment_across_a_restart_as_history() -> None:
    routed = {"h1": {"model": "smart", "target": "openai/a"}}
    metrics = ProxyMetrics(routing=lambda: dict(routed))
    metrics.record(RequestSample(ts=1.0, model="smart", endpoint="/v1/chat/completions",
                                 status=200, latency_ms=5, deployment="h1"))  # fmt: skip
    assert metrics.snapshot()["deployments"]["h1"]["requests"] == 1  # `status` publishes it
    routed.clear()
    routed["h2"] = {"model": "smart", "target": "openai/a"}  # restarted with another config
    view = metrics.snapshot()["deployments"]
    assert view["h1"]["current"] is False and view["h1"]["target"] == "openai/a"
    assert "current" not in view["h2"] and view["h2"]["requests"] == 0


def test_proxy_metrics_keep_each_deployment_and_mask_errors() -> None:
    metrics = ProxyMetrics(
        routing=lambda: {"d1": {"model": "smart", "cooldown_until": 5.0}},
        redact=lambda text: text.replace("sk-secret-123", "sk-…"),
    )
    metrics.record(RequestSample(1.0, "smart", "/v1/chat/completions", 200, 3.0, deployment="d2"))
    metrics.record(
        RequestSample(
            2.0, "smart", "/v1/chat/completions", 401, 3.0, deployment="d1",
            error="upstream rejected credentials Bearer sk-secret-123",
        )
    )  # fmt: skip
    snap = metrics.snapshot()
    assert snap["deployments"]["d1"]["last_error"] == "upstream rejected credentials Bearer sk-…"
    assert snap["deployments"]["d1"]["cooldown_until"] == 5.0
    assert snap["deployments"]["d2"]["last_ok_at"] == 1.0
    assert [r["deployment"] for r in snap["recent"]] == ["d2", "d1"]
    broken = ProxyMetrics(routing=lambda: 1 / 0)  # type: ignore[arg-type,return-value]
    assert broken.snapshot()["deployments"] == {}


def test_team_config_holds_no_secret_and_leaves_desktop_only_parts(tmp_path: Path) -> None:
    text, variables, skipped, notes = team_config(ConfigDocument.from_text(BASE))
    data = yaml.safe_load(text)
    assert skipped == ["demo"]
    (model,) = data["model_list"]
    assert model["litellm_params"]["extra_body"] == {"route": "blue"}  # placeholders gone
    assert any("desktop apps in remote mode" in n for n in notes)
    assert data["router_settings"]["redis_password"] == "os.environ/REDIS_PASSWORD"
    assert "INTERNAL_LLM_API_BASE" in variables and "REDIS_HOST" in variables

    leaky = BASE.replace(
        "os.environ/INTERNAL_LLM_API_BASE", "http://x\n      api_key: sk-live-abcdefghijklmnop1234"
    )
    with pytest.raises(RemoteError, match="literal secret"):
        export_team(ConfigDocument.from_text(leaky), tmp_path / "out")
    assert not (tmp_path / "out" / "config.yaml").exists()
    only_demo = (
        "model_list:\n  - model_name: demo\n    litellm_params:\n      model: bridge-demo/echo\n"
    )
    with pytest.raises(RemoteError, match="no model a team server could serve"):
        export_team(ConfigDocument.from_text(only_demo), tmp_path / "out2")


def test_only_admins_add_or_remove_gateways(tmp_path: Path) -> None:
    services = build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path)}), redactor=Redactor()
    )
    try:
        services.auth.create_first_admin("root", "Admin-Password-42!")
        admin = services.auth.login("root", "Admin-Password-42!")
        services.auth.create_user(admin, "bob", "Plain-Kettle-4242!", role="user")
        bob = services.auth.login("bob", "Plain-Kettle-4242!")
        with pytest.raises(PermissionDeniedError):
            services.remote.add(bob, "team", "http://127.0.0.1:9", check=False)
        services.remote.add(
            admin, "team", "http://127.0.0.1:9", key="sk-team-1234567890", check=False
        )
        with pytest.raises(PermissionDeniedError):
            services.remote.remove(bob, "team")
        assert [g.name for g in services.remote.gateways()] == ["team"]
        with pytest.raises(RemoteError, match="no remote gateway named 'other'"):
            services.remote.test("other")
    finally:
        services.close()


def test_models_and_team_commands(tmp_path: Path) -> None:
    from tests.unit.test_cli_config import as_admin, first_admin

    home = tmp_path / "home"
    first_admin(home)
    added = as_admin(
        "models", "add", "smart", "openai/gpt-4o", "--api-base", "http://127.0.0.1:9/v1",
        "--order", "1", "--id", "primary", home=home,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Added primary to smart." in added.stdout
    missing_key = as_admin(
        "models", "add", "smart", "openai/gpt-4o", "--key-env", "NOPE", home=home
    )
    assert missing_key.returncode == 1
    assert "There is no shared environment entry NOPE." in missing_key.stderr
    assert "env set NOPE --shared" in missing_key.stderr
    routed = as_admin("models", "routing", "--cooldown", "30", "--retries", "2", home=home)
    assert routed.returncode == 0, routed.stderr
    fallbacks = as_admin("models", "fallbacks", "smart", "demo", home=home)
    assert fallbacks.returncode == 0, fallbacks.stderr
    listed = run_cli("models", "list", home=home)
    assert "smart  (falls back to demo)" in listed.stdout
    assert "primary              order 1   openai/gpt-4o @ http://127.0.0.1:9/v1" in listed.stdout
    assert "retries 2" in listed.stdout and "cooldown 30" in listed.stdout
    status = run_cli("models", "status", home=home)
    assert "The proxy is not running" in status.stdout
    assert "primary" in status.stdout and "no requests yet" in status.stdout

    exported = run_cli("team", "export", str(tmp_path / "team"), home=home)
    assert exported.returncode == 0, exported.stderr
    assert "left out (desktop-only): demo" in exported.stdout
    assert (tmp_path / "team" / "docker-compose.yaml").exists()
    # What would not run as written is said (issue 26, item 10): a loopback api_base is
    # the container itself there; REDIS_HOST/PORT come from the compose file, not .env.
    assert (
        "note: smart: api_base http://127.0.0.1:9/v1 is a loopback address: inside the "
        "container it is the container itself." in exported.stdout
    )
    to_fill = next(ln for ln in exported.stdout.splitlines() if ln.startswith("variables"))
    assert "REDIS_HOST" not in to_fill and "REDIS_PORT" not in to_fill
    assert "POSTGRES_PASSWORD" in to_fill
    team_config = (tmp_path / "team" / "config.yaml").read_text()
    assert team_config.startswith("# Team LiteLLM gateway, exported by LiteLLM Bridge")
    assert "demo" not in team_config.splitlines()[0] + team_config.splitlines()[1]
    settings = yaml.safe_load(team_config)["general_settings"]
    assert settings["proxy_batch_write_at"] == 60
    assert settings["database_connection_pool_limit"] == 10
    again = run_cli("team", "export", str(tmp_path / "team"), home=home)
    assert again.returncode == 1 and "already exists" in again.stderr
    removed = as_admin("models", "remove", "primary", home=home)
    assert removed.returncode == 0, removed.stderr
    # Its last deployment gone, smart's fallbacks go too: said, not silent (issue 26, 6).
    assert "Fallbacks removed with it: smart -> demo. Adding the model again" in removed.stdout
    assert "`litellm-bridge models fallbacks`" in removed.stdout
    bad = run_cli(
        "remote", "add", "team", "ftp://x", "--as", "nobody", "--password-stdin", home=home
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
