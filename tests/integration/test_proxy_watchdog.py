"""The watchdog brings a crashed or hung proxy back, records how long it took, keeps the
port answering (503 + Retry-After) while it restarts, and gives up clearly on a loop."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge_app.proxy import (
    ProxyState,
    StatusPublisher,
    WatchdogPolicy,
    read_status,
)
from tests.integration._upstream import FakeUpstream, internal_config
from tests.integration._wire import build
from tests.integration.conftest import Made, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.windows]  # the Windows leg too

FAST = WatchdogPolicy(
    tick_s=0.1,
    interval_s=0.2,
    silent_after_s=1.0,
    hang_timeout_s=2.0,
    probe_timeout_s=2.0,
    backoff_base_s=0.1,
    backoff_cap_s=0.5,
    burst_window_s=60,
    burst_limit=3,
    max_failed_restarts=5,
)
MANY = WatchdogPolicy(
    tick_s=0.1, interval_s=0.5, backoff_base_s=0.1, backoff_cap_s=0.5, burst_limit=20
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


def _hang(made: Made, seconds: float) -> Any:
    old = made.supervisor.debug_server()
    assert old.loop is not None
    old.loop.call_soon_threadsafe(time.sleep, seconds)  # blocks the event loop
    return old


def _recovered(made: Made, count: int) -> bool:
    records = made.supervisor.status().recent_restarts
    return len(records) == count and records[-1].outcome.startswith("recovered after")


def test_five_crashes_are_each_recovered_and_recorded_with_their_duration(
    make_proxy: Callable[..., Made],
) -> None:
    events: list[tuple[str, str]] = []
    made = make_proxy(policy=MANY, on_event=lambda a, d: events.append((a, d)))
    made.supervisor.start()
    for n in range(1, 6):
        _crash(made)
        assert wait_for(lambda n=n: _recovered(made, n), 30), made.supervisor.status()
        assert made.supervisor.state is ProxyState.RUNNING
        assert _serves(made)
    status = made.supervisor.status()
    assert status.restarts == 5
    for record in status.recent_restarts:
        assert "injected crash" in record.reason
        assert record.recovered_after_s is not None
        assert record.outcome == f"recovered after {record.recovered_after_s:g} s"
        assert record.failed_restarts == 0
    recovered = [d for a, d in events if a == "proxy.recovered"]
    assert len(recovered) == 5
    assert all(d.startswith("recovered after ") and "injected crash" in d for d in recovered)
    assert len([a for a, _ in events if a == "proxy.crashed"]) == 5


def test_a_stream_in_flight_when_the_proxy_is_replaced_ends_at_once_not_after_a_timeout(
    make_proxy: Callable[..., Made],
) -> None:
    """A server that is replaced (here: its loop hung, so it was abandoned) used to leave
    its clients' sockets open: a stream in the middle of its answer waited for bytes that
    never came until the client's read timeout (the 300 s stalls seen under load)."""
    upstream = FakeUpstream().start()
    upstream.hold = threading.Event()  # the answer stops after its first chunk
    try:
        made = make_proxy(
            policy=MANY,
            config_text=internal_config(upstream, f"http://127.0.0.1:{upstream.port}"),  # type: ignore[arg-type]
        )
        made.supervisor.start()
        outcome: list[str] = []
        first_chunk = threading.Event()

        def stream() -> None:
            body = {
                "model": "internal-chat",
                "stream": True,
                "messages": [{"role": "user", "content": "hi"}],
            }
            headers = {"Authorization": f"Bearer {made.key}"}
            timeout = httpx.Timeout(60, connect=5)
            try:
                with (
                    httpx.Client(
                        base_url=made.supervisor.url, timeout=timeout, trust_env=False
                    ) as client,
                    client.stream(
                        "POST", "/v1/chat/completions", json=body, headers=headers
                    ) as response,
                ):
                    for line in response.iter_lines():
                        if "upstream" in line:
                            first_chunk.set()
                outcome.append("ended")
            except httpx.HTTPError as exc:
                outcome.append(type(exc).__name__)

        client = threading.Thread(target=stream, daemon=True)
        client.start()
        assert first_chunk.wait(30), "the stream never started"
        started = time.monotonic()
        _hang(made, 6.0)
        assert wait_for(lambda: _recovered(made, 1), 30), made.supervisor.status()
        client.join(40)
        took = time.monotonic() - started
        assert not client.is_alive(), "the client still waits for its stream"
        assert outcome and outcome[0] != "ReadTimeout", outcome
        assert took < 30, took  # the old loop woke after 6 s and closed the connection
        with httpx.Client(base_url=made.supervisor.url, timeout=30, trust_env=False) as again:
            answer = again.post(
                "/v1/chat/completions",
                json={"model": "internal-chat", "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": f"Bearer {made.key}"},
            )
        assert answer.status_code == 200, answer.text  # and the new server answers
    finally:
        upstream.hold.set()
        upstream.stop()


