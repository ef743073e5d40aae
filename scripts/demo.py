"""`make demo`: tap-liveswitch under Meltano, against a local sandbox, into files you can open.

1. installs Meltano and the project's plugins (first run only),
2. starts `liveswitch-sandbox` (a local stand-in for LiveSwitch and its login server),
3. runs the Meltano job `liveswitch-to-jsonl` and shows what it wrote,
4. changes a few records in the sandbox and runs the job again: only those come back, because
   Meltano kept the tap's bookmarks,
5. stops the sandbox.

Nothing leaves this machine and no credentials are needed. Output goes to output/demo/; Meltano's
database for the demo (its state) and the demo's token store go to .meltano/demo/. Both are
wiped at the start of each demo.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import tools
from meltano_project import JOB, REPO_ROOT, MeltanoProject, sandbox_credentials

from liveswitch_sandbox.process import SandboxProcess

OUTPUT = REPO_ROOT / "output" / "demo"
WORKDIR = REPO_ROOT / ".meltano" / "demo"
CONTACTS, CONVERSATIONS, TOUCHED = 50, 20, 5


def say(text: str = "") -> None:
    print(text, flush=True)


def shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def meltano(project: MeltanoProject, *args: str, log: Path | None = None) -> None:
    """Run a meltano command; its log goes to `log` (or is dropped); stop the demo if it fails."""
    started = time.monotonic()
    result = project.run(*args)
    if log is not None:
        log.write_text(result.stderr)
    if result.returncode != 0:
        say(f"\n`meltano {' '.join(args)}` failed (exit {result.returncode}). Its last lines:")
        say(result.stderr[-4000:])
        raise SystemExit(1)
    say(f"   done in {time.monotonic() - started:.0f} s")


def count_lines(files: list[Path]) -> dict[str, tuple[int, Path]]:
    """Records per stream in `files` (target-jsonl writes `<stream>-<timestamp>.jsonl`)."""
    return {
        path.name.rsplit("-", 1)[0]: (len(path.read_text().splitlines()), path)
        for path in sorted(files)
    }


def report(files: list[Path]) -> None:
    for stream, (count, path) in count_lines(files).items():
        noun = "record " if count == 1 else "records"
        say(f"   {stream:<14} {count:>3} {noun}  -> {shown(path)}")


def show_bookmarks(project: MeltanoProject) -> None:
    say(f"   Meltano saved the tap's bookmarks (state id {project.state_id}):")
    for stream, mark in project.bookmarks().items():
        if "replication_key_value" in mark:
            key, value = mark["replication_key"], mark["replication_key_value"]
            say(f"   {stream:<14} next run reads {key} >= {value}")


def explain_extras(touched: dict[str, list[str]], files: list[Path]) -> None:
    """Say why a rerun may bring back a record nobody touched."""
    for path in files:
        stream = path.name.rsplit("-", 1)[0]
        if stream in touched:
            ids = {json.loads(line)["id"] for line in path.read_text().splitlines()}
            if extra := len(ids - set(touched[stream])):
                say(
                    f"   ({stream}: plus {extra} untouched, whose updatedAt equals the old "
                    "bookmark;\n    bookmarks are inclusive, so nothing changed at that instant "
                    "is ever missed)"
                )


def run_job(project: MeltanoProject, number: int) -> list[Path]:
    before = set(OUTPUT.glob("*.jsonl"))
    log = WORKDIR / f"run-{number}.log"
    say(f"   meltano run {JOB}   (Meltano's log: {shown(log)})")
    meltano(project, "run", JOB, log=log)
    return sorted(set(OUTPUT.glob("*.jsonl")) - before)


def main() -> int:
    say(__doc__.split("\n\n", 1)[0])
    say()
    shutil.rmtree(OUTPUT, ignore_errors=True)
    shutil.rmtree(WORKDIR, ignore_errors=True)
    OUTPUT.mkdir(parents=True)

    say(f"1. Meltano {tools.MELTANO_VERSION}, in its own virtual environment")
    say(f"   ({shown(tools.MELTANO.folder)})")
    project = MeltanoProject(tools.ensure(tools.MELTANO), WORKDIR)
    say("   meltano install   (tap-liveswitch and target-liveswitch from this checkout,")
    say("                      target-jsonl from PyPI, into .meltano/; slow only the first time)")
    meltano(project, "install")

    say(f"\n2. Starting a sandbox with {CONTACTS} contacts and {CONVERSATIONS} conversations")
    with SandboxProcess(
        contacts=CONTACTS, conversations=CONVERSATIONS, seed=1, **sandbox_credentials()
    ) as sandbox:
        say(f"   {sandbox.api_url}")
        project.point("TAP_LIVESWITCH", sandbox)
        project.env["TARGET_JSONL_DESTINATION_PATH"] = str(OUTPUT)

        say("\n3. First run: everything (no bookmarks yet)")
        first = run_job(project, 1)
        report(first)
        show_bookmarks(project)

        touched = sandbox.touch(TOUCHED)
        changed = ", ".join(f"{len(ids)} {stream}" for stream, ids in touched.items())
        say(f"\n4. Changed {changed} in the sandbox; second run:")
        second = run_job(project, 2)
        report(second)
        explain_extras(touched, second)
        show_bookmarks(project)
    say("\n5. Sandbox stopped.")
    say(f"\nOpen the files in {shown(OUTPUT)}/ (one JSON object per line). To schedule the same")
    say("job with Airflow, see orchestrate/airflow/dags/liveswitch.py and the README.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
