"""Bad input, bad settings and a failing server: each ends with one clear line and exit 1."""

from __future__ import annotations

import json
import signal

import pytest
from singer_run import run, write_json
from target_helpers import (
    Factory,
    TargetRunner,
    contact,
    interrupt_target,
    outcome,
    record_line,
    schema_line,
    singer,
    state_line,
    summary,
    writes,
)

from liveswitch_sandbox.process import SandboxProcess


@pytest.fixture
def empty(sandbox_factory: Factory) -> SandboxProcess:
    return sandbox_factory(contacts=0, conversations=0)


def test_an_unknown_stream_is_refused_naming_the_supported_ones(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    result = target(empty, singer("orders", [{"id": "1"}]))
    assert result.returncode == 1
    assert (
        "stream 'orders' is not supported; target-liveswitch writes contacts, conversations, "
        "webhooks, me (rename a stream with stream_maps)"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_stream_maps_can_rename_a_stream(empty: SandboxProcess, target: TargetRunner) -> None:
    maps = {"crm_people": {"__alias__": "contacts"}}
    result = target(empty, singer("crm_people", [contact(1)]), stream_maps=maps).check()
    assert summary(result, "contacts") == outcome(created=1)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"write_mode": "merge"}, "write_mode"),
        ({"contact_match_key": "name"}, "contact_match_key"),
        ({"max_failures": -1}, "max_failures: must be an integer >= 0"),
        ({"max_concurrent_writes": 0}, "max_concurrent_writes: must be an integer >= 1"),
        ({"max_requests_per_second": 0}, "max_requests_per_second: must be a number > 0"),
        ({"client_secret": None}, "client_secret: missing"),
        ({"api_url": "http://api.example.com/v1"}, "api_url: 'http://api.example.com/v1' must use"),
    ],
)
def test_bad_settings_fail_before_any_request(
    empty: SandboxProcess, target: TargetRunner, settings: dict[str, object], message: str
) -> None:
    config = {**target.config(empty), **settings}
    config = {k: v for k, v in config.items() if v is not None}
    result = run("target-liveswitch", config, target.workdir, stdin=singer("contacts", []))
    assert result.returncode == 1
    assert message in result.stderr
    assert empty.stats()["requests"] == {}


def test_max_failures_aborts_the_run_after_the_summary(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    # One write at a time, so the third record is not in flight when the second fails
    # (test_target_concurrency.py has the concurrent case).
    records = [contact(1, phone=None), contact(2, phone=None), contact(3)]
    result = target(empty, singer("contacts", records), max_failures=1, max_concurrent_writes=1)
    assert result.returncode == 1
    assert "2 records rejected, more than max_failures (1); stopping" in result.stderr
    assert summary(result, "contacts") == outcome(rejected=2)
    assert len(target.dead_letters) == 2
    assert writes(empty) == {}  # the third record was never read


def test_exhausted_retries_fail_the_run_naming_the_request(
    sandbox_factory: Factory, target: TargetRunner
) -> None:
    broken = sandbox_factory(contacts=0, conversations=0, fault_rate=1.0)
    result = target(broken, singer("contacts", [contact(1)]), max_retries=1)
    assert result.returncode == 1
    assert "failed after 2 attempts" in result.stderr
    assert "Traceback" not in result.stderr


def test_each_state_is_passed_on_after_the_records_before_it(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    lines = [
        schema_line("contacts"),
        record_line("contacts", contact(1)),
        state_line({"at": 1}),
        record_line("contacts", contact(2)),
        state_line({"at": 2}),
        state_line({"at": 2}),  # unchanged: not repeated
    ]
    result = target(empty, "\n".join(lines) + "\n").check()
    states = [json.loads(line) for line in result.stdout.splitlines()]
    # The last one is the SDK's own at the end of the input.
    assert states == [{"at": 1}, {"at": 2}, {"at": 2}]


def test_a_terminated_run_exits_1_after_its_summary(
    empty: SandboxProcess, target: TargetRunner
) -> None:
    config = write_json(target.workdir / "term.config.json", target.config(empty))
    # no end of input: only the signal ends the run
    returncode, _, stderr = interrupt_target(
        config, singer("contacts", [contact(1)]), lambda: bool(writes(empty)), signal.SIGTERM
    )
    assert returncode == 1
    assert "Received signal 15; stopping" in stderr
    assert "Summary: contacts: created 1," in stderr


def test_about_describes_every_setting() -> None:
    from target_liveswitch.target import TargetLiveSwitch

    properties = TargetLiveSwitch.config_jsonschema["properties"]
    for name in (
        "write_mode",
        "contact_match_key",
        "null_policy",
        "allow_conversation_invites",
        "prune_webhooks",
        "ledger_path",
        "dead_letter_path",
        "max_failures",
        "max_concurrent_writes",
        "max_requests_per_second",
        "dry_run",
        "refresh_token",
        "token_store_path",
    ):
        assert properties[name].get("description"), name
    # Records are written one by one (concurrently), as write_mode says: no batches, no
    # load_method.
    assert "load_method" not in properties
    assert "batch_size_rows" not in properties
