"""What happened to each record: per-stream counts, the summary, and the failure budget."""

from __future__ import annotations

import enum
import logging
import threading
from collections import Counter


class Outcome(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    REJECTED = "rejected"
    SKIPPED = "skipped"


SUMMARY_COLUMNS = (
    Outcome.CREATED,
    Outcome.UPDATED,
    Outcome.UNCHANGED,
    Outcome.REJECTED,
    Outcome.SKIPPED,
)


class RunReport:
    """Thread-safe counters of outcomes per stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[Outcome]] = {}

    def count(self, stream: str, outcome: Outcome) -> None:
        with self._lock:
            self._counts.setdefault(stream, Counter())[outcome] += 1

    def get(self, stream: str, outcome: Outcome) -> int:
        with self._lock:
            return self._counts.get(stream, Counter())[outcome]

    @property
    def rejected(self) -> int:
        with self._lock:
            return sum(counts[Outcome.REJECTED] for counts in self._counts.values())

    def summary_lines(self) -> list[str]:
        """One line per stream: `contacts: created 3, updated 1, ...` (deleted when any)."""
        with self._lock:
            lines = []
            for stream, counts in sorted(self._counts.items()):
                columns = list(SUMMARY_COLUMNS)
                if counts[Outcome.DELETED]:
                    columns.insert(3, Outcome.DELETED)
                parts = ", ".join(f"{column.value} {counts[column]}" for column in columns)
                lines.append(f"{stream}: {parts}")
            return lines

    def log_summary(self, logger: logging.Logger, *, dry_run: bool) -> None:
        prefix = "dry run (nothing was written): " if dry_run else ""
        lines = self.summary_lines() or ["no records"]
        for line in lines:
            logger.info("Summary: %s%s", prefix, line)