def test_five_hangs_are_each_detected_reported_and_recovered(
    make_proxy: Callable[..., Made],
) -> None:
    seen: list[tuple[ProxyState, str | None]] = []
    made = make_proxy(policy=MANY)
    made.supervisor.subscribe(lambda _old, new, err: seen.append((new, err)))
    made.supervisor.start()
    hung = []
    for n in range(1, 6):
        seen.clear()
        hung.append(_hang(made, 8.0))
        assert wait_for(lambda n=n: _recovered(made, n), 30), made.supervisor.status()
        assert _serves(made)
        states = [state for state, _ in seen]
        # Reported before it was replaced, in the words `status` shows.
        degraded = states.index(ProxyState.DEGRADED)
        assert degraded < states.index(ProxyState.RESTARTING)
        assert (seen[degraded][1] or "").startswith("not answering")
        assert made.supervisor.state is ProxyState.RUNNING  # the old reason went with it
    records = made.supervisor.status().recent_restarts
    assert all("did not answer" in r.reason for r in records)
    assert all(r.recovered_after_s is not None for r in records)
    # The old loops wake up and end without harming the new server.
    for old in hung:
        old.thread.join(15)
        assert not old.thread.is_alive()
    assert _serves(made)
    assert made.supervisor.status().restarts == 5


def test_status_read_from_another_process_says_not_answering_during_a_hang(
    make_proxy: Callable[..., Made], tmp_path: Path
) -> None:
    policy = WatchdogPolicy(tick_s=0.1, silent_after_s=0.5, hang_timeout_s=30.0)
    made = make_proxy(policy=policy)
    made.supervisor.start()
    status_file = tmp_path / "proxy-status.json"
    publisher = StatusPublisher(
        status_file, made.supervisor.status, subscribe=made.supervisor.subscribe
    )
    publisher.start()
    try:
        assert read_status(status_file).state is ProxyState.RUNNING
        _hang(made, 4.0)
        assert wait_for(lambda: read_status(status_file).state is ProxyState.DEGRADED, 3)
        status = read_status(status_file)
        assert (status.last_error or "").startswith("not answering")
        # It answers again by itself (shorter than the hang timeout): running again.
        assert wait_for(lambda: read_status(status_file).state is ProxyState.RUNNING, 10)
        assert made.supervisor.status().restarts == 0
    finally:
        publisher.stop()


