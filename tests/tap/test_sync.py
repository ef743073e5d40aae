"""Full and incremental syncs against the sandbox, run as `tap-liveswitch --config ...`."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from singer_run import BIN, select_streams, write_json
from singer_run import run_tap as run_tap_script

from liveswitch_sandbox.faults import FaultPlan
from liveswitch_sandbox.process import SandboxProcess


def test_full_sync_emits_every_seeded_record_once(sandbox_factory, tap):
    sandbox = sandbox_factory(contacts=250, conversations=120)
    result = tap(sandbox).check()
    counts = sandbox.stats()["counts"]
    for stream in ("contacts", "conversations"):
        ids = result.ids(stream)
        assert len(ids) == counts[stream]
        assert len(set(ids)) == len(ids)
    assert len(result.records("me")) == 1
    assert result.last_state["bookmarks"]["contacts"]["replication_key"] == "updatedAt"


def test_incremental_run_emits_only_touched_records(sandbox_factory, tap):
    sandbox = sandbox_factory(contacts=150, conversations=60)
    first = tap(sandbox).check()
    again = tap(sandbox, state=first.last_state).check()
    # nothing changed: at most the boundary record (bookmarks are inclusive)
    assert len(again.records("contacts")) <= 1
    assert len(again.records("conversations")) <= 1

    touched = sandbox.touch(4)
    after_touch = tap(sandbox, state=again.last_state).check()
    for stream in ("contacts", "conversations"):
        bookmark = again.last_state["bookmarks"][stream]["replication_key_value"]
        emitted = {r["id"]: r for r in after_touch.records(stream)}
        assert set(touched[stream]) <= emitted.keys()
        extra = [emitted[i] for i in emitted.keys() - set(touched[stream])]
        assert len(extra) <= 1  # the boundary record, whose updatedAt is the bookmark
        assert all(r["updatedAt"] == bookmark for r in extra)
    assert (
        after_touch.last_state["bookmarks"]["contacts"]["replication_key_value"]
        > (first.last_state["bookmarks"]["contacts"]["replication_key_value"])
    )


def test_start_date_filters_on_the_client(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=120, conversations=10)
    everything = tap(sandbox).check().records("contacts")
    cutoff = sorted(r["updatedAt"] for r in everything)[60]
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"), start_date=cutoff)
    result = tap(sandbox, config).check()
    assert {r["id"] for r in result.records("contacts")} == {
        r["id"] for r in everything if r["updatedAt"] >= cutoff
    }


def test_catalog_selects_streams(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=30, conversations=10)
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"))
    result = tap(sandbox, config, args=select_streams(config, tmp_path, {"me"})).check()
    assert {m["stream"] for m in result.messages if m["type"] == "RECORD"} == {"me"}
    assert "GET /v1/contacts" not in sandbox.stats()["requests"]


def test_killed_run_resumes_from_its_last_state_without_gaps(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(contacts=60, conversations=200, latency_ms=20)
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"), page_size=20)
    command = [
        str(BIN / "tap-liveswitch"),
        "--config",
        str(write_json(tmp_path / "c.json", config)),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    emitted: set[str] = set()
    last_state = None
    for line in process.stdout:
        message = json.loads(line)
        if message["type"] == "STATE":
            last_state = message["value"]
        if message["type"] == "RECORD" and message["stream"] == "conversations":
            emitted.add(message["record"]["id"])
            if len(emitted) == 30:
                process.send_signal(signal.SIGKILL)
                break
    process.wait()
    assert last_state is not None, "the tap emitted no STATE before the kill"

    resumed = subprocess.run(
        [*command, "--state", str(write_json(tmp_path / "s.json", last_state))],
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in resumed.stdout.splitlines()]
    resumed_ids = {
        m["record"]["id"]
        for m in records
        if m["type"] == "RECORD" and m["stream"] == "conversations"
    }
    assert len(emitted | resumed_ids) == 200


@pytest.mark.parametrize(
    "options",
    [
        {"page_base": 0},
        {"max_page_size": 37},
        {"page_base": 0, "max_page_size": 37},
        {"fault_rate": 0.1, "seed": 7},
        {"rate_limit": 4, "rate_limit_headers": False},
    ],
    ids=["page-base-0", "clamped-37", "both", "faults", "rate-limited"],
)
def test_paging_survives_the_unknowns(sandbox_factory, tap, options):
    sandbox: SandboxProcess = sandbox_factory(contacts=230, conversations=75, **options)
    result = tap(sandbox).check()
    for stream, expected in (("contacts", 230), ("conversations", 75)):
        ids = result.ids(stream)
        assert len(ids) == expected, (stream, options)
        assert len(set(ids)) == expected


def test_a_faulted_probe_does_not_lose_a_zero_based_servers_first_page(sandbox_factory, tap):
    # the contacts stream's page-0 probe is faulted the first time
    seed = FaultPlan.seed_faulting_first(0.2, "GET", "/v1/contacts?page=0&pageSize=100")
    sandbox = sandbox_factory(contacts=230, conversations=5, page_base=0, fault_rate=0.2, seed=seed)
    result = tap(sandbox).check()
    assert len(set(result.ids("contacts"))) == 230
    assert "pages start at 0; read page 0 too" in result.stderr


def test_server_ignoring_page_stops_with_a_warning(sandbox_factory, tap):
    sandbox = sandbox_factory(contacts=250, conversations=5, ignore_page=True)
    result = tap(sandbox).check()
    assert len(result.ids("contacts")) == 100  # the one page it keeps answering
    assert "seems to ignore `page`" in result.stderr
    # pages 1 and 2, a window of speculative pages (4 by default) and the page-0 probe at most
    assert sandbox.stats()["requests"]["GET /v1/contacts"] <= 2 + 4 + 1


def test_retries_are_logged_once_each_without_bodies(sandbox_factory, tap):
    sandbox = sandbox_factory(contacts=400, conversations=5, fault_rate=0.3, seed=3)
    result = tap(sandbox).check()
    faults = sum(sandbox.stats()["faults"].values())
    retries = [line for line in result.stderr.splitlines() if "; retry " in line]
    # every retry is of a faulted request (the page-0 probe included), logged once
    assert 0 < len(retries) <= faults
    assert "Backing off" not in result.stderr  # the SDK's ERROR-level retry line is replaced
    assert all("WARNING" in line for line in retries)
    assert not any("{" in line.split("; retry")[0] for line in retries)


def test_exhausted_retries_fail_with_status_path_and_attempts(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=10, conversations=5, fault_rate=1.0)
    config = sandbox.config(token_store_path=str(tmp_path / "tokens.json"), max_retries=1)
    result = tap(sandbox, config)
    assert result.returncode != 0
    assert "failed after 2 attempts" in result.stderr


def test_concurrent_pages_give_exactly_the_sequential_output(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=700, conversations=90, latency_ms=5, max_page_size=37)
    store = str(tmp_path / "tokens.json")
    runs = [
        tap(sandbox, sandbox.config(token_store_path=store, max_concurrent_requests=n)).check()
        for n in (1, 8)
    ]
    sequential, concurrent = (
        [(m["stream"], m["record"]) for m in r.messages if m["type"] == "RECORD"] for r in runs
    )
    assert len(sequential) == 700 + 90 + 1
    assert concurrent == sequential
    assert runs[0].last_state["bookmarks"] == runs[1].last_state["bookmarks"]


def test_config_from_environment(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(contacts=12, conversations=3)
    env = {
        f"TAP_LIVESWITCH_{key.upper()}": str(value)
        for key, value in sandbox.config(token_store_path=str(tmp_path / "t.json")).items()
    }
    result = run_tap_script(None, tmp_path, args=["--config", "ENV"], env=env).check()
    assert len(result.ids("contacts")) == 12


def test_stream_maps_and_flattening_apply_to_the_output(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=12, conversations=3)
    config = sandbox.config(
        token_store_path=str(tmp_path / "t.json"),
        stream_maps={"contacts": {"email": "__NULL__", "phone_digits": "phone[-4:]"}},
    )
    contacts = tap(sandbox, config).check().records("contacts")
    assert len(contacts) == 12
    assert all("email" not in c and len(c["phone_digits"]) == 4 for c in contacts)


def test_deselected_fields_are_left_out(sandbox_factory, tap, tmp_path):
    sandbox = sandbox_factory(contacts=12, conversations=3)
    config = sandbox.config(token_store_path=str(tmp_path / "t.json"))
    catalog_args = select_streams(config, tmp_path, {"contacts"})
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == ["properties", "email"]:
                metadata["metadata"]["selected"] = False
    write_json(tmp_path / "catalog.json", catalog)
    contacts = tap(sandbox, config, args=catalog_args).check().records("contacts")
    assert len(contacts) == 12
    assert not any("email" in c for c in contacts)
    assert all("phone" in c for c in contacts)


@pytest.mark.parametrize("window_headers", [True, False], ids=["window-headers", "retry-after"])
def test_a_rate_limited_server_loses_nothing_and_refuses_little(
    sandbox_factory, tap, tmp_path, window_headers
):
    # 8 in flight against a server allowing 10 requests a second
    sandbox = sandbox_factory(
        contacts=2000, conversations=0, rate_limit=10, rate_limit_headers=window_headers
    )
    config = sandbox.config(token_store_path=str(tmp_path / "t.json"), max_concurrent_requests=8)
    result = tap(sandbox, config).check()
    assert len(set(result.ids("contacts"))) == 2000
    refused = sandbox.stats()["statuses"].get("429", 0)
    if window_headers:
        assert refused == 0, "the window headers were not heeded"
    else:
        # the first burst (at most the 8 in flight), then the learned rate keeps under the limit
        assert refused <= 10


def test_request_rate_cap_is_honoured(sandbox_factory, tap, tmp_path):
    # a server allowing 25 requests a second (and not saying so), a client capped at 16: it is
    # never refused
    sandbox = sandbox_factory(
        contacts=1200, conversations=5, rate_limit=25, rate_limit_headers=False
    )
    config = sandbox.config(
        token_store_path=str(tmp_path / "t.json"), max_requests_per_second=16.5, page_size=50
    )
    result = tap(sandbox, config).check()
    assert len(result.ids("contacts")) == 1200
    assert sandbox.stats()["statuses"].get("429", 0) == 0
