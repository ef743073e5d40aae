"""The ledger: a durable local record of what this target wrote, so a rerun never writes twice.

The API has no idempotency keys, so the target keeps its own: for each (scope = the target API
and organization, stream, source key) the LiveSwitch id it created or matched and a hash of the
payload. SQLite gives atomic, durable commits (WAL, synchronous=FULL) and survives a SIGKILL at
any point; a lock serializes the sinks' threads.

A create goes through two commits: `begin` (state `pending`) before the request and `commit`
(state `done`, with the id) right after the 2xx answer, before the next record is read. A
`pending` entry found later means a run died, or a request failed ambiguously, while that create
was in flight: it may exist in LiveSwitch, and the caller must not blindly send it again.

In a dry run the ledger is read but never changed: writes go to an in-memory overlay.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

PENDING = "pending"
DONE = "done"

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    scope TEXT NOT NULL,
    stream TEXT NOT NULL,
    source_key TEXT NOT NULL,
    target_id TEXT,
    payload_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, stream, source_key)
)
"""


@dataclass(frozen=True)
class LedgerEntry:
    target_id: str | None
    payload_hash: str
    state: str
    updated_at: str = ""  # ISO-8601 UTC: for a pending entry, when its request was about to go

    @property
    def pending(self) -> bool:
        return self.state == PENDING


class LedgerError(Exception):
    """The ledger file cannot be used; the message names the path."""


class Ledger:
    def __init__(self, path: Path, scope: str, *, read_only: bool = False) -> None:
        self.path = path
        self.scope = scope
        self.read_only = read_only
        self._lock = threading.Lock()
        self._overlay: dict[tuple[str, str], LedgerEntry | None] = {}
        self._db: sqlite3.Connection | None = None
        if read_only and not path.exists():
            return  # a dry run creates no file
        try:
            if not path.parent.exists():
                path.parent.mkdir(parents=True, mode=0o700)
            # isolation_level=None: each statement commits on its own, durably.
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            if not read_only:
                self._db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            msg = f"ledger_path {path}: cannot be opened ({exc})"
            raise LedgerError(msg) from None

    def get(self, stream: str, source_key: str) -> LedgerEntry | None:
        with self._lock:
            if (stream, source_key) in self._overlay:
                return self._overlay[stream, source_key]
            if self._db is None:
                return None
            try:
                row = self._db.execute(
                    "SELECT target_id, payload_hash, state, updated_at FROM entries "
                    "WHERE scope = ? AND stream = ? AND source_key = ?",
                    (self.scope, stream, source_key),
                ).fetchone()
            except sqlite3.OperationalError:  # a dry run on a ledger without the table yet
                return None
        return LedgerEntry(*row) if row else None

    def claimed(self, stream: str) -> set[str]:
        """The LiveSwitch ids some source record of `stream` already corresponds to."""
        with self._lock:
            ids = {e.target_id for e in self._overlay.values() if e and e.target_id}
            if self._db is None:
                return ids
            try:
                rows = self._db.execute(
                    "SELECT target_id FROM entries WHERE scope = ? AND stream = ? "
                    "AND target_id IS NOT NULL",
                    (self.scope, stream),
                ).fetchall()
            except sqlite3.OperationalError:  # a dry run on a ledger without the table yet
                return ids
        return ids | {row[0] for row in rows}

    def begin(self, stream: str, source_key: str, payload_hash: str) -> LedgerEntry:
        """Mark a create as in flight, durably, before its request goes out."""
        entry = LedgerEntry(None, payload_hash, PENDING, _now())
        self._put(stream, source_key, entry)
        return entry

    def commit(self, stream: str, source_key: str, target_id: str, payload_hash: str) -> None:
        """Record the LiveSwitch id a source record now corresponds to, durably."""
        self._put(stream, source_key, LedgerEntry(target_id, payload_hash, DONE, _now()))

    def forget(self, stream: str, source_key: str) -> None:
        """Drop a pending mark: the create was refused, so nothing exists."""
        with self._lock:
            if self.read_only:
                self._overlay[stream, source_key] = None
                return
            assert self._db is not None
            self._db.execute(
                "DELETE FROM entries WHERE scope = ? AND stream = ? AND source_key = ?",
                (self.scope, stream, source_key),
            )

    def _put(self, stream: str, source_key: str, entry: LedgerEntry) -> None:
        with self._lock:
            if self.read_only:
                self._overlay[stream, source_key] = entry
                return
            assert self._db is not None
            self._db.execute(
                "INSERT OR REPLACE INTO entries "
                "(scope, stream, source_key, target_id, payload_hash, state, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.scope,
                    stream,
                    source_key,
                    entry.target_id,
                    entry.payload_hash,
                    entry.state,
                    entry.updated_at,
                ),
            )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()
