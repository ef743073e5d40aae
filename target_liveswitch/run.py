"""One target run: what every sink shares (the API client, ledger, match index, dead letter and
counts), built on first use so `--about` and config errors never touch the network."""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import Mapping
from typing import Any

from liveswitch_api import wire
from liveswitch_api.client import ApiClient, ApiError
from target_liveswitch import settings
from target_liveswitch.contacts import ContactIndex
from target_liveswitch.dead_letter import DeadLetter
from target_liveswitch.errors import RecordsRejectedError, RunAbortedError
from target_liveswitch.ledger import Ledger
from target_liveswitch.report import Outcome, RunReport
from target_liveswitch.webhooks import WebhookSet


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

    @functools.cached_property
    def api(self) -> ApiClient:
        return ApiClient.from_config(self.config, self.logger)

    @functools.cached_property
    def ledger(self) -> Ledger:
        path = settings.ledger_path(self.config)
        ledger = Ledger(path, self._ledger_scope(), read_only=self.dry_run)
        self.logger.info("Ledger: %s (scope %s)", path, ledger.scope)
        return ledger

    @functools.cached_property
    def contacts(self) -> ContactIndex:
        return ContactIndex(
            lambda: self.api.iter_records(wire.CONTACTS, wire.DEFAULT_PAGE_SIZE), self.logger
        )

    @functools.cached_property
    def webhooks(self) -> WebhookSet:
        return WebhookSet(lambda: self.api.request("GET", wire.WEBHOOKS.path) or [])

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
        if self.max_failures is not None and self.report.rejected > self.max_failures:
            raise self.abort(
                f"{self.report.rejected} records rejected, more than max_failures "
                f"({self.max_failures}); stopping"
            )

    def abort(self, reason: str) -> RunAbortedError:
        """The error that ends the run early, after the summary so far is logged."""
        self.report.log_summary(self.logger, dry_run=self.dry_run)
        self._close()
        return RunAbortedError(reason)

    def finish(self) -> None:
        """After the last record: prune webhooks, log the summary, fail if anything was
        rejected."""
        if "webhooks" in self.__dict__ and self.config.get("prune_webhooks"):
            self.webhooks.prune(self)
        self.report.log_summary(self.logger, dry_run=self.dry_run)
        rejected = self.report.rejected
        self._close()
        if rejected:
            msg = f"{rejected} record(s) rejected; see the dead letter {self.dead_letter.path}"
            raise RecordsRejectedError(msg)

    def _close(self) -> None:
        self.dead_letter.close()
        if "ledger" in self.__dict__:
            self.ledger.close()
