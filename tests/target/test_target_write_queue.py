"""The write queue on its own: per-key order, STATE watermark, failures. Threads held by events,
so every assertion follows from the order of events, not from timing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from target_liveswitch.write_queue import WriteQueue

WAIT = 30  # seconds before a stuck test fails instead of hanging


def held(log: list[str], name: str, gate: threading.Event | None = None) -> Callable[[], None]:
    """A task that waits for `gate` (if any), then logs `name`."""

    def work() -> None:
        if gate is not None:
            assert gate.wait(WAIT), f"{name} was never released"
        log.append(name)

    return work


def test_same_key_in_input_order_other_keys_overlap() -> None:
    queue = WriteQueue(4)
    log: list[str] = []
    first_gate = threading.Event()
    queue.submit(["contact-1"], held(log, "a1", first_gate))
    queue.submit(["contact-1", "phone-9"], held(log, "a2"))
    b_ran = threading.Event()

    def b1() -> None:
        log.append("b1")
        b_ran.set()

    queue.submit(["contact-2"], b1)
    # b1 shares no key with the held a1, so it runs; a2 waits behind a1.
    assert b_ran.wait(WAIT)
    assert log == ["b1"]
    first_gate.set()
    queue.drain()
    assert log == ["b1", "a1", "a2"]
    queue.close()


def test_a_state_waits_for_every_earlier_write_and_only_those() -> None:
    queue = WriteQueue(4)
    log: list[str] = []
    gate = threading.Event()
    queue.submit(["x"], held(log, "slow", gate))
    queue.submit(["y"], held(log, "fast"))
    queue.after_pending(lambda: log.append("STATE 1"))
    queue.submit(["z"], held(log, "later"))
    queue.after_pending(lambda: log.append("STATE 2"))
    gate.set()
    queue.drain()
    assert log.index("STATE 1") > log.index("slow")
    assert log.index("STATE 1") > log.index("fast")
    assert log.index("STATE 2") > log.index("STATE 1")
    assert log.index("STATE 2") > log.index("later")
    queue.close()


def test_a_failure_stops_later_work_and_is_raised_on_the_reading_thread() -> None:
    queue = WriteQueue(2)
    log: list[str] = []
    gate = threading.Event()

    def fail() -> None:
        assert gate.wait(WAIT)
        raise RuntimeError("the run cannot go on")

    queue.submit(["k"], fail)
    queue.submit(["k"], held(log, "after the failure, same key"))
    queue.after_pending(lambda: log.append("STATE"))
    gate.set()
    with pytest.raises(RuntimeError, match="cannot go on"):
        queue.drain()
    with pytest.raises(RuntimeError, match="cannot go on"):
        queue.submit(["other"], held(log, "submitted after"))
    queue.close()
    assert log == []  # nothing after it ran, and the STATE was never passed on


def test_one_worker_runs_each_write_as_it_is_submitted() -> None:
    queue = WriteQueue(1)
    log: list[str] = []
    queue.submit(["a"], held(log, "first"))
    assert log == ["first"]
    queue.after_pending(lambda: log.append("STATE"))
    assert log == ["first", "STATE"]

    def fail() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        queue.submit(["b"], fail)
    queue.close()
