"""Counters behind `GET /_sandbox/stats`: what clients asked and what the sandbox did."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from .data import CONTACT, CONVERSATION, Event

FAULT_KINDS = ("500", "502", "503", "drop", "malformed")
GRANTS = ("authorization_code", "refresh_token")
ENTITY_COLLECTIONS = {CONTACT: "contacts", CONVERSATION: "conversations", "webhook": "webhooks"}
EVENT_COUNTERS = {"CREATE": "created", "UPDATE": "updated", "DELETE": "deleted"}


class Stats:
    """Thread-safe counters; `snapshot` returns the documented shape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.grants = dict.fromkeys(GRANTS, 0)
        self.events = {"rotations": 0, "reuse_within_leeway": 0, "family_revocations": 0}
        self.faults = dict.fromkeys(FAULT_KINDS, 0)
        self.records = {
            name: {"created": 0, "updated": 0, "deleted": 0} for name in ENTITY_COLLECTIONS.values()
        }
        self.webhook_deliveries = 0

    def served(self, template: str, status: int | None) -> None:
        """One request ("METHOD /path/template") and its status (None: dropped, no answer)."""
        with self._lock:
            self.requests[template] += 1
            if status is not None:
                self.statuses[str(status)] += 1

    def grant(self, grant_type: str) -> None:
        with self._lock:
            self.grants[grant_type] += 1

    def bump(self, name: str) -> None:
        """rotations, reuse_within_leeway or family_revocations."""
        with self._lock:
            self.events[name] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def mutations(self, events: list[Event]) -> None:
        with self._lock:
            for event in events:
                self.records[ENTITY_COLLECTIONS[event.entity]][EVENT_COUNTERS[event.event]] += 1

    def delivered(self) -> None:
        with self._lock:
            self.webhook_deliveries += 1

    def snapshot(self, counts: dict[str, int]) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "statuses": dict(self.statuses),
                "grants": dict(self.grants),
                **self.events,
                "faults": dict(self.faults),
                "records": {name: dict(values) for name, values in self.records.items()},
                "counts": dict(counts),
                "webhook_deliveries": self.webhook_deliveries,
            }
