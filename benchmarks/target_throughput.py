"""Target throughput (issue 7): target-liveswitch against a sequential create loop.

    .venv/bin/python benchmarks/target_throughput.py [--contacts 2000] [--repeats 3]
        [--loop-repeats 1] [--latency-ms 100]

Every run gets a fresh, empty sandbox (--contacts 0, --latency-ms 100) and writes the same
2,000 contacts. Contenders: the sequential create loop (benchmarks/plain_loops.py create: one
POST /contacts after another with requests), target-liveswitch with default settings, and with
max_concurrent_writes 8 when the target offers that setting (its --about says; without it the
target is measured as it is and the table says so). "written once" checks, from
/_sandbox/stats, that each run created exactly the input's contacts and the sandbox holds
exactly that many. The loop's rate at 100 ms a call barely varies and one run of it takes
minutes, so it runs once by default. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from common import (
    BIN,
    PLAIN_LOOPS,
    Contender,
    Run,
    machine_description,
    measure,
    prime_token_store,
    print_goal,
    print_table,
    progress,
    run_process,
    sandbox,
    sandbox_usage,
    write_json,
)

from liveswitch_sandbox.process import SandboxProcess

LOOP = "create loop"
TARGET_DEFAULT = "target-liveswitch (default)"
TARGET_8 = "target-liveswitch (8)"
CONCURRENCY_SETTING = "max_concurrent_writes"
STRING = {"type": ["string", "null"]}


def singer_input(path: Path, contacts: int) -> Path:
    """SCHEMA, one RECORD per contact (unique phones), and a closing STATE."""
    schema = {
        "type": "object",
        "properties": {name: STRING for name in ("id", "phone", "firstName", "lastName", "email")},
    }
    lines = [{"type": "SCHEMA", "stream": "contacts", "schema": schema, "key_properties": ["id"]}]
    lines += [
        {
            "type": "RECORD",
            "stream": "contacts",
            "record": {
                "id": f"source-{n}",
                "phone": f"+1555{n:07d}",
                "firstName": f"First{n}",
                "lastName": f"Last{n}",
                "email": f"person{n}@example.com",
            },
        }
        for n in range(contacts)
    ]
    lines.append({"type": "STATE", "value": {"bookmarks": {"contacts": {"done": contacts}}}})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def target_settings() -> set[str]:
    about = subprocess.run(
        [BIN / "target-liveswitch", "--about", "--format=json"],
        check=True,
        capture_output=True,
    )
    return set(json.loads(about.stdout)["settings"]["properties"])


class Scenario:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.contacts = args.contacts
        self.latency_ms = args.latency_ms
        self.input = singer_input(workdir / "input.singer", args.contacts)

    def loop(self, repeats: int) -> Contender:
        def command(sb: SandboxProcess, folder: Path, access_token: str) -> list[object]:
            config = {"api_url": sb.api_url, "access_token": access_token}
            config_path = write_json(folder / "loop.json", config)
            return [sys.executable, PLAIN_LOOPS, "create", config_path, self.input]

        return Contender(LOOP, self._runner(command), repeats)

    def target(self, name: str, **settings: object) -> Contender:
        def command(sb: SandboxProcess, folder: Path, access_token: str) -> list[object]:
            # the ledger and dead letter default to the token store's (fresh) folder
            config = sb.config(token_store_path=str(folder / "tokens.json"), **settings)
            return [
                BIN / "target-liveswitch",
                "--config",
                write_json(folder / "config.json", config),
            ]

        return Contender(name, self._runner(command))

    def _runner(
        self, command: Callable[[SandboxProcess, Path, str], list[object]]
    ) -> Callable[[Path], Run]:
        """Each run on a fresh empty sandbox; records = contacts the sandbox saw created."""

        def run(folder: Path) -> Run:
            with sandbox(contacts=0, latency_ms=self.latency_ms) as (sb, _):
                access_token = prime_token_store(sb, folder / "tokens.json")
                with sandbox_usage(sb) as usage:
                    process = run_process(
                        command(sb, folder, access_token),
                        stdout=folder / "stdout",
                        stderr=folder / "stderr",
                        stdin=self.input,
                    )
            created = contacts_created(usage["after"]) - contacts_created(usage["before"])
            stored = usage["after"]["counts"]["contacts"]
            return Run(
                process,
                created,
                usage["counts"],
                usage["sandbox_cpu_seconds"],
                {"written_once": float(created == stored == self.contacts), "stored": stored},
            )

        return run


def contacts_created(stats: Mapping[str, Any]) -> int:
    return int(stats["records"]["contacts"]["created"])


def written_once(contender: Contender) -> str:
    failed = [run for run in contender.runs if not run.extra["written_once"]]
    if not failed:
        return "yes"
    return (
        f"NO ({len(failed)} runs; stored {', '.join(str(int(r.extra['stored'])) for r in failed)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each target")
    parser.add_argument("--loop-repeats", type=int, default=1, help="runs of the create loop")
    args = parser.parse_args()

    concurrent = CONCURRENCY_SETTING in target_settings()
    print(machine_description())
    with tempfile.TemporaryDirectory(prefix="target-throughput-") as workdir:
        scenario = Scenario(args, Path(workdir))
        contenders = [scenario.loop(args.loop_repeats), scenario.target(TARGET_DEFAULT)]
        if concurrent:
            contenders.append(scenario.target(TARGET_8, **{CONCURRENCY_SETTING: 8}))
        progress(f"target: {args.contacts} contacts into an empty sandbox, {args.latency_ms} ms")
        measure(contenders, args.repeats, Path(workdir))

    print_table(
        f"Target, {args.contacts:,} contacts into an empty sandbox, --latency-ms "
        f"{args.latency_ms:g}",
        contenders,
        against=(("loop", LOOP),),
        extra_columns=(("written once", written_once),),
    )
    if not concurrent:
        print(
            f"  note: target-liveswitch has no `{CONCURRENCY_SETTING}` setting yet; "
            "it was measured as it is (no run with 8)"
        )
    best = contenders[-1]
    ratio = best.records_per_second / contenders[0].records_per_second
    print_goal(f"{best.name} records/s >= 6x the create loop's", ratio, ratio >= 6)


if __name__ == "__main__":
    main()
