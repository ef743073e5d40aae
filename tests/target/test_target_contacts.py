"""The contacts stream against a sandbox: matching, write modes, null policy, dry run."""

from __future__ import annotations

import io
from typing import Any

import pytest
from target_helpers import Factory, TargetRunner, contact, outcome, singer, summary, writes

from liveswitch_api import wire
from liveswitch_api.client import ApiClient
from liveswitch_sandbox.process import SandboxProcess
from target_liveswitch.report import Outcome
from target_liveswitch.target import TargetLiveSwitch


@pytest.fixture
def empty(sandbox_factory: Factory) -> SandboxProcess:
    return sandbox_factory(contacts=0, conversations=0)


def stored(sandbox: SandboxProcess, target: TargetRunner) -> dict[str, dict[str, Any]]:
    """The sandbox's contacts by phone, read with the target's own client."""
    client = ApiClient.from_config(target.config(sandbox))
    return {c["phone"]: c for c in client.iter_records(wire.CONTACTS, 100)}


def test_upsert_creates_then_updates_then_leaves_alone(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    # A repeated record within one input changes nothing the second time.
    unicode = contact(2, firstName="Zoë", lastName="李")
    first = target(empty, singer("contacts", [contact(1), unicode, unicode]))
    assert first.returncode == 0, first.stderr[-2000:]
    assert summary(first, "contacts") == outcome(created=2, unchanged=1)
    assert writes(empty) == {"POST /v1/contacts": 2}

    # Same phone in another spelling, one field changed: an update, no second contact.
    changed = contact(1, phone="+1 (555) 900-0001", lastName="Renamed")
    second = target(empty, singer("contacts", [changed, unicode]))
    assert second.returncode == 0, second.stderr[-2000:]
    assert summary(second, "contacts") == outcome(updated=1, unchanged=1)
    assert writes(empty) == {"POST /v1/contacts": 2, "PUT /v1/contacts/{id}": 1}
    contacts = stored(empty, target)
    assert len(contacts) == 2
    assert contacts["+15559000001"]["lastName"] == "Renamed"
    assert (contacts["+15559000002"]["firstName"], contacts["+15559000002"]["lastName"]) == (
        "Zoë",
        "李",
    )


def test_matches_existing_contacts_by_phone_email_or_id(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=3, conversations=0)
    existing = list(stored(sandbox, target).values())
    by_phone = {**existing[0], "id": "from-a-crm", "lastName": "ByPhone"}
    by_email = {
        "id": "crm-2",
        "email": existing[1]["email"].upper(),
        "phone": "+15550000000",
        "firstName": "ByEmail",
    }
    by_id = {"id": existing[2]["id"], "firstName": "ById"}

    result = target(sandbox, singer("contacts", [by_phone]))
    assert summary(result, "contacts") == outcome(updated=1), result.stderr
    result = target(sandbox, singer("contacts", [by_email]), contact_match_key="email")
    assert summary(result, "contacts") == outcome(updated=1), result.stderr
    result = target(sandbox, singer("contacts", [by_id]), contact_match_key="id")
    assert summary(result, "contacts") == outcome(updated=1), result.stderr

    after = {c["id"]: c for c in stored(sandbox, target).values()}
    assert len(after) == 3
    assert after[existing[0]["id"]]["lastName"] == "ByPhone"
    assert after[existing[1]["id"]]["firstName"] == "ByEmail"
    assert after[existing[1]["id"]]["phone"] == "+15550000000"
    assert after[existing[2]["id"]]["firstName"] == "ById"
    # null_policy skip: fields the id-matched record left out were kept
    assert after[existing[2]["id"]]["lastName"] == existing[2]["lastName"]
    assert "POST /v1/contacts" not in writes(sandbox)


def test_null_policy_skip_keeps_and_overwrite_erases(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    target(empty, singer("contacts", [contact(1)])).check()
    partial = contact(1, email=None)
    del partial["lastName"]

    skip = target(empty, singer("contacts", [partial]))
    assert summary(skip, "contacts") == outcome(unchanged=1)
    assert stored(empty, target)["+15559000001"]["email"] == "person1@example.com"

    overwrite = target(empty, singer("contacts", [partial]), null_policy="overwrite")
    assert summary(overwrite, "contacts") == outcome(updated=1)
    after = stored(empty, target)["+15559000001"]
    assert after["email"] is None
    assert after["lastName"] is None
    assert after["firstName"] == "First1"


def test_update_only_never_creates(empty: SandboxProcess, target: TargetRunner) -> None:
    target(empty, singer("contacts", [contact(1)])).check()
    result = target(
        empty,
        singer("contacts", [contact(1, firstName="Changed"), contact(2)]),
        write_mode="update_only",
    )
    assert result.returncode == 1
    assert summary(result, "contacts") == outcome(updated=1, rejected=1)
    assert writes(empty) == {"POST /v1/contacts": 1, "PUT /v1/contacts/{id}": 1}
    [line] = target.dead_letters
    assert line["stream"] == "contacts"
    assert line["record"]["id"] == "src-contact-2"
    assert line["status"] is None
    assert "update_only never creates" in line["error"]
    assert "+15559000002" in line["error"]


def test_create_only_never_updates(empty: SandboxProcess, target: TargetRunner) -> None:
    target(empty, singer("contacts", [contact(1)])).check()
    result = target(
        empty,
        singer("contacts", [contact(1, firstName="Changed"), contact(2)]),
        write_mode="create_only",
    ).check()
    assert summary(result, "contacts") == outcome(created=1, skipped=1)
    assert writes(empty) == {"POST /v1/contacts": 2}
    assert stored(empty, target)["+15559000001"]["firstName"] == "First1"


def test_a_record_without_a_phone_is_dead_lettered_and_the_run_goes_on(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    no_phone = contact(1, phone=None)
    result = target(empty, singer("contacts", [no_phone, contact(2)]))
    assert result.returncode == 1
    assert summary(result, "contacts") == outcome(created=1, rejected=1)
    assert "1 record(s) rejected" in result.stderr
    [line] = target.dead_letters
    assert line["record"] == no_phone
    assert line["error"].startswith("phone:")
    assert set(line) == {"stream", "record", "status", "error", "time"}


def test_the_apis_validation_error_reaches_the_dead_letter(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    # The phone passes the target's own check; the sandbox refuses a name that is a number.
    loose = {"type": "object", "properties": {}}
    schema_free = singer("contacts", [contact(1, firstName=42)], schema=loose)
    result = target(empty, schema_free)
    assert result.returncode == 1
    [line] = target.dead_letters
    assert line["status"] == 400
    assert "FirstName" in line["error"]


def test_a_conflict_on_create_becomes_an_update(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    """A contact created by someone else after the target's scan: its phone meets 409 on
    create, which turns into a rescan and an update under upsert."""
    config = target.config(empty)
    instance = TargetLiveSwitch(config=config)
    instance.process_lines(io.StringIO(singer("contacts", [contact(1)])))  # scans, creates
    ApiClient.from_config(config).request("POST", "/contacts", json={"phone": "+15559000002"})
    instance.process_lines(io.StringIO(singer("contacts", [contact(2)])))
    instance.process_endofpipe()

    assert writes(empty) == {"POST /v1/contacts": 3, "PUT /v1/contacts/{id}": 1}
    assert empty.stats()["statuses"].get("409") == 1
    assert stored(empty, target)["+15559000002"]["firstName"] == "First2"
    assert instance.run.report.get("contacts", Outcome.UPDATED) == 1


def test_dry_run_sends_no_write_and_changes_no_ledger(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    target(empty, singer("contacts", [contact(1)])).check()
    lines = singer("contacts", [contact(1, firstName="Changed"), contact(2), contact(3, phone="")])
    result = target(empty, lines, dry_run=True)
    assert result.returncode == 1  # the phone-less record is still rejected
    assert "Summary: dry run (nothing was written): contacts:" in result.stderr
    assert summary(result, "contacts") == outcome(created=1, updated=1, rejected=1)
    assert "dry run: would send PUT /contacts/" in result.stderr
    assert result.stderr.count("dry run: would send POST /contacts") == 1
    assert writes(empty) == {"POST /v1/contacts": 1}

    # The ledger did not learn the dry run's stand-ins: a real run creates both.
    real = target(empty, singer("contacts", [contact(2)]))
    assert summary(real, "contacts") == outcome(created=1)
