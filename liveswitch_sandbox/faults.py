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

from .stats import FAULT_KINDS


class FaultPlan:
    def __init__(self, seed: int, rate: float) -> None:
        self.seed = seed
        self.rate = rate
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

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


class RateLimiter:
    """At most `limit` requests in each wall-clock second; 0 switches it off."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._window = 0
        self._count = 0
        self._lock = threading.Lock()

    def check(self) -> tuple[bool, list[tuple[str, str]]]:
        """(allowed, headers): x-ratelimit-* always, Retry-After when refused."""
        now = time.time()
        window = int(now)
        with self._lock:
            if window != self._window:
                self._window, self._count = window, 0
            allowed = self._count < self.limit
            if allowed:
                self._count += 1
            remaining = self.limit - self._count
        reset = window + 1
        headers = [
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(remaining)),
            ("x-ratelimit-reset", str(reset)),
        ]
        if not allowed:
            headers.append(("Retry-After", str(max(1, math.ceil(reset - now)))))
        return allowed, headers
