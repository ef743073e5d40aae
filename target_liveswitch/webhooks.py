"""Webhook subscriptions as a declared set: create the missing, keep the identical, and with
`prune_webhooks` delete the organization's subscriptions the input does not list."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from liveswitch_api import wire
from target_liveswitch.report import Outcome

if TYPE_CHECKING:
    from target_liveswitch.run import Run

WebhookKey = tuple[str, str, str]


def webhook_key(record: Mapping[str, Any]) -> WebhookKey | None:
    """(url, entity, event) in the API's spelling; None when a part is missing or unknown.

    The API compares entity and event case-insensitively; the URL is compared as given.
    """
    url, entity, event = (record.get(k) for k in ("url", "entityName", "eventType"))
    if not isinstance(url, str) or not url or not isinstance(entity, str):
        return None
    if not isinstance(event, str):
        return None
    entity, event = entity.lower(), event.upper()
    if entity not in wire.WEBHOOK_ENTITIES or event not in wire.WEBHOOK_EVENTS:
        return None
    return (url, entity, event)


class WebhookSet:
    """The organization's subscriptions (listed once) and the ones the input declared."""

    def __init__(self, load: Callable[[], list[dict[str, Any]]]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._existing: dict[WebhookKey, dict[str, Any]] | None = None
        self.wanted: set[WebhookKey] = set()
        self.incomplete = False  # a declared subscription was rejected: never prune then

    def existing(self, *, reload: bool = False) -> dict[WebhookKey, dict[str, Any]]:
        with self._lock:
            if self._existing is None or reload:
                existing: dict[WebhookKey, dict[str, Any]] = {}
                for hook in self._load():
                    key = webhook_key(hook)
                    if key is not None:
                        existing.setdefault(key, hook)
                self._existing = existing
            return self._existing

    def added(self, key: WebhookKey, hook: dict[str, Any]) -> None:
        with self._lock:
            if self._existing is not None:
                self._existing[key] = hook

    def prune(self, run: Run) -> None:
        """Delete the subscriptions nobody declared (all of them, duplicates included)."""
        if self.incomplete:
            run.logger.warning(
                "webhooks: not pruning, because a declared subscription was rejected"
            )
            return
        existing = self.existing()
        keep = {existing[key].get("id") for key in self.wanted if key in existing}
        for hook in run.api.request("GET", wire.WEBHOOKS.path) or []:
            if hook.get("id") not in keep:
                run.send("DELETE", wire.WEBHOOKS.item_path(str(hook["id"])))
                run.report.count("webhooks", Outcome.DELETED)