def _busy(seconds: float) -> None:
    """Keep the loop's thread working (moving from call to call), as a long synchronous
    import does on a loaded machine."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += len(json.dumps({"n": n, "items": list(range(n % 50))}))
        n += sum(divmod(n, 7))


def test_a_busy_loop_is_reported_but_not_replaced_before_the_busy_timeout(
    make_proxy: Callable[..., Made],
) -> None:
    seen: list[tuple[ProxyState, str | None]] = []
    made = make_proxy(policy=replace(MANY, busy_silent_after_s=2.5))
    made.supervisor.subscribe(lambda _old, new, err: seen.append((new, err)))
    made.supervisor.start()
    loop = made.supervisor.debug_server().loop
    loop.call_soon_threadsafe(_busy, 4.0)  # twice the hang timeout
    assert wait_for(lambda: ProxyState.DEGRADED in [s for s, _ in seen], 5)
    assert wait_for(lambda: made.supervisor.state is ProxyState.RUNNING, 15)
    assert _serves(made)
    assert made.supervisor.status().restarts == 0
    assert ProxyState.RESTARTING not in [s for s, _ in seen]


def test_a_crash_followed_by_failing_restarts_ends_in_failed_saying_exactly_that(
    make_proxy: Callable[..., Made],
) -> None:
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
    assert wait_for(lambda: made.supervisor.state is ProxyState.FAILED, 30)
    status = made.supervisor.status()
    assert (status.last_error or "").startswith("1 crash, then 5 restarts failed: ")
    assert "DEMO_LABEL_FOR_TEST" in (status.last_error or "")
    assert status.restarts == 1  # one crash; the failed attempts are not crashes
    record = status.recent_restarts[-1]
    assert record.outcome.startswith("failed: 1 crash, then 5 restarts failed")
    assert record.failed_restarts == 5
    # The event follows the state (the state says `failed` first): waited for, not raced.
    assert wait_for(lambda: events[-1][0] == "proxy.failed", 5), events[-3:]
    time.sleep(1)  # and it stays down: no more attempts
    assert made.supervisor.status().restarts == 1
    assert made.supervisor.state is ProxyState.FAILED


def test_a_real_crash_loop_uses_up_the_crash_budget_and_says_how_many(
    make_proxy: Callable[..., Made],
) -> None:
    made = make_proxy(policy=FAST)
    made.supervisor.start()
    for n in range(1, FAST.burst_limit + 1):
        _crash(made)
        assert wait_for(lambda n=n: _recovered(made, n), 30)
    _crash(made)  # one more than the budget
    assert wait_for(lambda: made.supervisor.state is ProxyState.FAILED, 30)
    status = made.supervisor.status()
    assert status.restarts == FAST.burst_limit + 1
    assert f"crashed or hung {FAST.burst_limit + 1} times" in (status.last_error or "")
    assert status.recent_restarts[-1].outcome.startswith("failed: ")
    assert all(r.outcome.startswith("recovered after") for r in status.recent_restarts[:-1])


def test_clients_get_503_with_retry_after_while_the_proxy_restarts(
    make_proxy: Callable[..., Made],
) -> None:
    env: dict[str, str] = {"DEMO_LABEL_FOR_TEST": "x1"}
    text = (
        "model_list:\n  - model_name: demo\n    litellm_params:\n"
        "      model: bridge-demo/echo\n      api_key: os.environ/DEMO_LABEL_FOR_TEST\n"
        "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
    slow = WatchdogPolicy(tick_s=0.1, backoff_base_s=1.0, backoff_cap_s=1.0)
    made = make_proxy(config_text=text, policy=slow, environment=lambda: dict(env))
    made.supervisor.start()
    env.clear()  # the restarts fail for now: the proxy stays in `restarting`
    _crash(made)
    assert wait_for(lambda: made.supervisor.state is ProxyState.RESTARTING, 10)
    with httpx.Client(base_url=made.supervisor.url, timeout=5, trust_env=False) as client:
        response = client.send(build(client, "chat", made.key))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "restarting" in response.json()["error"]["message"]
    env["DEMO_LABEL_FOR_TEST"] = "x1"  # the next attempt works
    assert wait_for(lambda: made.supervisor.state is ProxyState.RUNNING, 20)
    assert _serves(made)
    assert made.supervisor.status().recent_restarts[-1].failed_restarts >= 1


def test_the_port_is_released_when_the_proxy_stops(make_proxy: Callable[..., Made]) -> None:
    made = make_proxy()
    made.supervisor.start()
    port = made.supervisor.port
    _crash(made)
    assert wait_for(lambda: _recovered(made, 1), 30)
    made.supervisor.stop()
    with socket.socket() as sock:
        sock.settimeout(1)
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    assert not [t for t in threading.enumerate() if t.name == "bridge-proxy-fallback"]


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
