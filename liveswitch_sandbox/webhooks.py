"""Webhook subscriptions and their deliveries.

Deliveries go out in order from one background thread, so an API response never waits for a
listener. SAFETY: only loopback hosts (127.0.0.0/8, localhost, ::1) are ever contacted; a
subscription pointing anywhere else is kept but its deliveries are skipped and logged.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from liveswitch_api import wire

from .data import Event, format_ts
from .messages import dumps
from .stats import Stats

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 5.0


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Delivery:
    hook: dict[str, Any]
    event: Event
    occurred_at: str


class Webhooks:
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self._lock = threading.Lock()
        self._hooks: dict[str, dict[str, Any]] = {}
        self._queue: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)
        self._worker.start()

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._hooks.values())

    def count(self) -> int:
        return len(self._hooks)

    def create(self, url: str, entity_name: str, event_type: str) -> dict[str, Any]:
        hook = {
            "id": str(uuid.uuid4()),
            "url": url,
            "entityName": entity_name,
            "eventType": event_type,
            "createdAt": format_ts(int(time.time() * 1000)),
        }
        with self._lock:
            self._hooks[hook["id"]] = hook
        if not is_loopback(urlsplit(url).hostname):
            log.warning("webhook %s points at a non-loopback host; deliveries will be skipped", url)
        return hook

    def delete(self, hook_id: str) -> bool:
        with self._lock:
            return self._hooks.pop(hook_id, None) is not None

    def publish(self, events: list[Event]) -> None:
        """Queue a delivery for every subscription matching each event."""
        if not events:
            return
        occurred_at = format_ts(int(time.time() * 1000))
        with self._lock:
            hooks = list(self._hooks.values())
        for event in events:
            for hook in hooks:
                if hook["entityName"] == event.entity and hook["eventType"] == event.event:
                    self._queue.put(Delivery(hook, event, occurred_at))

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                self._deliver(delivery)
            except Exception:  # a delivery must never kill the worker
                log.exception("webhook delivery failed")

    def _deliver(self, delivery: Delivery) -> None:
        hook, event = delivery.hook, delivery.event
        parts = urlsplit(hook["url"])
        if not is_loopback(parts.hostname):
            log.warning("skipped a webhook delivery to non-loopback %s", hook["url"])
            return
        payload: dict[str, Any] = {
            "id": event.entity_id,
            "entityName": event.entity,
            "eventType": event.event,
            "webhookId": hook["id"],
            "occurredAt": delivery.occurred_at,
        }
        if event.record is not None:
            payload["data"] = event.record
        transaction_id = str(uuid.uuid4())
        headers = dict(
            zip(
                wire.WEBHOOK_HEADERS,
                (transaction_id, event.entity_id, hook["id"], event.event, event.entity),
                strict=True,
            )
        )
        headers["Content-Type"] = "application/json"
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname or "", parts.port, timeout=DELIVERY_TIMEOUT)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, dumps(payload), headers)
            response = connection.getresponse()
            response.read()
        except OSError as exc:
            log.warning("webhook delivery to %s failed: %s", hook["url"], exc)
            return
        finally:
            connection.close()
        self.stats.delivered()
        log.debug("webhook %s %s %s -> %s", hook["url"], event.entity, event.event, response.status)
