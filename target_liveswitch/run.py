"""One target run: what every sink shares (the API client and its throttle, ledger, match
index, dead letter, counts and the write queue), built on first use so `--about` and config
errors never touch the network."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast

from liveswitch_api import wire
from liveswitch_api.client import ApiClient, ApiError
from liveswitch_api.throttle import Throttle
from target_liveswitch import settings
from target_liveswitch.contacts import ContactIndex
from target_liveswitch.dead_letter import DeadLetter
from target_liveswitch.errors import RecordsRejectedError, RunAbortedError
from target_liveswitch.ledger import Ledger
from target_liveswitch.report import Outcome, RunReport
from target_liveswitch.webhooks import WebhookSet
from target_liveswitch.write_queue import WriteQueue

T = TypeVar("T")

# How long a stopped run waits for the writes already in flight: a scheduler's kill usually
# follows SIGTERM within 10 to 30 seconds.
STOP_GRACE_SECONDS = 10.0


class Run:
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.dry_run = bool(config.get("dry_run"))
        self.write_mode: str = config.get("write_mode") or "upsert"
        self.report = RunReport()
        self.dead_letter = DeadLetter(settings.dead_letter_path(config))
        self.max_failures: int | None = config.get("max_failures")
        self._placeholders = itertools.count(1)
        writers = int(config.get("max_concurrent_writes") or settings.DEFAULT_CONCURRENT_WRITES)
        self.writes = WriteQueue(writers, thread_name="target-liveswitch-write")
        # one throttle for every sink's requests: a 429 slows the whole run
        self.throttle = Throttle(writers, config.get("max_requests_per_second"))
        self._building = threading.RLock()
        self._built: dict[str, object] = {}

    @property
    def api(self) -> ApiClient:
        return self._once(
            "api", lambda: ApiClient.from_config(self.config, self.logger, throttle=self.throttle)
        )

    @property
    def ledger(self) -> Ledger:
        return self._once("ledger", self._open_ledger)

    @property
    def contacts(self) -> ContactIndex:
        return self._once(
            "contacts",
            lambda: ContactIndex(
                lambda: self.api.iter_records(wire.CONTACTS, wire.DEFAULT_PAGE_SIZE), self.logger
            ),
        )

    @property
    def webhooks(self) -> WebhookSet:
        return self._once(
            "webhooks",
            lambda: WebhookSet(lambda: self.api.request("GET", wire.WEBHOOKS.path) or []),
        )

    def _once(self, name: str, build: Callable[[], T]) -> T:
        """A shared part, built by the first thread that needs it while the others wait (a
        second ledger or token refresher must never exist)."""
        with self._building:
            if name not in self._built:
                self._built[name] = build()
            return cast("T", self._built[name])

    def _open_ledger(self) -> Ledger:
        path = settings.ledger_path(self.config)
        ledger = Ledger(path, self._ledger_scope(), read_only=self.dry_run)
        self.logger.info("Ledger: %s (scope %s)", path, ledger.scope)
        return ledger

    def _ledger_scope(self) -> str:
        """Which organization the ledger's entries belong to: the API URL and the organization
        from `/me`. Without the `me` scope the app stands in for the organization (so keep the
        `me` scope granted, or the same app, for a stable ledger)."""
        api_url = str(self.config.get("api_url") or wire.DEFAULT_API_URL).rstrip("/")
        try:
            me = self.api.request("GET", wire.ME.path)
        except ApiError as exc:
            if exc.status not in (wire.FORBIDDEN, wire.NOT_FOUND):
                raise
            me = None
        organization = me.get("organizationId") if isinstance(me, dict) else None
        if organization:
            return f"{api_url} organization={organization}"
        app = self.config.get("client_id") or "access-token"
        self.logger.warning(
            "GET /me is not available (grant the `me` scope); the ledger is keyed by the app "
            "(client_id) instead of the organization"
        )
        return f"{api_url} client={app}"

    def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        retry_ambiguous: bool = True,
    ) -> Any:
        """A write request, or in a dry run its log line and a stand-in answer."""
        if self.dry_run:
            self.logger.info(
                "dry run: would send %s %s%s",
                method,
                path,
                f" {json.dumps(body, default=str)}" if body is not None else "",
            )
            if method != "POST" or body is None:
                return None
            return {**body, "id": f"dry-run-{next(self._placeholders)}"}
        return self.api.request(method, path, json=body, retry_ambiguous=retry_ambiguous)

    def reject(self, stream: str, record: dict[str, Any], status: int | None, message: str) -> None:
        """Dead-letter a record and count it; abort once `max_failures` is exceeded."""
        self.dead_letter.write(stream, record, status, message)
        self.report.count(stream, Outcome.REJECTED)
        self.logger.warning(
            "%s: record rejected%s: %s", stream, f" (HTTP {status})" if status else "", message
        )
        rejected = self.report.rejected
        if self.max_failures is not None and rejected > self.max_failures:
            msg = (
                f"{rejected} records rejected, more than max_failures ({self.max_failures}); "
                "stopping"
            )
            raise RunAbortedError(msg)

    def write(self, keys: Callable[[], Iterable[Hashable]], work: Callable[[], None]) -> None:
        """Write one record (`work`) on the write queue, after the earlier records sharing one
        of its `keys()` (which may read the ledger and the index, so may fail the run too)."""
        with self._ending_on_failure():
            self.writes.submit(keys(), work)

    def pass_on(self, emit: Callable[[], None]) -> None:
        """Pass a STATE on (`emit`) once every record read before it is written."""
        with self._ending_on_failure():
            self.writes.after_pending(emit)

    def stop(self) -> None:
        """On a signal: start no further write, and let the running ones end (briefly), so
        the summary counts what was written."""
        self.writes.stop()
        self.writes.settle(STOP_GRACE_SECONDS)

    def wait(self) -> None:
        """After the last record: wait for the writes still running."""
        with self._ending_on_failure():
            self.writes.drain()

    def finish(self) -> None:
        """After the writes: prune webhooks, log the summary, fail if anything was rejected."""
        with self._ending_on_failure():
            if "webhooks" in self._built and self.config.get("prune_webhooks"):
                self.webhooks.prune(self)
        self._end()
        rejected = self.report.rejected
        if rejected:
            msg = f"{rejected} record(s) rejected; see the dead letter {self.dead_letter.path}"
            raise RecordsRejectedError(msg)

    @contextlib.contextmanager
    def _ending_on_failure(self) -> Iterator[None]:
        """A write that failed ends the run: log the summary so far, close the files, raise."""
        try:
            yield
        except Exception:
            self._end()
            raise

    def _end(self) -> None:
        self.writes.close()
        self.report.log_summary(self.logger, dry_run=self.dry_run)
        self.dead_letter.close()
        if "ledger" in self._built:
            self.ledger.close()
