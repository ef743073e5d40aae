"""`meltano run` of the project's job into JSONL files, then an incremental rerun from the state
Meltano stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from meltano_helpers import Meltano
from meltano_project import JOB

from liveswitch_sandbox.process import SandboxProcess

pytestmark = pytest.mark.slow

INCREMENTAL = ("contacts", "conversations")


def read_files(folder: Path, skip: set[Path]) -> dict[str, list[dict[str, Any]]]:
    """Records per stream in the .jsonl files of `folder` not in `skip` (files of older runs)."""
    records: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(set(folder.glob("*.jsonl")) - skip):
        stream = path.name.rsplit("-", 1)[0]  # target-jsonl names files <stream>-<timestamp>
        lines = path.read_text().splitlines()
        records.setdefault(stream, []).extend(json.loads(line) for line in lines)
    return records


def test_job_writes_every_record_then_only_touched_ones(
    meltano: Meltano, sandbox_with_credentials: Callable[..., SandboxProcess], tmp_path: Path
) -> None:
    sandbox = sandbox_with_credentials(contacts=30, conversations=8, seed=11)
    token_store = meltano.point("TAP_LIVESWITCH", sandbox)
    output = tmp_path / "output"
    meltano.env["TARGET_JSONL_DESTINATION_PATH"] = str(output)

    runs = [meltano("run", JOB)]
    first = read_files(output, skip=set())
    counts = sandbox.stats()["counts"]
    for stream in INCREMENTAL:
        ids = [record["id"] for record in first[stream]]
        assert len(ids) == counts[stream] == len(set(ids)), stream
    assert len(first["me"]) == 1

    state = meltano.bookmarks()
    for stream in INCREMENTAL:
        newest = max(record["updatedAt"] for record in first[stream])
        assert state[stream]["replication_key"] == "updatedAt"
        assert state[stream]["replication_key_value"] == newest

    touched = sandbox.touch(4)
    first_files = set(output.glob("*.jsonl"))
    runs.append(meltano("run", JOB))
    second = read_files(output, skip=first_files)
    for stream in INCREMENTAL:
        emitted = {record["id"]: record for record in second[stream]}
        assert set(touched[stream]) <= emitted.keys(), stream
        # Bookmarks are inclusive (at-least-once): a record sitting exactly on the old bookmark
        # comes again; nothing else untouched may.
        for extra in emitted.keys() - set(touched[stream]):
            assert emitted[extra]["updatedAt"] == state[stream]["replication_key_value"], extra
    new_state = meltano.bookmarks()
    for stream in INCREMENTAL:
        assert new_state[stream]["replication_key_value"] > state[stream]["replication_key_value"]

    # No secret, configured or rotated, in Meltano's logs, the state or the files.
    seen = "".join(run.stdout + run.stderr for run in runs) + json.dumps(new_state)
    seen += "".join(path.read_text() for path in output.glob("*.jsonl"))
    stored = json.loads(token_store.read_text())["entries"].values()
    secrets = {sandbox.client_secret, sandbox.refresh_token}
    secrets |= {entry[key] for entry in stored for key in ("refresh_token", "access_token")}
    assert len(secrets) == 4
    for secret in secrets:
        assert secret not in seen
