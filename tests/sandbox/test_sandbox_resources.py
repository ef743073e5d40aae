"""The /v1 resources: auth and scope answers, contacts, conversations, /me, touch, stats."""

from __future__ import annotations

import uuid

import pytest

from liveswitch_api import wire

CONVERSATION_FIELDS = {
    "id", "hostJoinUrl", "participantJoinUrl", "conversationUrl", "embeddedConversationUrl",
    "projectId", "projectUrl", "projectShareUrl", "projectEmbeddedShareUrl", "contactId", "type",
    "name", "notes", "tags", "message", "createdAt", "updatedAt",
}  # fmt: skip
CONTACT_FIELDS = {"id", "firstName", "lastName", "email", "phone", "createdAt", "updatedAt"}


@pytest.fixture(scope="module")
def client(sandbox, client_for):
    return client_for(sandbox)


@pytest.fixture(scope="module")
def token(client):
    return client.login()["access_token"]


def new_phone():
    return f"+1 (777) {uuid.uuid4().int % 10_000_000:07d}"


def assert_problem(response, status):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["traceId"]
    return body


def test_missing_or_unknown_token_is_401_with_empty_body(client):
    for token in (None, "a.b.c"):
        response = client.call("GET", "/contacts", token)
        assert response.status_code == 401
        assert response.content == b""
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_scopes(client):
    read_only = client.login(scope="contacts")["access_token"]
    assert client.call("GET", "/contacts", read_only).status_code == 200
    for method, path in (("POST", "/contacts"), ("GET", "/conversations"), ("GET", "/me")):
        refused = client.call(method, path, read_only, json={"phone": new_phone()})
        assert refused.status_code == 403
        assert refused.content == b""
    write_only = client.login(scope="contacts.write conversations.write")["access_token"]
    assert client.call("GET", "/contacts", write_only).status_code == 200  # .write reads
    assert client.call("GET", "/conversations", write_only).status_code == 200


def test_configured_scopes_limit_what_can_be_granted(sandbox_factory, client_for):
    sb = sandbox_factory(scopes="contacts offline_access")
    client = client_for(sb)
    body = client.login()
    assert set(body["scope"].split()) == {"contacts", "offline_access"}
    assert client.call("GET", "/conversations", body["access_token"]).status_code == 403


def test_contact_lifecycle(client, token):
    phone = new_phone()
    created = client.call("POST", "/contacts", token, json={"phone": phone, "firstName": "Ann"})
    assert created.status_code == 201
    contact = created.json()
    assert set(contact) == CONTACT_FIELDS
    assert contact["firstName"] == "Ann"
    assert contact["lastName"] is None
    assert contact["createdAt"].endswith("Z")
    assert len(contact["createdAt"]) == len("2024-01-01T00:00:00.000Z")
    assert client.call("GET", f"/contacts/{contact['id']}", token).json() == contact

    body = {"phone": phone, "firstName": "Anne", "lastName": "Lee", "email": "anne@example.com"}
    replaced = client.call("PUT", f"/contacts/{contact['id']}", token, json=body)
    assert replaced.status_code == 200
    assert replaced.json() | {"updatedAt": None} == contact | body | {"updatedAt": None}
    assert replaced.json()["updatedAt"] > contact["updatedAt"]

    assert client.call("DELETE", f"/contacts/{contact['id']}", token).status_code == 204
    assert_problem(client.call("GET", f"/contacts/{contact['id']}", token), 404)
    assert_problem(client.call("PUT", f"/contacts/{contact['id']}", token, json=body), 404)
    assert_problem(client.call("DELETE", f"/contacts/{contact['id']}", token), 404)


def test_contact_validation_and_duplicate_phone(client, token):
    missing = assert_problem(client.call("POST", "/contacts", token, json={"firstName": "X"}), 400)
    assert missing["errors"] == {"Phone": ["The Phone field is required."]}
    assert missing["title"] == "One or more validation errors occurred."
    assert missing["type"] == "https://tools.ietf.org/html/rfc9110#section-15.5.1"

    digits = f"{uuid.uuid4().int % 10_000_000:07d}"
    first = client.call("POST", "/contacts", token, json={"phone": f"+1888{digits}"})
    assert first.status_code == 201
    same = client.call("POST", "/contacts", token, json={"phone": f"+1 888 {digits}"})
    assert_problem(same, 409)
    other = client.call("POST", "/contacts", token, json={"phone": new_phone()}).json()
    collide = {"phone": f"+1888{digits}", "firstName": None, "lastName": None, "email": None}
    assert_problem(client.call("PUT", f"/contacts/{other['id']}", token, json=collide), 409)


