"""The watchdog brings a crashed or hung proxy back, records why, and gives up on a loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bridge_app.proxy import ProxyState, WatchdogPolicy
from tests.integration._wire import build
from tests.integration.conftest import Made, wait_for

pytestmark = pytest.mark.integration

FAST = WatchdogPolicy(
    interval_s=0.2,
    hang_timeout_s=2.0,
    probe_timeout_s=2.0,
    backoff_base_s=0.1,
    backoff_cap_s=0.5,
    burst_window_s=60,
    burst_limit=3,
)


def _serves(made: Made) -> bool:
    try:
        with httpx.Client(base_url=made.supervisor.url, timeout=5, trust_env=False) as client:
            return client.send(build(client, "chat", made.key)).status_code == 200
    except httpx.HTTPError:
        return False


def _crash(made: Made) -> None:
    """Make the running uvicorn server's main loop raise (as a bug in a task would)."""
    server = made.supervisor.debug_server().server

    async def boom(counter: int) -> bool:
        raise RuntimeError("injected crash")

    server.on_tick = boom


def test_a_crashed_server_is_restarted_and_the_restart_recorded(
    make_proxy: Callable[..., Made],
) -> None:
    events: list[tuple[str, str]] = []
    made = make_proxy(policy=FAST, on_event=lambda a, d: events.append((a, d)))
    made.supervisor.start()
    _crash(made)
    assert wait_for(lambda: made.supervisor.status().restarts == 1, 10)
    assert wait_for(lambda: made.supervisor.state is ProxyState.RUNNING, 10)
    assert _serves(made)
    status = made.supervisor.status()
    assert "injected crash" in status.recent_restarts[0].reason
    assert ("proxy.restart", status.recent_restarts[0].reason) in events


def test_a_hung_event_loop_is_replaced_and_the_old_one_cannot_harm_the_new(
    make_proxy: Callable[..., Made],
) -> None:
    made = make_proxy(policy=FAST)
    made.supervisor.start()
    old = made.supervisor.debug_server()
    assert old.loop is not None
    hang_s = 6.0
    t0 = time.monotonic()
    old.loop.call_soon_threadsafe(time.sleep, hang_s)  # blocks the event loop
    assert wait_for(lambda: made.supervisor.status().restarts == 1, 10)
    assert wait_for(lambda: made.supervisor.state is ProxyState.RUNNING, 10)
    assert _serves(made)
    assert time.monotonic() - t0 < hang_s  # back before the hang even ended
    assert "did not answer" in made.supervisor.status().recent_restarts[0].reason
    # When the old loop wakes up it must end without tearing down the new server.
    old.thread.join(hang_s + 10)
    assert not old.thread.is_alive()
    time.sleep(0.5)
    assert _serves(made)
    assert made.supervisor.status().restarts == 1


def test_a_crash_loop_ends_in_failed_with_the_reason(make_proxy: Callable[..., Made]) -> None:
    env: dict[str, str] = {"DEMO_LABEL_FOR_TEST": "x1"}
    text = (
        "model_list:\n  - model_name: demo\n    litellm_params:\n"
        "      model: bridge-demo/echo\n      api_key: os.environ/DEMO_LABEL_FOR_TEST\n"
        "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
    events: list[tuple[str, Any]] = []
    made = make_proxy(
        config_text=text,
        policy=FAST,
        environment=lambda: dict(env),
        on_event=lambda a, d: events.append((a, d)),
    )
    made.supervisor.start()
    env.clear()  # from now on every restart fails before starting
    _crash(made)
    assert wait_for(lambda: made.supervisor.state is ProxyState.FAILED, 20)
    status = made.supervisor.status()
    assert "gave up" in (status.last_error or "")
    assert "DEMO_LABEL_FOR_TEST" in (status.last_error or "")
    assert status.restarts == FAST.burst_limit + 1
    assert events[-1][0] == "proxy.failed"
    time.sleep(1)  # and it stays down: no more attempts
    assert made.supervisor.status().restarts == FAST.burst_limit + 1


def test_repeated_failed_health_probes_degrade_then_restart(
    make_proxy: Callable[..., Made],
) -> None:
    from litellm.proxy.shutdown.graceful_shutdown_manager import GracefulShutdownManager

    made = make_proxy(policy=FAST)
    states: list[ProxyState] = []
    made.supervisor.subscribe(lambda _old, new, _err: states.append(new))
    made.supervisor.start()
    # What a stale LiteLLM flag does in real life: /health/liveliness answers 503.
    GracefulShutdownManager._is_shutting_down = True
    assert wait_for(lambda: made.supervisor.status().restarts == 1, 10)
    assert wait_for(lambda: made.supervisor.state is ProxyState.RUNNING, 10)
    assert _serves(made)
    assert ProxyState.DEGRADED in states
    assert "health probes failed" in made.supervisor.status().recent_restarts[0].reason
