"""runtime.Ticker and runtime.Observers: the background loop and the observer list the app's
watchers, writers and states share."""

from __future__ import annotations

import threading
import time

import pytest

from bridge_app.runtime import Ticker


def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_it_steps_every_interval_until_stopped() -> None:
    calls: list[int] = []
    ticker = Ticker(lambda: calls.append(1), interval=0.02, name="t")
    ticker.start()
    ticker.start()  # a second start is the same thread
    assert [t.name for t in threading.enumerate()].count("t") == 1
    wait_for(lambda: len(calls) >= 3)
    assert ticker.stop() is True and not ticker.running
    count = len(calls)
    time.sleep(0.1)
    assert len(calls) == count  # nothing after stop


def test_at_start_steps_before_the_first_interval() -> None:
    calls: list[int] = []
    ticker = Ticker(lambda: calls.append(1), interval=3600, name="t", at_start=True)
    ticker.start()
    wait_for(lambda: calls == [1])  # an hour before the first tick
    assert ticker.stop() is True


def test_stop_wakes_a_long_interval_at_once_and_wake_runs_the_step_now() -> None:
    calls: list[int] = []
    ticker = Ticker(lambda: calls.append(1), interval=3600, name="t")
    ticker.start()
    ticker.wake()
    wait_for(lambda: calls == [1])
    assert ticker.stop(timeout=5) is True  # woken, not left waiting out the hour


def test_a_failing_step_is_logged_and_the_next_tick_runs(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    ticker = Ticker(step, interval=0.02, name="flaky")
    ticker.start()
    wait_for(lambda: len(calls) >= 2)
    ticker.stop()
    assert "flaky: a step failed; the next tick tries again" in caplog.text


def test_a_step_that_outlives_stop_does_not_run_on_beside_a_new_start() -> None:
    release = threading.Event()
    calls: list[str] = []

    def step() -> None:
        calls.append(threading.current_thread().name)
        release.wait(5)

    ticker = Ticker(step, interval=0.01, name="slow", at_start=True)
    ticker.start()
    wait_for(lambda: len(calls) == 1)
    assert ticker.stop(timeout=0.05) is False  # the step is still running
    ticker.start()  # a new thread
    wait_for(lambda: len(calls) == 2)
    release.set()
    assert ticker.stop() is True
    time.sleep(0.1)
    old_threads = [t for t in threading.enumerate() if t.name == "slow"]
    assert old_threads == []  # the outlived one ended on its own stop event


def test_observers_all_hear_a_change_even_when_one_fails(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from bridge_app.runtime import Observers

    heard: list[tuple[str, int]] = []
    observers: Observers[[str, int]] = Observers(what="demo", logger=logging.getLogger("t"))

    def failing(name: str, value: int) -> None:
        raise RuntimeError("boom")

    observers.subscribe(failing)
    unsubscribe = observers.subscribe(lambda name, value: heard.append((name, value)))
    observers.notify("a", 1)
    unsubscribe()
    unsubscribe()  # twice is harmless
    observers.notify("b", 2)
    assert heard == [("a", 1)]
    assert "a demo observer failed" in caplog.text and "boom" in caplog.text
