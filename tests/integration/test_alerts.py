"""Alerts reach a webhook exactly once per episode, from the real parts that cause them:
`serve` with a company policy (quota at 80 % and 100 %, a burst of refusals, told across
a restart), the proxy supervisor failing to start on a taken port, and a changed bundle
failing its integrity check. The refused token refresh is in
tests/integration/test_blocked_refresh_recovers.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge_app.integrity import (
    IntegrityService,
    generate_private_key,
    public_key_text,
    sign_folder,
)
from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.services import build_services
from bridge_app.services._wiring import integrity_audit_hook
from tests.integration._serve import Serve, cli, create_admin, wait_until
from tests.integration._upstream import free_port
from tests.integration._webhook import Webhook
from tests.integration._wire import build

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


def test_quota_and_a_refusal_burst_alert_once_each_across_a_restart(
    tmp_path: Path, webhook: Webhook
) -> None:
    home, policy = tmp_path / "home", tmp_path / "policy.yaml"
    policy.write_text(
        'models: {allow: ["demo"]}\n'
        "limits:\n  per_user: {requests_per_minute: 5}\n"
        f"alerts:\n  webhook: {webhook.url}\n",
        encoding="utf-8",
    )
    extra = {"BRIDGE_POLICY_FILE": str(policy)}
    create_admin(home)
    port = free_port()
    serve = Serve(home, port, **extra)
    codes: list[int] = []
    try:
        key = cli(home, "proxy-key").stdout.strip()
        with httpx.Client(base_url=serve.url, timeout=60, trust_env=False) as client:
            for _ in range(4):
                codes.append(client.send(build(client, "chat", key)).status_code)
            assert wait_until(lambda: webhook.kinds() == ["quota_80"], timeout=20), webhook.kinds()
            codes.append(client.send(build(client, "chat", key)).status_code)
            assert wait_until(lambda: "quota_100" in webhook.kinds(), timeout=20)
            for _ in range(6):  # refused: one burst of six
                codes.append(client.send(build(client, "chat", key)).status_code)
    finally:
        _out, err = serve.stop()
    assert codes == [200] * 5 + [429] * 6
    # The desktop of `serve` is its standard error: the person at the machine read it too.
    assert "alert: Quota at 80 %: user" in err, err[-3000:]
    assert "alert: Quota used up: user" in err
    # The burst closed when serve stopped; the next instance tells it (nothing is lost).
    serve = Serve(home, port, **extra)
    try:
        assert wait_until(lambda: "refusal_burst" in webhook.kinds(), timeout=30), webhook.kinds()
    finally:
        serve.stop()
    assert webhook.kinds() == ["quota_80", "quota_100", "refusal_burst"]
    burst = webhook.of("refusal_burst")[0]
    assert burst["text"].startswith("LiteLLM Bridge on ")
    assert ": 6 requests refused by the policy (" in burst["text"].splitlines()[0]
    assert "the first: requests_per_minute for user root" in burst["text"]


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: Webhook):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BRIDGE_KEYRING", "off")
    monkeypatch.setenv("BRIDGE_POLICY_FILE", str(tmp_path / "no-policy.yaml"))
    built = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")}))
    built.auth.create_first_admin("root", "admin-horse-battery")
    admin = built.core.login("root", "admin-horse-battery")
    # A webhook address that is its own secret lives in an encrypted shared entry.
    built.core.set_env(admin, "ALERT_WEBHOOK_URL", webhook.url, scope="shared")
    built.forwarder.run_once()  # the channel starts at the newest event: no old alerts
    yield built
    built.close()


def test_a_proxy_that_cannot_start_alerts_once_per_episode(services, webhook: Webhook) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    taken = socket.socket()
    taken.bind(("127.0.0.1", port))
    taken.listen()
    try:
        for _ in range(2):  # failing twice in a row is one episode
            with pytest.raises(BridgeError):
                services.core.start_proxy(port=port)
        services.forwarder.run_once()
        assert webhook.kinds() == ["proxy_failed"]
        assert webhook.received[0]["alert"]["text"] == (
            f"It could not start: Port {port} on 127.0.0.1 is already in use by another program."
        )
    finally:
        taken.close()
    services.core.start_proxy(port=port)  # it runs again: the episode ends
    services.core.stop_proxy()
    services.audit.record(None, "proxy.crashed", "proxy", "failed", "the server thread died")
    services.forwarder.run_once()
    assert webhook.kinds() == ["proxy_failed", "proxy_failed"]
    status = services.forwarder.status()
    hook_row = next(r for r in status.destinations if r.destination.kind == "webhook")
    assert hook_row.describe().startswith("Alert webhook http://127.0.0.1/…: on (every event up to")
    assert "/hook" not in hook_row.describe()  # the address may be its secret


def test_a_changed_bundle_alerts_once(services, webhook: Webhook, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = generate_private_key()
    bundle = tmp_path / "litellm-bridge"
    bundle.mkdir()
    (bundle / "litellm-bridge").write_bytes(b"\x7fELF fake executable")
    sign_folder(bundle, key, version="1.2.3")
    (bundle / "litellm-bridge").write_bytes(b"patched")
    for _ in range(2):  # two processes start from the same changed bundle: one alert
        IntegrityService(
            root=bundle,
            public_key=public_key_text(key),
            on_failed=integrity_audit_hook(services.audit),
        ).check_at_start()
    services.forwarder.run_once()
    assert webhook.kinds() == ["integrity_failed"]
    alert = webhook.received[0]["alert"]
    assert "changed: litellm-bridge" in alert["text"]
    assert "`litellm-bridge verify`" in alert["action"]
