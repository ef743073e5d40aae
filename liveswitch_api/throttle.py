"""How many requests may be in flight, and how fast they may start.

`Throttle` is shared by every thread of a run (the tap's page fetchers, the target's writers):
- at most `limit` requests in flight; `limit` starts at the configured maximum, halves on each
  429 and grows back by one after `limit * GROWTH_STREAK` successes in a row;
- after a 429 with `Retry-After`, no thread starts a request until that time has passed, so one
  throttled answer pauses the whole run instead of each thread finding out for itself;
- an optional requests-per-second cap spaces the starts evenly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from singer_sdk.exceptions import RetriableAPIError

from liveswitch_api import wire
from liveswitch_api.retry import retry_after_seconds

T = TypeVar("T")

# Successes in a row, per unit of the current limit, before the limit grows by one.
GROWTH_STREAK = 4
# Pause after a 429 that names no Retry-After.
DEFAULT_THROTTLE_PAUSE = 1.0


class Throttle:
    def __init__(
        self, max_in_flight: int = 1, max_per_second: float | Decimal | None = None
    ) -> None:
        # the SDK parses config floats as Decimal
        self.max_in_flight = max(1, max_in_flight)
        self.limit = self.max_in_flight
        self._interval = 1.0 / float(max_per_second) if max_per_second else 0.0
        self._in_flight = 0
        self._streak = 0
        self._paused_until = 0.0
        self._next_start = 0.0
        self._changed = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one in-flight slot for the duration of a request attempt."""
        self._acquire()
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    def _acquire(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    self._changed.wait(self._paused_until - now)
                elif self._in_flight >= self.limit:
                    self._changed.wait()
                else:
                    break
            self._in_flight += 1
            start = max(now, self._next_start)
            self._next_start = start + self._interval
        if start > now:
            time.sleep(start - now)

    def succeeded(self) -> None:
        with self._changed:
            self._streak += 1
            if self.limit < self.max_in_flight and self._streak >= self.limit * GROWTH_STREAK:
                self.limit += 1
                self._streak = 0
                self._changed.notify_all()

    def throttled(self, retry_after: float | None) -> None:
        with self._changed:
            self.limit = max(1, self.limit // 2)
            self._streak = 0
            pause = DEFAULT_THROTTLE_PAUSE if retry_after is None else retry_after
            self._paused_until = max(self._paused_until, time.monotonic() + pause)

    def wrap(self, func: Callable[..., T]) -> Callable[..., T]:
        """`func` (one request attempt) run inside a slot, its 429s and successes counted."""

        def attempt(*args: Any, **kwargs: Any) -> T:
            with self.slot():
                try:
                    result = func(*args, **kwargs)
                except RetriableAPIError as error:
                    response = error.response
                    if response is not None and response.status_code == wire.TOO_MANY_REQUESTS:
                        self.throttled(retry_after_seconds(response))
                    raise
                self.succeeded()
                return result

        return attempt
