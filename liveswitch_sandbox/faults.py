"""Seeded fault injection and the request-rate limit.

A fault is decided per request from a hash of (seed, method, path+query, how many times that
exact request was seen), so the same request sequence meets the same faults whatever the
thread interleaving. The rate limit counts requests in one-second windows.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter

from liveswitch_api import wire

from .stats import FAULT_KINDS


class FaultPlan:
    def __init__(self, seed: int, rate: float) -> None:
        self.seed = seed
        self.rate = rate
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def seed_faulting_first(cls, rate: float, method: str, target: str) -> int:
        """A seed whose first `method target` request is faulted at `rate`: for a test that
        needs one particular request to fail once."""
        return next(s for s in range(10_000) if cls(s, rate).decide(method, target))

    def decide(self, method: str, target: str) -> str | None:
        """The fault kind for this request (one of FAULT_KINDS), or None to serve it."""
        if self.rate <= 0:
            return None
        with self._lock:
            self._seen[method, target] += 1
            seen = self._seen[method, target]
        digest = hashlib.blake2b(
            f"{self.seed}\n{method}\n{target}\n{seen}".encode(), digest_size=16
        ).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= self.rate:
            return None
        return FAULT_KINDS[digest[8] % len(FAULT_KINDS)]


# An hour of per-window counts is kept for /_sandbox/stats.
KEPT_WINDOWS = 3600


class RateLimiter:
    """At most `limit` requests in each wall-clock second; 0 switches it off.

    `window_headers` False plays a server that answers 429 with Retry-After only.
    """

    def __init__(self, limit: int, window_headers: bool = True) -> None:
        self.limit = limit
        self.window_headers = window_headers
        self._window = 0
        self._count = 0
        # requests allowed in each recent window, for a client's achieved rate (benchmarks)
        self._allowed: dict[int, int] = {}
        self._lock = threading.Lock()

    def check(self) -> tuple[bool, list[tuple[str, str]]]:
        """(allowed, headers): x-ratelimit-* (unless switched off), Retry-After when refused."""
        now = time.time()
        window = int(now)
        with self._lock:
            if window != self._window:
                self._window, self._count = window, 0
                if len(self._allowed) >= KEPT_WINDOWS:
                    del self._allowed[next(iter(self._allowed))]
            allowed = self._count < self.limit
            if allowed:
                self._count += 1
                self._allowed[window] = self._count
            remaining = self.limit - self._count
        reset = window + 1
        headers = []
        if self.window_headers:
            headers = [
                ("x-ratelimit-limit", str(self.limit)),
                (wire.RATE_LIMIT_REMAINING_HEADER, str(remaining)),
                (wire.RATE_LIMIT_RESET_HEADER, str(reset)),
            ]
        if not allowed:
            headers.append(("Retry-After", str(max(1, math.ceil(reset - now)))))
        return allowed, headers

    def allowed_per_window(self) -> dict[str, int]:
        """Requests allowed in each recent window, keyed by its start (Unix seconds)."""
        with self._lock:
            return {str(window): count for window, count in self._allowed.items()}
