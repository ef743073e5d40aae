"""Helpers for target tests: Singer input built by hand, the target run as users run it, and
what the sandbox saw."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from singer_run import BIN, SingerRun, run_target, secrets_in, stored_tokens

from liveswitch_sandbox.process import SandboxProcess

STRING = {"type": ["string", "null"]}
SCHEMAS: dict[str, dict[str, Any]] = {
    "contacts": {
        "type": "object",
        "properties": {name: STRING for name in ("id", "phone", "firstName", "lastName", "email")},
    },
    "conversations": {
        "type": "object",
        "properties": {
            **{
                name: STRING
                for name in ("id", "contactId", "phone", "type", "name", "notes", "message")
            },
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    },
    "webhooks": {
        "type": "object",
        "properties": {name: STRING for name in ("id", "url", "entityName", "eventType")},
    },
}


def schema_line(
    stream: str, key_properties: Sequence[str] = ("id",), schema: dict[str, Any] | None = None
) -> str:
    schema = schema or SCHEMAS.get(stream, {"type": "object", "properties": {"id": STRING}})
    message = {
        "type": "SCHEMA",
        "stream": stream,
        "schema": schema,
        "key_properties": list(key_properties),
    }
    return json.dumps(message)


def record_line(stream: str, record: Mapping[str, Any]) -> str:
    return json.dumps({"type": "RECORD", "stream": stream, "record": dict(record)})


def state_line(value: Mapping[str, Any]) -> str:
    return json.dumps({"type": "STATE", "value": dict(value)})


def singer(
    stream: str,
    records: Iterable[Mapping[str, Any]],
    key_properties: Sequence[str] = ("id",),
    schema: dict[str, Any] | None = None,
) -> str:
    """A SCHEMA line (the stream's usual schema unless given) and one RECORD line per record."""
    lines = [schema_line(stream, key_properties, schema)]
    lines += [record_line(stream, record) for record in records]
    return "\n".join(lines) + "\n"


def contact(n: int, **fields: Any) -> dict[str, Any]:
    """A source contact with a unique phone; `fields` override or add."""
    return {
        "id": f"src-contact-{n}",
        "phone": f"+1555900{n:04d}",
        "firstName": f"First{n}",
        "lastName": f"Last{n}",
        "email": f"person{n}@example.com",
        **fields,
    }


def writes(sandbox: SandboxProcess) -> dict[str, int]:
    """Write requests the sandbox answered, e.g. {"POST /v1/contacts": 3}."""
    requests: dict[str, int] = sandbox.stats()["requests"]
    return {
        name: count
        for name, count in requests.items()
        if name.split()[0] in ("POST", "PUT", "DELETE") and "/v1/" in name
    }


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def known_secrets(sandbox: SandboxProcess, store: Path) -> list[str]:
    return [sandbox.client_secret, sandbox.refresh_token, *stored_tokens(store)]


class TargetRunner:
    """Runs target-liveswitch against a sandbox, with its files in one folder."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.token_store = workdir / "tokens.json"
        # The ledger and the dead letter default to the token store's folder.
        self.ledger = workdir / "ledger.sqlite3"
        self.dead_letter_path = workdir / "dead-letter.jsonl"

    def config(self, sandbox: SandboxProcess, **settings: Any) -> dict[str, Any]:
        return sandbox.config(token_store_path=str(self.token_store), **settings)

    def __call__(self, sandbox: SandboxProcess, stdin: str, **settings: Any) -> SingerRun:
        result = run_target(self.config(sandbox, **settings), self.workdir, stdin, timeout=120)
        leaked = secrets_in(
            result.stdout + result.stderr + self.dead_letter_text(),
            known_secrets(sandbox, self.token_store),
        )
        assert not leaked, f"secrets in the target's output or dead letter: {leaked}"
        return result

    def dead_letter_text(self) -> str:
        path = self.dead_letter_path
        return path.read_text() if path.exists() else ""

    @property
    def dead_letters(self) -> list[dict[str, Any]]:
        return read_jsonl(self.dead_letter_path)


OUTCOMES = ("created", "updated", "unchanged", "deleted", "rejected", "skipped")


def summary(result: SingerRun, stream: str) -> dict[str, int]:
    """The counts of the target's summary line for a stream (dry run or not)."""
    pattern = re.compile(rf"Summary: (?:dry run \(nothing was written\): )?{stream}: (.*)$")
    found = [m for line in result.stderr.splitlines() if (m := pattern.search(line))]
    assert found, f"no summary for {stream}:\n{result.stderr[-3000:]}"
    counts = dict.fromkeys(OUTCOMES, 0)
    for part in found[-1].group(1).split(", "):
        name, number = part.rsplit(" ", 1)
        counts[name] = int(number)
    return counts


def outcome(**counts: int) -> dict[str, int]:
    """Expected summary counts: the ones given, zero for the rest."""
    return {name: counts.get(name, 0) for name in OUTCOMES}


Factory = Callable[..., SandboxProcess]


def interrupt_target(
    config: Path,
    pipe: str,
    until: Callable[[], bool],
    signum: signal.Signals = signal.SIGKILL,
) -> tuple[int, str, str]:
    """Feed `pipe` to target-liveswitch, send `signum` once `until()` holds (input left open).

    Returns the exit code, stdout and stderr. Output goes to files while it runs, so a chatty
    target can never block on a full pipe that nobody reads yet.
    """
    with (
        tempfile.TemporaryFile("w+") as stdout,
        tempfile.TemporaryFile("w+") as stderr,
        subprocess.Popen(
            [str(BIN / "target-liveswitch"), "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        assert process.stdin is not None
        process.stdin.write(pipe)
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not until():
            assert time.monotonic() < deadline, "the target made no progress"
            time.sleep(0.01)
        process.send_signal(signum)
        process.wait(timeout=60)
        stdout.seek(0)
        stderr.seek(0)
        return process.returncode, stdout.read(), stderr.read()
