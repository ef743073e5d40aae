"""max_concurrent_writes 8 against a sandbox with latency: every record written once, per-contact
order kept, STATE never ahead of the writes (even across a SIGKILL), and a rate-limited or
faulty server loses nothing and writes nothing twice."""

from __future__ import annotations

import json
import signal
from collections import Counter
from typing import Any

import pytest
from singer_run import write_json
from target_helpers import (
    Factory,
    TargetRunner,
    contact,
    interrupt_target,
    outcome,
    record_line,
    schema_line,
    state_line,
    summary,
    writes,
)

from liveswitch_api import wire
from liveswitch_api.client import ApiClient
from liveswitch_sandbox.process import SandboxProcess

WRITERS = 8
LATENCY_MS = 50


def contacts_input(count: int, *, state_every: int = 0) -> str:
    """`count` contacts; with `state_every`, a STATE {"done": n} after every n-th record."""
    lines = [schema_line("contacts")]
    for n in range(count):
        lines.append(record_line("contacts", contact(n)))
        if state_every and (n + 1) % state_every == 0:
            lines.append(state_line({"done": n + 1}))
    return "\n".join(lines) + "\n"


def stored(sandbox: SandboxProcess, target: TargetRunner) -> list[dict[str, Any]]:
    return list(ApiClient.from_config(target.config(sandbox)).iter_records(wire.CONTACTS, 100))


def conversations(sandbox: SandboxProcess, target: TargetRunner) -> list[dict[str, Any]]:
    client = ApiClient.from_config(target.config(sandbox))
    return list(client.iter_records(wire.CONVERSATIONS, 100))


def created(sandbox: SandboxProcess, resource: str) -> int:
    return int(sandbox.stats()["records"][resource]["created"])


def test_every_record_is_written_once_and_each_state_after_its_records(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0, latency_ms=LATENCY_MS)
    count = 60
    lines = [schema_line("contacts")]
    lines += [record_line("contacts", contact(n)) for n in range(count)]
    lines.append(schema_line("conversations"))
    for n in range(count):
        # each conversation names a contact created in this very run
        record = {"id": f"conv-{n}", "contactId": f"src-contact-{n}", "name": f"Conv {n}"}
        lines.append(record_line("conversations", record))
        lines.append(state_line({"conversations": n + 1}))  # a STATE after every record
    result = target(
        sandbox,
        "\n".join(lines) + "\n",
        max_concurrent_writes=WRITERS,
        allow_conversation_invites=True,
    ).check()

    assert summary(result, "contacts") == outcome(created=count)
    assert summary(result, "conversations") == outcome(created=count)
    assert writes(sandbox) == {"POST /v1/contacts": count, "POST /v1/conversations": count}
    assert created(sandbox, "contacts") == created(sandbox, "conversations") == count
    phones = {c["id"]: c["phone"] for c in stored(sandbox, target)}
    assert sorted((c["name"], phones[c["contactId"]]) for c in conversations(sandbox, target)) == (
        sorted((f"Conv {n}", contact(n)["phone"]) for n in range(count))
    )
    # Every STATE passed on, in input order (the SDK repeats the last one at the end).
    states = [json.loads(line)["conversations"] for line in result.stdout.splitlines()]
    assert states == [*range(1, count + 1), count]


def test_records_for_one_contact_are_applied_in_input_order(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0, latency_ms=LATENCY_MS)
    count = 20
    # Side by side, so without ordering they would run at once: a create, an update, and
    # another source record with the same phone (the same contact, matched by phone).
    records = [
        record
        for n in range(count)
        for record in (
            contact(n, lastName="first"),
            contact(n, lastName="second"),
            {"id": f"crm-{n}", "phone": contact(n)["phone"], "lastName": "last"},
        )
    ]
    lines = [schema_line("contacts"), *(record_line("contacts", r) for r in records)]
    result = target(sandbox, "\n".join(lines) + "\n", max_concurrent_writes=WRITERS).check()

    assert summary(result, "contacts") == outcome(created=count, updated=2 * count)
    assert writes(sandbox) == {"POST /v1/contacts": count, "PUT /v1/contacts/{id}": 2 * count}
    contacts = stored(sandbox, target)
    assert len(contacts) == count
    assert {c["lastName"] for c in contacts} == {"last"}, "an earlier update won"
    assert {c["firstName"] for c in contacts} == {f"First{n}" for n in range(count)}


