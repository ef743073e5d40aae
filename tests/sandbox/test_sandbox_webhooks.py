"""Webhooks: admin only, validation, and deliveries to a local listener with the five headers."""

from __future__ import annotations

import queue
import time

import pytest

from liveswitch_api import wire


def test_webhooks_need_an_admin(sandbox_factory, client_for):
    sb = sandbox_factory(admin=False, contacts=1, conversations=0)
    client = client_for(sb)
    token = client.login()["access_token"]
    assert client.call("GET", "/me", token).json()["isAdmin"] is False
    for method in ("GET", "POST"):
        body = {"url": "http://127.0.0.1:1/x", "entityName": "contact", "eventType": "CREATE"}
        refused = client.call(method, wire.WEBHOOKS.path, token, json=body)
        assert refused.status_code == 403
        assert refused.content == b""


def test_webhook_crud_and_validation(sandbox, client_for):
    client = client_for(sandbox)
    token = client.login()["access_token"]
    body = {"url": "http://127.0.0.1:1/x", "entityName": "contact", "eventType": "UPDATE"}
    created = client.call("POST", "/webhooks", token, json=body)
    assert created.status_code == 201
    hook = created.json()
    assert set(hook) == {"id", "url", "entityName", "eventType", "createdAt"}
    assert hook["id"] in [h["id"] for h in client.call("GET", "/webhooks", token).json()]
    for bad in (
        body | {"entityName": "invoice"},
        body | {"eventType": "UPSERT"},
        body | {"url": "not a url"},
    ):
        response = client.call("POST", "/webhooks", token, json=bad)
        assert response.status_code == 400
        assert response.headers["Content-Type"].startswith("application/problem+json")
    assert client.call("DELETE", f"/webhooks/{hook['id']}", token).status_code == 204
    assert client.call("DELETE", f"/webhooks/{hook['id']}", token).status_code == 404
    read_only = client.login(scope="webhooks")["access_token"]
    assert client.call("GET", "/webhooks", read_only).status_code == 200
    assert client.call("POST", "/webhooks", read_only, json=body).status_code == 403


def test_deliveries_reach_a_local_listener(sandbox_factory, client_for, listener):
    sb = sandbox_factory(contacts=3, conversations=3)
    client = client_for(sb)
    token = client.login()["access_token"]
    for entity, event in (
        ("contact", "CREATE"),
        ("contact", "DELETE"),
        ("conversation", "CREATE"),
        ("conversation", "UPDATE"),
    ):
        body = {"url": listener.url, "entityName": entity, "eventType": event}
        assert client.call("POST", "/webhooks", token, json=body).status_code == 201

    contact = client.call("POST", "/contacts", token, json={"phone": "+15550009999"}).json()
    conversation = client.call(
        "POST", "/conversations", token, json={"contactId": contact["id"]}
    ).json()
    client.call("DELETE", f"/contacts/{contact['id']}", token)
    touched = sb.touch(1)["conversations"][0]

    received = listener.take(4)
    seen = [
        (h["x-liveswitch-webhook-entity-name"], h["x-liveswitch-webhook-event-type"])
        for h, _ in received
    ]
    assert seen == [
        ("contact", "CREATE"),
        ("conversation", "CREATE"),
        ("contact", "DELETE"),
        ("conversation", "UPDATE"),
    ]
    ids = [contact["id"], conversation["id"], contact["id"], touched]
    transaction_ids = set()
    for (headers, body), entity_id in zip(received, ids, strict=True):
        assert set(wire.WEBHOOK_HEADERS) <= set(headers)
        assert headers["x-liveswitch-entity-id"] == entity_id
        assert body["id"] == entity_id
        transaction_ids.add(headers["x-liveswitch-transaction-id"])
    assert len(transaction_ids) == 4
    assert received[0][1]["data"] == contact
    assert "data" not in received[2][1]
    deadline = time.monotonic() + 5
    while sb.stats()["webhook_deliveries"] < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sb.stats()["webhook_deliveries"] == 4
    with pytest.raises(queue.Empty):
        listener.received.get(timeout=0.3)  # no delivery for unsubscribed events


def test_non_loopback_hosts_are_never_contacted(sandbox_factory, client_for, listener):
    sb = sandbox_factory(contacts=1, conversations=0)
    client = client_for(sb)
    token = client.login()["access_token"]
    far = {"url": "http://192.0.2.10/hook", "entityName": "contact", "eventType": "CREATE"}
    near = far | {"url": listener.url}
    assert client.call("POST", "/webhooks", token, json=far).status_code == 201
    assert client.call("POST", "/webhooks", token, json=near).status_code == 201
    client.call("POST", "/contacts", token, json={"phone": "+15550008888"})
    listener.take(1)
    deadline = time.monotonic() + 5
    while "skipped" not in sb.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "skipped a webhook delivery to non-loopback http://192.0.2.10/hook" in sb.log_text()
    while sb.stats()["webhook_deliveries"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sb.stats()["webhook_deliveries"] == 1