def test_conversations(client, token):
    contact = client.call("POST", "/contacts", token, json={"phone": new_phone()}).json()
    by_id = client.call(
        "POST",
        "/conversations",
        token,
        json={"contactId": contact["id"], "phone": new_phone(), "name": "Visit", "tags": ["a"]},
    )
    assert by_id.status_code == 201
    conversation = by_id.json()
    assert set(conversation) == CONVERSATION_FIELDS
    assert conversation["contactId"] == contact["id"]  # contactId wins over phone
    assert conversation["type"] == wire.DEFAULT_CONVERSATION_TYPE
    assert conversation["tags"] == ["a"]
    got = client.call("GET", f"/conversations/{conversation['id']}", token)
    assert got.json() == conversation

    reused = client.call("POST", "/conversations", token, json={"phone": contact["phone"]})
    assert reused.json()["contactId"] == contact["id"]

    before = client.call("GET", "/contacts", token, params={"pageSize": 100, "page": 1})
    assert before.status_code == 200
    phone = new_phone()
    created = client.call(
        "POST",
        "/conversations",
        token,
        json={"phone": phone, "firstName": "Neo", "type": "TakePhotos", "message": "Hi"},
    ).json()
    new_contact = client.call("GET", f"/contacts/{created['contactId']}", token).json()
    assert new_contact["phone"] == phone
    assert new_contact["firstName"] == "Neo"
    assert created["type"] == "TakePhotos"

    bad_bodies = [
        ({}, "Phone"),
        ({"contactId": "not-a-uuid"}, "ContactId"),
        ({"contactId": str(uuid.uuid4())}, "ContactId"),
        ({"phone": new_phone(), "type": "Nope"}, "Type"),
        ({"phone": new_phone(), "tags": "a,b"}, "Tags"),
    ]
    for body, field in bad_bodies:
        problem = assert_problem(client.call("POST", "/conversations", token, json=body), 400)
        assert field in problem["errors"]


def test_me(client, token):
    me = client.call("GET", "/me", token).json()
    assert set(me) == {"id", "email", "firstName", "lastName", "organizationId", "isAdmin"}


def test_touch_bumps_updated_at_and_changes_a_field(sandbox_factory, client_for):
    sb = sandbox_factory(contacts=20, conversations=20)
    client = client_for(sb)
    token = client.login()["access_token"]
    contacts = {c["id"]: c for c in client.call("GET", "/contacts", token).json()}
    conversations = {c["id"]: c for c in client.call("GET", "/conversations", token).json()}
    latest = max(r["updatedAt"] for r in [*contacts.values(), *conversations.values()])
    touched = sb.touch(3)
    assert len(touched["contacts"]) == 3
    assert len(touched["conversations"]) == 3
    for record_id in touched["contacts"]:
        after = client.call("GET", f"/contacts/{record_id}", token).json()
        assert after["updatedAt"] > latest
        assert after["lastName"] != contacts[record_id]["lastName"]
        assert after["createdAt"] == contacts[record_id]["createdAt"]
    for record_id in touched["conversations"]:
        after = client.call("GET", f"/conversations/{record_id}", token).json()
        assert after["updatedAt"] > latest
        assert after["notes"] != conversations[record_id]["notes"]
    # the choice is seeded: a second sandbox with the same seed touches the same records
    twin = sandbox_factory(contacts=20, conversations=20)
    assert twin.touch(3) == touched
    stats = sb.stats()
    assert stats["records"]["contacts"]["updated"] == 0  # a hook, not an API mutation


def test_stats_shape_and_counters(sandbox_factory, client_for):
    sb = sandbox_factory(contacts=4, conversations=2)
    client = client_for(sb)
    token = client.login()["access_token"]
    client.call("GET", "/contacts", token)
    contact = client.call("POST", "/contacts", token, json={"phone": new_phone()}).json()
    client.call("GET", f"/contacts/{contact['id']}", token)
    client.call("DELETE", f"/contacts/{contact['id']}", token)
    client.call("GET", "/nowhere", token)
    stats = sb.stats()
    assert set(stats) == {
        "requests", "statuses", "grants", "rotations", "reuse_within_leeway",
        "family_revocations", "faults", "records", "counts", "webhook_deliveries",
    }  # fmt: skip
    assert stats["requests"] == {
        "GET /authorize": 1,
        "POST /oauth/token": 1,
        "GET /v1/contacts": 1,
        "POST /v1/contacts": 1,
        "GET /v1/contacts/{id}": 1,
        "DELETE /v1/contacts/{id}": 1,
        "GET /v1/*": 1,
    }
    assert stats["statuses"] == {"302": 1, "200": 3, "201": 1, "204": 1, "404": 1}
    assert stats["grants"] == {"authorization_code": 1, "refresh_token": 0}
    assert stats["faults"] == {"500": 0, "502": 0, "503": 0, "drop": 0, "malformed": 0}
    assert stats["records"]["contacts"] == {"created": 1, "updated": 0, "deleted": 1}
    assert stats["counts"] == {"contacts": 4, "conversations": 2, "webhooks": 0}
