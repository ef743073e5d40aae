"""How many requests may be in flight, and how fast they may start.

`Throttle` is shared by every thread of a run (the tap's page fetchers, the target's writers):
- at most `limit` requests in flight; `limit` starts at the configured maximum, halves on each
  429 and grows back by one after `limit * GROWTH_STREAK` successes in a row;
- after a 429 with `Retry-After`, no thread starts a request until that time has passed, so one
  throttled answer pauses the whole run instead of each thread finding out for itself;
- where answers carry the server's rate-limit window (`x-ratelimit-remaining`/`-reset`, read by
  `observe`, a requests response hook), no request starts that the window has no room for: the
  run waits for the reset instead of being refused;
- a server that says nothing of its window is measured instead: at a first 429, the answers
  of the second before it are what the server allowed, and from then on starts are spaced at
  `LEARNED_SHARE` of that rate; each later 429 lowers it by as much again, and each
  `RATE_PROBE_SECONDS` without one raises it by one request a second (a limit shared with
  another client, or raised, is found again);
- an optional requests-per-second cap spaces the starts evenly.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import requests
from singer_sdk.exceptions import RetriableAPIError

from liveswitch_api import wire
from liveswitch_api.retry import MAX_RETRY_AFTER_SECONDS, retry_after_seconds

T = TypeVar("T")

# Successes in a row, per unit of the current limit, before the limit grows by one.
GROWTH_STREAK = 4
# Pause after a 429 that names no Retry-After.
DEFAULT_THROTTLE_PAUSE = 1.0
# Window ends this close together are one window (a reset given as seconds from now jitters).
SAME_WINDOW_SECONDS = 0.5
# After a 429 from a server without window headers: the share of the rate it had allowed that
# requests are then started at (spaced starts at the exact limit still meet it, by jitter), and
# how long without a 429 before trying one request a second more.
LEARNED_SHARE = 0.95
RATE_PROBE_SECONDS = 10.0
# Start times of successful requests kept for that lesson: a second's worth at up to this rate.
SUCCESSES_KEPT = 4096


class Throttle:
    def __init__(
        self, max_in_flight: int = 1, max_per_second: float | Decimal | None = None
    ) -> None:
        # the SDK parses config floats as Decimal
        self.max_in_flight = max(1, max_in_flight)
        self.limit = self.max_in_flight
        self._capped_interval = 1.0 / float(max_per_second) if max_per_second else 0.0
        self._interval = self._capped_interval
        self._learned_rate = 0.0  # requests a second, learned at the last 429 (0: none yet)
        self._rate_since = 0.0  # when the learned rate was last set or raised
        # when the latest successful requests started, and a 429's lesson not yet drawn
        self._succeeded_starts: deque[float] = deque(maxlen=SUCCESSES_KEPT)
        self._lesson: tuple[float, float] | None = None
        self._in_flight = 0
        self._streak = 0
        self._paused_until = 0.0
        self._next_start = 0.0
        # the server's rate-limit window, as its latest answer told: requests left, and the Unix
        # time it resets (0: no window known)
        self._window_left = 0
        self._window_ends = 0.0
        self._changed = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold one in-flight slot for the duration of a request attempt; yields its start."""
        started = self._acquire()
        try:
            yield started
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    def _acquire(self) -> float:
        with self._changed:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    self._changed.wait(self._paused_until - now)
                elif self._lesson is not None:
                    self._draw_lesson()
                elif self._in_flight >= self.limit:
                    self._changed.wait()
                elif window_wait := self._window_wait():
                    self._changed.wait(window_wait)
                else:
                    break
            self._in_flight += 1
            start = max(now, self._next_start)
            self._next_start = start + self._interval
        if start > now:
            time.sleep(start - now)
        return start

    @property
    def learned_rate(self) -> float:
        """Requests a second learned from 429s without window headers; 0 until one comes."""
        return self._learned_rate

    def _window_wait(self) -> float:
        """Seconds until the server's window resets, if the requests in flight may use up what
        is left of it; else 0. (A request answered but still holding its slot is counted as in
        flight: one request short of the limit at worst, never one over.)"""
        wait = self._window_ends - time.time()
        return wait if wait > 0 and self._window_left <= self._in_flight else 0.0

    def observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A requests response hook: remember the rate-limit window the answer reports."""
        now = time.time()
        window = wire.rate_limit_window(response.headers, now)
        if window is None:
            return
        left, ends = window
        if ends - now > MAX_RETRY_AFTER_SECONDS:
            return  # a daily quota, say: not waited for ahead of time; a 429 will say
        with self._changed:
            if ends > self._window_ends + SAME_WINDOW_SECONDS:
                self._window_left, self._window_ends = left, ends
            elif ends >= self._window_ends - SAME_WINDOW_SECONDS:
                self._window_left = min(self._window_left, left)
            # else: an answer from a window already over tells nothing

    def succeeded(self, started: float) -> None:
        now = time.monotonic()
        with self._changed:
            self._succeeded_starts.append(started)
            self._streak += 1
            if self.limit < self.max_in_flight and self._streak >= self.limit * GROWTH_STREAK:
                self.limit += 1
                self._streak = 0
                self._changed.notify_all()
            if self._learned_rate and now - self._rate_since >= RATE_PROBE_SECONDS:
                self._learn_rate(self._learned_rate + 1.0, now)

    def throttled(self, retry_after: float | None) -> None:
        now = time.monotonic()
        with self._changed:
            self.limit = max(1, self.limit // 2)
            self._streak = 0
            # 429s of requests sent before the pause began teach nothing more
            lesson = now >= self._paused_until and self._window_ends < time.time()
            resumed_at = self._paused_until
            pause = DEFAULT_THROTTLE_PAUSE if retry_after is None else retry_after
            self._paused_until = max(self._paused_until, now + pause)
            if not lesson:
                return
            if self._learned_rate:
                self._learn_rate(self._learned_rate * LEARNED_SHARE, now)
            else:
                # drawn when the pause ends, once the requests started before now are in
                self._lesson = (now, resumed_at)

    def _draw_lesson(self) -> None:
        """The server's rate: the successful requests started in the second before the 429."""
        assert self._lesson is not None
        refused, resumed_at = self._lesson
        self._lesson = None
        since = max(refused - 1.0, resumed_at)
        allowed = sum(1 for started in self._succeeded_starts if since < started <= refused)
        if allowed:
            self._learn_rate(allowed * LEARNED_SHARE, time.monotonic())

    def _learn_rate(self, rate: float, now: float) -> None:
        self._learned_rate = rate
        self._rate_since = now
        self._interval = max(self._capped_interval, 1.0 / rate)

    def wrap(self, func: Callable[..., T]) -> Callable[..., T]:
        """`func` (one request attempt) run inside a slot, its 429s and successes counted."""

        def attempt(*args: Any, **kwargs: Any) -> T:
            with self.slot() as started:
                try:
                    result = func(*args, **kwargs)
                except RetriableAPIError as error:
                    response = error.response
                    if response is not None and response.status_code == wire.TOO_MANY_REQUESTS:
                        self.throttled(retry_after_seconds(response))
                    raise
                self.succeeded(started)
                return result

        return attempt
