"""Whole pipes: tap-liveswitch | target-liveswitch between two sandboxes, reruns, a SIGKILL in
the middle of a run, and a faulty, rate-limited server."""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from singer_run import SingerRun, run_tap, write_json
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

HOOKS = [
    {"url": "http://127.0.0.1:9/contacts", "entityName": "contact", "eventType": "CREATE"},
    {
        "url": "http://127.0.0.1:9/conversations",
        "entityName": "conversation",
        "eventType": "UPDATE",
    },
]


def client(sandbox: SandboxProcess, workdir: Path) -> ApiClient:
    """A client sharing the token store in `workdir` (one store per sandbox: with rotation on,
    two stores holding the same refresh token would revoke its family)."""
    return ApiClient.from_config(sandbox.config(token_store_path=str(workdir / "tokens.json")))


def snapshot(api: ApiClient) -> dict[str, Any]:
    """An organization's data in comparable form: contacts by phone, conversations by their
    contact's phone and fields, webhooks by what they subscribe to."""
    contacts = list(api.iter_records(wire.CONTACTS, 100))
    phones = {c["id"]: c["phone"] for c in contacts}
    fields = ("type", "name", "notes", "message")
    return {
        "contacts": {c["phone"]: (c["firstName"], c["lastName"], c["email"]) for c in contacts},
        "conversations": sorted(
            (phones[c["contactId"]], *(str(c[f]) for f in fields), tuple(c["tags"]))
            for c in api.iter_records(wire.CONVERSATIONS, 100)
        ),
        "webhooks": sorted(
            (h["url"], h["entityName"], h["eventType"])
            for h in api.request("GET", wire.WEBHOOKS.path)
        ),
    }


def tap_output(sandbox: SandboxProcess, workdir: Path) -> SingerRun:
    """tap-liveswitch's output, with the token store in `workdir`."""
    workdir.mkdir(exist_ok=True)
    config = sandbox.config(token_store_path=str(workdir / "tokens.json"))
    return run_tap(config, workdir).check()


def test_round_trip_then_a_rerun_sends_no_write(
    sandbox_factory: Factory, target: TargetRunner, tmp_path: Path
) -> None:
    source = sandbox_factory(contacts=15, conversations=10, seed=3)
    empty = sandbox_factory(contacts=0, conversations=0, seed=4)
    source_api = client(source, tmp_path / "source")
    for hook in HOOKS:
        source_api.request("POST", wire.WEBHOOKS.path, json=hook)
    pipe = tap_output(source, tmp_path / "source").stdout

    first = target(empty, pipe, allow_conversation_invites=True).check()
    assert summary(first, "contacts") == outcome(created=15)
    assert summary(first, "conversations") == outcome(created=10)
    assert summary(first, "webhooks") == outcome(created=2)
    assert summary(first, "me") == outcome(skipped=1)

    copied = snapshot(client(empty, target.workdir))
    assert copied == snapshot(source_api)
    # ...and read back by the tap, as a user would.
    again = tap_output(empty, target.workdir)
    assert len(again.records("contacts")) == 15
    assert len(again.records("conversations")) == 10

    before = writes(empty)
    second = target(empty, pipe, allow_conversation_invites=True).check()
    assert writes(empty) == before
    assert summary(second, "contacts") == outcome(unchanged=15)
    assert summary(second, "conversations") == outcome(unchanged=10)
    assert summary(second, "webhooks") == outcome(unchanged=2)
    # STATE goes through, the tap's own last one last.
    assert (
        json.loads(second.stdout.splitlines()[-1])
        == json.loads([line for line in pipe.splitlines() if '"STATE"' in line][-1])["value"]
    )


def conversation_input(count: int) -> str:
    """Contacts, then conversations for them, with a STATE after every fifth conversation whose
    value says how many conversations came before it."""
    lines = [schema_line("contacts")]
    lines += [record_line("contacts", contact(n)) for n in range(count)]
    lines.append(schema_line("conversations"))
    for n in range(count):
        record = {"id": f"conv-{n}", "contactId": f"src-contact-{n}", "name": f"Conv {n}"}
        lines.append(record_line("conversations", record))
        if (n + 1) % 5 == 0:
            lines.append(state_line({"conversations_done": n + 1}))
    return "\n".join(lines) + "\n"


def test_a_killed_run_rerun_creates_nothing_twice(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    sandbox = sandbox_factory(contacts=0, conversations=0, latency_ms=25)
    count = 30
    pipe = conversation_input(count)
    config = write_json(
        target.workdir / "kill.config.json",
        target.config(sandbox, allow_conversation_invites=True),
    )
    returncode, stdout, _ = interrupt_target(
        config, pipe, lambda: writes(sandbox).get("POST /v1/conversations", 0) >= 8
    )
    assert returncode == -signal.SIGKILL
    states = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert states, "a STATE was passed on before the kill"
    api = client(sandbox, target.workdir)
    names = Counter(c["name"] for c in api.iter_records(wire.CONVERSATIONS, 100))
    # Every STATE passed on covers conversations that exist.
    done = states[-1]["conversations_done"]
    assert all(names[f"Conv {n}"] == 1 for n in range(done))

    rerun = target(sandbox, pipe, allow_conversation_invites=True)
    contacts = Counter(c["phone"] for c in api.iter_records(wire.CONTACTS, 100))
    names = Counter(c["name"] for c in api.iter_records(wire.CONVERSATIONS, 100))
    assert set(contacts.values()) == {1}
    assert len(contacts) == count
    assert set(names.values()) == {1}, "a conversation was created twice"
    # Creates the sandbox made, not POSTs it saw: one cut off mid-body by the kill is answered
    # 400 and creates nothing.
    created = sandbox.stats()["records"]
    assert created["contacts"]["created"] == count
    assert created["conversations"]["created"] == sum(names.values())
    # The create cut off in flight was looked up, adopted or sent: every conversation once.
    assert len(names) == count
    assert target.dead_letters == []
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    # A target prints each state as a bare JSON value, one a line.
    assert json.loads(rerun.stdout.splitlines()[-1]) == {"conversations_done": count}


def test_faults_and_rate_limits_lose_nothing_and_write_nothing_twice(
    sandbox_factory: Factory, target: TargetRunner, tmp_path: Path
) -> None:
    source = sandbox_factory(contacts=10, conversations=6, seed=5)
    pipe = tap_output(source, tmp_path / "source").stdout
    # Retry-After only, so the writers do meet the limit (window headers would keep them under)
    flaky = sandbox_factory(
        contacts=0, conversations=0, fault_rate=0.1, rate_limit=8, rate_limit_headers=False, seed=6
    )
    result = target(flaky, pipe, allow_conversation_invites=True, max_retries=10)

    copied = snapshot(client(flaky, target.workdir))
    source_data = snapshot(client(source, tmp_path / "source"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert target.dead_letters == []
    assert copied == source_data
    stats = flaky.stats()
    assert stats["statuses"].get("429", 0) > 0, "the rate limit was met"
    assert sum(stats["faults"].values()) > 0, "faults were met"
    assert stats["records"]["contacts"]["created"] == 10
