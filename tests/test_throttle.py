"""The shared Throttle, narrowly: the server's window headers, a learned rate, 429 pauses.

Answers are hand-built `requests.Response` objects; no request leaves the process. The wire
tests (tests/tap, tests/target) run the same rules against a rate-limited sandbox.
"""

from __future__ import annotations

import contextlib
import threading
import time

import requests
from singer_sdk.exceptions import RetriableAPIError

from liveswitch_api import wire
from liveswitch_api.throttle import LEARNED_SHARE, Throttle


def answer(status: int = 200, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def window(left: int, resets: float) -> requests.Response:
    return answer(
        **{wire.RATE_LIMIT_REMAINING_HEADER: str(left), wire.RATE_LIMIT_RESET_HEADER: str(resets)}
    )


def start_in_thread(throttle: Throttle) -> tuple[threading.Thread, list[float]]:
    """Take and release a slot in a thread; the wall time it got it is appended to the list."""
    started: list[float] = []

    def take() -> None:
        with throttle.slot():
            started.append(time.time())

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread, started


def test_no_request_starts_once_the_window_is_spent() -> None:
    throttle = Throttle(4)
    resets = time.time() + 0.3
    throttle.observe(window(0, resets))
    thread, started = start_in_thread(throttle)
    thread.join(5)
    assert started
    assert started[0] >= resets


def test_requests_in_flight_count_against_what_is_left() -> None:
    throttle = Throttle(4)
    resets = time.time() + 0.3
    throttle.observe(window(2, resets))
    with throttle.slot(), throttle.slot():
        # two in flight may use up the two left: a third waits
        thread, started = start_in_thread(throttle)
        thread.join(0.1)
        assert not started
        throttle.observe(window(0, resets))  # they did: it waits for the reset
    thread.join(5)
    assert started
    assert started[0] >= resets


def test_a_reset_in_seconds_from_now_is_read_too() -> None:
    throttle = Throttle(1)
    throttle.observe(window(0, 0.3))  # not a Unix time: seconds from now
    before = time.time()
    thread, started = start_in_thread(throttle)
    thread.join(5)
    assert started
    assert started[0] >= before + 0.25


def test_windows_that_are_over_or_far_away_are_not_waited_for() -> None:
    throttle = Throttle(1)
    throttle.observe(window(0, time.time() - 5))  # over
    throttle.observe(window(0, time.time() + 86_400))  # a daily quota: its 429 will say
    thread, started = start_in_thread(throttle)
    thread.join(5)
    assert started, "a slot was refused for a window that should be ignored"


def refused_after(throttle: Throttle, successes: int, retry_after: str) -> None:
    """`successes` answered requests, then one refused with a 429."""
    ok = throttle.wrap(lambda: None)
    for _ in range(successes):
        ok()

    def refused() -> None:
        response = answer(wire.TOO_MANY_REQUESTS, **{"Retry-After": retry_after})
        raise RetriableAPIError("HTTP 429", response)

    with contextlib.suppress(RetriableAPIError):
        throttle.wrap(refused)()


def test_a_429_without_window_headers_teaches_the_rate_the_server_allowed() -> None:
    throttle = Throttle(8)
    refused_after(throttle, 20, "0.2")
    assert throttle.limit == 4, "a 429 halves the requests in flight"
    thread, _started = start_in_thread(throttle)  # after the pause, the lesson is drawn
    thread.join(5)
    assert throttle.learned_rate == 20 * LEARNED_SHARE
    # and starts are spaced at that rate from then on
    with throttle.slot():
        first = time.monotonic()
    with throttle.slot():
        second = time.monotonic()
    assert second - first >= 0.9 / throttle.learned_rate


def test_a_later_429_lowers_the_learned_rate() -> None:
    throttle = Throttle(8)
    refused_after(throttle, 20, "0.05")
    with throttle.slot():
        pass
    learned = throttle.learned_rate
    refused_after(throttle, 1, "0.05")
    assert throttle.learned_rate == learned * LEARNED_SHARE


def test_with_window_headers_a_429_teaches_no_rate() -> None:
    throttle = Throttle(8)
    throttle.observe(window(5, time.time() + 0.5))
    refused_after(throttle, 20, "0.05")
    with throttle.slot():
        pass
    assert throttle.learned_rate == 0
