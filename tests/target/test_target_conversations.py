"""The conversations stream: invites switch, contact translation, exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from target_helpers import Factory, TargetRunner, contact, outcome, singer, summary, writes

from liveswitch_api import wire
from liveswitch_api.client import ApiClient
from liveswitch_sandbox.process import SandboxProcess


@pytest.fixture
def empty(sandbox_factory: Factory) -> SandboxProcess:
    return sandbox_factory(contacts=0, conversations=0)


def conversation(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"src-conversation-{n}",
        "contactId": f"src-contact-{n}",
        "type": "LiveConversation",
        "name": f"Visit #{n}",
        "notes": None,
        "tags": ["roof"],
        "message": "Tap the link to start the call.",
        **fields,
    }


def listing(sandbox: SandboxProcess, target: TargetRunner, resource: wire.Resource) -> list[Any]:
    client = ApiClient.from_config(target.config(sandbox))
    return list(client.iter_records(resource, 100))


def test_without_allow_conversation_invites_nothing_is_created(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    result = target(empty, singer("conversations", [conversation(1, phone="+15559000001")]))
    assert result.returncode == 1
    assert summary(result, "conversations") == outcome(rejected=1)
    assert writes(empty) == {}
    [line] = target.dead_letters
    assert line["stream"] == "conversations"
    assert "allow_conversation_invites" in line["error"]
    assert "texts an invitation to a real customer" in line["error"]


def test_source_contact_ids_are_translated_and_reruns_create_nothing(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    pipe = singer("contacts", [contact(1), contact(2)]) + singer(
        "conversations",
        [conversation(1), conversation(2), conversation(3, contactId="src-contact-1")],
    )
    first = target(empty, pipe, allow_conversation_invites=True).check()
    assert summary(first, "conversations") == outcome(created=3)

    contacts = {c["id"]: c["phone"] for c in listing(empty, target, wire.CONTACTS)}
    created = listing(empty, target, wire.CONVERSATIONS)
    assert sorted((c["name"], contacts[c["contactId"]]) for c in created) == [
        ("Visit #1", "+15559000001"),
        ("Visit #2", "+15559000002"),
        ("Visit #3", "+15559000001"),
    ]
    assert {tuple(c["tags"]) for c in created} == {("roof",)}

    second = target(empty, pipe, allow_conversation_invites=True).check()
    assert summary(second, "conversations") == outcome(unchanged=3)
    assert summary(second, "contacts") == outcome(unchanged=2)
    assert writes(empty) == {"POST /v1/contacts": 2, "POST /v1/conversations": 3}


def test_records_without_a_key_are_keyed_by_content(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    keyless = [
        {"phone": "+15559000001", "name": "Walk-in", "type": "Scheduled"},
        {"phone": "+15559000001", "name": "Walk-in again"},
    ]
    lines = singer("conversations", keyless, key_properties=())
    target(empty, lines, allow_conversation_invites=True).check()
    target(empty, lines, allow_conversation_invites=True).check()
    assert writes(empty) == {"POST /v1/conversations": 2}
    # The sandbox made the contact from the phone, once.
    assert len(listing(empty, target, wire.CONTACTS)) == 1


def test_an_unknown_contact_id_is_dead_lettered_unless_a_phone_is_given(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    lines = singer(
        "conversations",
        [
            conversation(1, contactId="nobody"),
            conversation(2, contactId="nobody", phone="+15550001"),
        ],
    )
    result = target(empty, lines, allow_conversation_invites=True)
    assert result.returncode == 1
    assert summary(result, "conversations") == outcome(created=1, rejected=1)
    [line] = target.dead_letters
    assert line["record"]["id"] == "src-conversation-1"
    assert "contactId 'nobody'" in line["error"]
    assert "contacts stream first" in line["error"]


def test_an_ambiguous_failure_is_never_sent_again(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    """With faults injected, a create that failed after it may have reached the server is
    dead-lettered as "may exist", in this run and in every later one, never re-sent."""
    sandbox = sandbox_factory(contacts=0, conversations=0, fault_rate=0.3, seed=7)
    records = [conversation(n, contactId=None, phone=f"+1555800{n:04d}") for n in range(20)]
    lines = singer("conversations", records)
    settings = {"allow_conversation_invites": True, "max_retries": 8}
    first = target(sandbox, lines, **settings)
    posts = writes(sandbox)["POST /v1/conversations"]
    faulted = target.dead_letters
    assert first.returncode == 1
    assert faulted, "seed 7 faults at least one create"
    assert all("may exist" in line["error"] for line in faulted)
    existing = listing(sandbox, target, wire.CONVERSATIONS)
    assert len(existing) + len(faulted) == 20
    assert posts == 20  # one try each: no ambiguous create was retried

    second = target(sandbox, lines, **settings)
    assert second.returncode == 1
    assert writes(sandbox)["POST /v1/conversations"] == posts
    again = target.dead_letters[len(faulted) :]
    assert sorted(line["record"]["id"] for line in again) == sorted(
        line["record"]["id"] for line in faulted
    )
    assert all("earlier attempt" in line["error"] for line in again)
    assert summary(second, "conversations") == outcome(
        unchanged=len(existing), rejected=len(faulted)
    )
