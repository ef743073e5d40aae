"""The conversations stream: invites switch, contact translation, exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from target_helpers import Factory, TargetRunner, contact, outcome, singer, summary, writes

from liveswitch_api import wire
from liveswitch_api.client import ApiClient
from liveswitch_sandbox.process import SandboxProcess
from target_liveswitch.sinks import source_key
from target_liveswitch.target import TargetLiveSwitch


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


def test_ambiguous_failures_are_looked_up_before_sending_again(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    """Faulted creates (5xx, dropped connections, malformed bodies) may have happened: the
    target lists the conversations before sending again, and each ends up created once."""
    sandbox = sandbox_factory(contacts=0, conversations=0, fault_rate=0.25, seed=7)
    count = 6
    records = [conversation(n, contactId=None, phone=f"+1555800{n:04d}") for n in range(count)]
    lines = singer("conversations", records)
    result = target(sandbox, lines, allow_conversation_invites=True, max_retries=8).check()
    assert summary(result, "conversations") == outcome(created=count)
    assert "looking for it before sending it again" in result.stderr
    names = Counter(c["name"] for c in listing(sandbox, target, wire.CONVERSATIONS))
    assert names == Counter(f"Visit #{n}" for n in range(count))
    assert writes(sandbox)["POST /v1/conversations"] > count  # some were sent again


def test_an_unanswered_create_with_several_lookalikes_is_not_sent_again(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    """A run died with a create in flight, and two identical conversations exist since: the
    target cannot tell whether one is its own, so it sends nothing and says so."""
    config = target.config(empty, allow_conversation_invites=True)
    record = conversation(1, contactId=None, phone="+15559000001")
    lines = singer("conversations", [record])
    killed = TargetLiveSwitch(config=config)
    key = source_key(record, ["id"])
    killed.run.ledger.begin("conversations", key, "hash of the body")
    body = {k: v for k, v in record.items() if k not in ("id", "contactId") and v is not None}
    api = ApiClient.from_config(config)
    for _ in range(2):
        api.request("POST", wire.CONVERSATIONS.path, json=body)
    killed.run.ledger.close()

    result = target(empty, lines, allow_conversation_invites=True)
    assert result.returncode == 1
    assert writes(empty) == {"POST /v1/conversations": 2}
    [line] = target.dead_letters
    assert "2 conversations in LiveSwitch match it" in line["error"]
    assert "ledger" in line["error"]
