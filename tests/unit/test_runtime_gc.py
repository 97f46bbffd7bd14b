"""The collector pause around start-up work (runtime/_gc.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from bridge_app.runtime import collector_paused, pause_collector


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_while_any_pause_is_held_and_on_again_after_the_last() -> None:
    gc.enable()
    gc.unfreeze()
    first = pause_collector()
    assert not gc.isenabled()
    second_done = threading.Event()
    second_holding = threading.Event()

    def other_thread() -> None:
        with collector_paused():
            second_holding.set()
            second_done.wait(10)

    thread = threading.Thread(target=other_thread)
    thread.start()
    assert second_holding.wait(10)
    first()
    first()  # a second call of the same release changes nothing
    assert not gc.isenabled(), "another thread still holds a pause"
    assert gc.get_freeze_count() == 0
    second_done.set()
    thread.join(10)
    assert gc.isenabled()
    # What was alive when the last pause ended is in the permanent generation now, so
    # later full collections do not scan it again.
    assert gc.get_freeze_count() > 0


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_failing_block_still_ends_its_pause() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_pause_without_freeze_leaves_its_garbage_collectable() -> None:
    """A proxy restart pauses without freezing: the previous server's reference cycles,
    not yet collected when the pause ends, are still freed by the next collection."""
    import weakref

    class Node:
        other: object = None

    gc.enable()
    gc.unfreeze()
    with collector_paused(freeze=False):
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None


def test_the_freeze_comes_when_the_last_freezing_pause_ends() -> None:
    gc.enable()
    gc.unfreeze()
    outer = pause_collector(freeze=False)
    with collector_paused():  # e.g. LiteLLM's import inside the first start
        pass
    frozen = gc.get_freeze_count()
    assert frozen > 0 and not gc.isenabled(), "frozen, the collector still paused"
    outer()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
