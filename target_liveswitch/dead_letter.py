"""The dead letter: one JSON line per rejected record, appended and flushed to disk at once.

A line holds the stream, the record as received, the HTTP status (null when the target refused
the record itself), the API's error message and the time. Messages come from the API's error
fields or the target's own words, never from request headers, so no token can end up here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import IO, Any


class DeadLetter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None

    def write(self, stream: str, record: dict[str, Any], status: int | None, message: str) -> None:
        line = json.dumps(
            {
                "stream": stream,
                "record": record,
                "status": status,
                "error": message,
                "time": dt.datetime.now(dt.timezone.utc).isoformat(),
            },
            default=str,
        )
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(line + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self.lines += 1

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
