"""Narrow tests of the target's pure parts: matching, bodies, keys, the ledger, reconciliation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from target_liveswitch import contacts, reconcile
from target_liveswitch.ledger import Ledger
from target_liveswitch.report import Outcome, RunReport
from target_liveswitch.sinks import source_key
from target_liveswitch.webhooks import webhook_key

STORED = {
    "id": "c1",
    "phone": "+1 555 000 0001",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
}


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+1 (555) 000-0001", "+15550000001"),
        ("555.000.0001", "5550000001"),
        (" +44 20 7946 0000 ", "+442079460000"),
        ("no digits", None),
        (None, None),
        (15550000001, None),
    ],
)
def test_phones_compare_as_digits_and_a_leading_plus(raw: object, normalized: str | None) -> None:
    assert contacts.normalize_phone(raw) == normalized


def test_update_body_skips_nulls_or_overwrites_them_but_keeps_the_phone() -> None:
    incoming = {"phone": None, "firstName": "Ada", "lastName": None}
    skip = contacts.update_body(STORED, incoming, overwrite_nulls=False)
    assert skip == {k: v for k, v in STORED.items() if k != "id"}
    overwrite = contacts.update_body(STORED, incoming, overwrite_nulls=True)
    assert overwrite == {
        "phone": "+1 555 000 0001",
        "firstName": "Ada",
        "lastName": None,
        "email": None,
    }


def test_a_phone_spelled_differently_is_no_change() -> None:
    body = contacts.update_body(STORED, {"phone": "+15550000001"}, overwrite_nulls=False)
    assert body["phone"] == STORED["phone"]
    assert contacts.same_fields(body, STORED)
    assert not contacts.same_fields({**body, "email": "other@example.com"}, STORED)


def test_the_index_finds_by_each_key_and_follows_changes() -> None:
    index = contacts.ContactIndex(lambda: [dict(STORED)], logging.getLogger("test"))
    assert index.find("phone", {"phone": "15550000001"}) is None  # no +: another number
    assert index.find("phone", {"phone": "+1-555-000-0001"}) == STORED
    assert index.find("email", {"email": "ADA@example.com"}) == STORED
    assert index.find("id", {"id": "c1"}) == STORED
    index.put({**STORED, "phone": "+15559999999", "email": None})
    assert index.find("phone", {"phone": "+1 555 000 0001"}) is None
    assert index.find("email", {"email": "ada@example.com"}) is None
    assert index.find("phone", {"phone": "+15559999999"})["id"] == "c1"


def test_source_keys_prefer_the_primary_key_then_id_then_content() -> None:
    assert source_key({"id": "a", "x": 1}, ["id"]) == '["a"]'
    assert source_key({"id": "a", "x": 1}, []) == '["a"]'
    assert source_key({"k1": 1, "k2": "b"}, ["k1", "k2"]) == '[1, "b"]'
    by_content = source_key({"x": 1, "y": [1, 2]}, [])
    assert by_content.startswith("sha256:")
    assert by_content == source_key({"y": [1, 2], "x": 1}, [])
    assert by_content != source_key({"x": 2, "y": [1, 2]}, [])


def test_webhook_keys_use_the_apis_spelling() -> None:
    hook = {"url": "https://h.example/x", "entityName": "Contact", "eventType": "update"}
    assert webhook_key(hook) == ("https://h.example/x", "contact", "UPDATE")
    assert webhook_key({**hook, "entityName": "invoice"}) is None
    assert webhook_key({**hook, "url": None}) is None


def test_the_ledger_survives_reopening_and_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.sqlite3"
    ledger = Ledger(path, "org-a")
    pending = ledger.begin("conversations", "k1", "h1")
    ledger.commit("contacts", "k2", "lsid-2", "h2")
    ledger.close()

    reopened = Ledger(path, "org-a")
    entry = reopened.get("conversations", "k1")
    assert entry is not None
    assert entry.pending
    assert entry.updated_at == pending.updated_at
    done = reopened.get("contacts", "k2")
    assert done is not None
    assert (done.target_id, done.pending) == ("lsid-2", False)
    assert reopened.claimed("contacts") == {"lsid-2"}
    assert Ledger(path, "org-b").get("contacts", "k2") is None  # another organization
    reopened.forget("conversations", "k1")
    assert reopened.get("conversations", "k1") is None
    reopened.close()

    dry = Ledger(path, "org-a", read_only=True)
    dry.commit("contacts", "k3", "dry-run-1", "h3")
    assert dry.get("contacts", "k3") is not None
    dry.close()
    assert Ledger(path, "org-a").get("contacts", "k3") is None
    assert not Ledger(tmp_path / "none.sqlite3", "org-a", read_only=True).path.exists()


def test_reconciliation_finds_only_an_unclaimed_lookalike_made_since_the_request() -> None:
    body = {"contactId": "c1", "name": "Visit", "tags": ["roof"]}
    since = "2026-01-01T12:00:00+00:00"
    made = {
        "contactId": "c1",
        "name": "Visit",
        "notes": None,
        "message": None,
        "tags": ["roof"],
        "type": "LiveConversation",
        "createdAt": "2026-01-01T12:00:01Z",
    }
    listing = [
        {**made, "id": "new"},
        {**made, "id": "claimed"},
        {**made, "id": "older", "createdAt": "2025-12-31T12:00:00Z"},
        {**made, "id": "other-name", "name": "Visit 2"},
        {**made, "id": "other-type", "type": "Scheduled"},
    ]
    found = reconcile.candidates(
        listing, body, since=since, claimed={"claimed"}, phone_of=lambda _: None
    )
    assert [c["id"] for c in found] == ["new"]
    # the same conversation listed twice (a listing read during other writes) is one candidate
    twice = reconcile.candidates(
        [*listing, {**made, "id": "new"}], body, since=since, claimed={"claimed"}, phone_of=str
    )
    assert [c["id"] for c in twice] == ["new"]

    by_phone = {"phone": "+1 555 000 0001", "name": "Visit", "tags": ["roof"]}
    found = reconcile.candidates(
        listing,
        by_phone,
        since=since,
        claimed=set(),
        phone_of=lambda contact_id: "+15550000001" if contact_id == "c1" else None,
    )
    assert [c["id"] for c in found] == ["new", "claimed"]


def test_the_summary_has_every_column_and_deleted_when_any() -> None:
    report = RunReport()
    report.count("webhooks", Outcome.CREATED)
    report.count("webhooks", Outcome.DELETED)
    report.count("contacts", Outcome.REJECTED)
    assert report.summary_lines() == [
        "contacts: created 0, updated 0, unchanged 0, rejected 1, skipped 0",
        "webhooks: created 1, updated 0, unchanged 0, deleted 1, rejected 0, skipped 0",
    ]
    assert report.rejected == 1