def test_a_killed_run_passed_on_no_state_ahead_of_its_writes(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0, latency_ms=LATENCY_MS)
    count = 200
    pipe = contacts_input(count, state_every=10)
    settings = {"max_concurrent_writes": WRITERS}
    config = write_json(target.workdir / "kill.config.json", target.config(sandbox, **settings))
    returncode, stdout, _ = interrupt_target(
        config, pipe, lambda: writes(sandbox).get("POST /v1/contacts", 0) >= 50
    )
    assert returncode == -signal.SIGKILL
    states = [json.loads(line)["done"] for line in stdout.splitlines() if line.strip()]
    assert states, "a STATE was passed on before the kill"
    assert states == sorted(states)
    phones = Counter(c["phone"] for c in stored(sandbox, target))
    assert all(phones[contact(n)["phone"]] == 1 for n in range(states[-1])), (
        "a STATE went out before a record ahead of it was written"
    )

    rerun = target(sandbox, pipe, **settings).check()
    phones = Counter(c["phone"] for c in stored(sandbox, target))
    assert len(phones) == count
    assert set(phones.values()) == {1}
    assert created(sandbox, "contacts") == count, "a contact was created twice"
    assert json.loads(rerun.stdout.splitlines()[-1]) == {"done": count}


@pytest.mark.parametrize(
    ("server", "settings", "refused"),
    [
        # the server's window headers keep the writers under its limit
        ({"rate_limit": 15}, {}, False),
        # Retry-After only: the writers meet the limit, and back off
        ({"rate_limit": 15, "rate_limit_headers": False}, {"max_retries": 10}, True),
        # 5 starts a second, spaced evenly: no 1-second window of a limit of 10 can fill
        ({"rate_limit": 10, "rate_limit_headers": False}, {"max_requests_per_second": 5}, False),
    ],
    ids=["window-headers", "retry-after", "rate-cap"],
)
def test_a_rate_limit_loses_nothing_and_writes_nothing_twice(
    sandbox_factory: Factory,
    target: TargetRunner,
    server: dict[str, Any],
    settings: dict[str, Any],
    refused: bool,
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0, latency_ms=LATENCY_MS, **server)
    count = 45
    result = target(
        sandbox, contacts_input(count), max_concurrent_writes=WRITERS, **settings
    ).check()
    assert summary(result, "contacts") == outcome(created=count)
    stats = sandbox.stats()
    throttled = stats["statuses"].get("429", 0)
    assert bool(throttled) == refused, f"{throttled} answers were 429"
    assert stats["records"]["contacts"]["created"] == count
    assert writes(sandbox)["POST /v1/contacts"] - throttled <= count
    assert len(stored(sandbox, target)) == count


def test_faults_leave_each_record_written_once_or_dead_lettered(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(
        contacts=0, conversations=0, latency_ms=LATENCY_MS, fault_rate=0.1, seed=11
    )
    count = 40
    lines = [schema_line("contacts")]
    lines += [record_line("contacts", contact(n)) for n in range(count)]
    lines.append(schema_line("conversations"))
    lines += [
        record_line(
            "conversations",
            {"id": f"conv-{n}", "contactId": f"src-contact-{n}", "name": f"Conv {n}"},
        )
        for n in range(count)
    ]
    result = target(
        sandbox,
        "\n".join(lines) + "\n",
        max_concurrent_writes=WRITERS,
        max_retries=8,
        allow_conversation_invites=True,
    )
    assert sum(sandbox.stats()["faults"].values()) > 0, "faults were met"
    dead = Counter((line["stream"], line["record"]["id"]) for line in target.dead_letters)
    assert set(dead.values()) <= {1}
    assert result.returncode == (1 if dead else 0), result.stderr[-3000:]

    phones = Counter(c["phone"] for c in stored(sandbox, target))
    names = Counter(c["name"] for c in conversations(sandbox, target))
    assert set(phones.values()) <= {1}, "a contact was created twice"
    assert set(names.values()) <= {1}, "a conversation was created twice"
    for n in range(count):
        written = phones[contact(n)["phone"]] == 1
        assert written != (("contacts", f"src-contact-{n}") in dead), n
        written = names[f"Conv {n}"] == 1
        assert written != (("conversations", f"conv-{n}") in dead), n
    assert created(sandbox, "contacts") == len(phones)
    assert created(sandbox, "conversations") == len(names)


def test_max_failures_stops_the_writes(sandbox_factory: Factory, target: TargetRunner) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0, latency_ms=LATENCY_MS)
    bad = [contact(n, phone=None) for n in range(5)]
    good = [contact(n) for n in range(5, 105)]
    lines = [schema_line("contacts"), *(record_line("contacts", r) for r in bad + good)]
    result = target(sandbox, "\n".join(lines) + "\n", max_failures=1, max_concurrent_writes=WRITERS)
    assert result.returncode == 1
    assert "records rejected, more than max_failures (1); stopping" in result.stderr
    assert "Traceback" not in result.stderr
    counts = summary(result, "contacts")
    assert counts["rejected"] >= 2
    # Writes already running or queued end; none after them starts.
    assert counts["created"] == created(sandbox, "contacts") < len(good)
