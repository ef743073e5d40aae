"""What the throughput benchmarks share: sandboxes, measured child processes, the table.

Each contender runs as a child process (as users run it), its stdout to a file, its stderr to
another; a run is timed from spawn to exit (imports included) and its peak RSS read from the
kernel's rusage of that child (see LAUNCHER). Requests and 429s come from the sandbox's
/_sandbox/stats, as the difference between a snapshot before and after the run (the hook
itself is not counted).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from liveswitch_api.settings import build_authenticator  # noqa: E402
from liveswitch_sandbox.process import SandboxProcess  # noqa: E402

BIN = ROOT / ".venv" / "bin"
PLAIN_LOOPS = Path(__file__).resolve().parent / "plain_loops.py"
# Generating 200,000 contacts takes longer than the 20 s SandboxProcess allows by default.
SANDBOX_STARTUP_TIMEOUT = 300.0


# the machine -------------------------------------------------------------------------------


def machine_description() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"machine: {os.cpu_count()} CPUs ({model}), Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


# sandboxes ---------------------------------------------------------------------------------


@contextmanager
def sandbox(**options: object) -> Iterator[tuple[SandboxProcess, float]]:
    """A sandbox with `options`, and the seconds it took to start (data generation included)."""
    process = SandboxProcess(conversations=0, log_level="WARNING", **options)
    process.startup_timeout = SANDBOX_STARTUP_TIMEOUT
    began = time.perf_counter()
    with process:
        yield process, time.perf_counter() - began


def prime_token_store(sb: SandboxProcess, token_store_path: Path) -> str:
    """Refresh once into `token_store_path` and return the access token.

    Every contender then starts with a valid token: the tap and target find it in the store
    (so no run pays for a refresh or presents a rotated-away refresh token), the plain loops
    get it as a bearer token.
    """
    config = sb.config(token_store_path=str(token_store_path))
    return build_authenticator(config, logging.getLogger("benchmark")).access_token()


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


@dataclass(frozen=True)
class Counts:
    requests: int
    throttled: int


def request_counts(before: Mapping[str, Any], after: Mapping[str, Any]) -> Counts:
    """Requests served (API and token endpoint) and 429s between two stats snapshots."""

    def total(snapshot: Mapping[str, Any]) -> int:
        return sum(snapshot["requests"].values())

    def throttled(snapshot: Mapping[str, Any]) -> int:
        return int(snapshot["statuses"].get("429", 0))

    return Counts(total(after) - total(before), throttled(after) - throttled(before))


# measured runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    seconds: float
    peak_rss_kib: int
    cpu_seconds: float  # user + system


@dataclass(frozen=True)
class Run:
    process: Process
    records: int
    counts: Counts = Counts(0, 0)  # from the sandbox's stats
    sandbox_cpu_seconds: float = 0.0
    extra: Mapping[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.process.seconds

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def sandbox_cpu_seconds(sb: SandboxProcess) -> float:
    """CPU time the sandbox process has used so far (user + system, from /proc)."""
    assert sb.process is not None
    fields = Path(f"/proc/{sb.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_usage(sb: SandboxProcess) -> Iterator[dict[str, Any]]:
    """Yields a dict that holds, after the block, the stats `before` and `after` it, and the
    block's request `counts` and `sandbox_cpu_seconds`."""
    usage: dict[str, Any] = {"before": sb.stats()}
    cpu = sandbox_cpu_seconds(sb)
    yield usage
    usage["sandbox_cpu_seconds"] = sandbox_cpu_seconds(sb) - cpu
    usage["after"] = sb.stats()
    usage["counts"] = request_counts(usage["before"], usage["after"])


# A stdlib-only launcher between the benchmark and a contender. The kernel counts the RSS a
# child had before exec (the forking parent's pages) in its peak, so a contender forked straight
# from this process would report at least this process's own RSS; forked from a bare
# interpreter, the floor is about 10 MiB. It times the run and reports "seconds peak_kib cpu".
LAUNCHER = """
import resource, subprocess, sys, time
report, command = sys.argv[1], sys.argv[2:]
began = time.perf_counter()
code = subprocess.call(command)
seconds = time.perf_counter() - began
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(report, "w") as out:
    out.write(f"{seconds} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(code)
"""


def run_process(
    command: Sequence[object],
    *,
    stdout: Path,
    stderr: Path,
    stdin: Path | None = None,
) -> Process:
    """Run `command` to its end: wall seconds, peak RSS, CPU. Raises on a non-zero exit."""
    report = stdout.with_name(stdout.name + ".measure")
    with (
        stdout.open("wb") as out,
        stderr.open("wb") as err,
        stdin.open("rb") if stdin else open(os.devnull, "rb") as source,
    ):
        code = subprocess.call(
            [sys.executable, "-I", "-c", LAUNCHER, str(report), *map(str, command)],
            stdin=source,
            stdout=out,
            stderr=err,
        )
    if code != 0:
        tail = stderr.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{command[0]} exited with {code}:\n{tail}")
    seconds, peak_kib, cpu = report.read_text().split()
    return Process(float(seconds), int(peak_kib), float(cpu))  # ru_maxrss is in KiB on Linux


def count_lines(path: Path, marker: bytes | None = None) -> int:
    """Lines of `path`, or only those with `marker` near their start (a Singer message type)."""
    with path.open("rb") as lines:
        if marker is None:
            return sum(1 for _ in lines)
        return sum(1 for line in lines if marker in line[:40])


@dataclass
class Contender:
    """One way of doing the job: `run(workdir)` does it once against the scenario's sandbox."""

    name: str
    run: Callable[[Path], Run]
    repeats: int = sys.maxsize  # fewer rounds than the others, for a slow baseline
    runs: list[Run] = field(default_factory=list)

    def median(self, value: Callable[[Run], float]) -> float:
        return statistics.median(value(run) for run in self.runs) if self.runs else 0.0

    @property
    def records_per_second(self) -> float:
        return self.median(lambda run: run.records_per_second)

    @property
    def peak_rss_kib(self) -> float:
        return self.median(lambda run: run.process.peak_rss_kib)


def measure(
    contenders: Sequence[Contender],
    repeats: int,
    workdir: Path,
    sb: SandboxProcess | None = None,
) -> None:
    """Run the contenders in turn, `repeats` rounds, so drift hits all of them alike.

    With `sb`, each run's requests, 429s and the sandbox's CPU time are read around it;
    without, each run brings its own sandbox and reads them itself.
    """
    for round_number in range(repeats):
        for contender in contenders:
            if round_number >= contender.repeats:
                continue
            folder = workdir / f"{slug(contender.name)}-{round_number}"
            folder.mkdir(parents=True, exist_ok=True)
            if sb is None:
                run = contender.run(folder)
            else:
                with sandbox_usage(sb) as usage:
                    run = contender.run(folder)
                run = replace(
                    run, counts=usage["counts"], sandbox_cpu_seconds=usage["sandbox_cpu_seconds"]
                )
            contender.runs.append(run)
            progress(f"  {contender.name}: {run.seconds:.2f} s, {run.records} records")


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name).strip("-")


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# the table ---------------------------------------------------------------------------------


def print_table(
    title: str,
    contenders: Sequence[Contender],
    against: Sequence[tuple[str, str]] = (),
    extra_columns: Sequence[tuple[str, Callable[[Contender], str]]] = (),
) -> None:
    """Medians over each contender's runs; "x LABEL" is records/s divided by the records/s of
    the contender `against` names with that label."""
    by_name = {contender.name: contender for contender in contenders}
    headers = [
        "contender",
        "runs",
        "records",
        "wall s",
        "records/s",
        "peak RSS MiB",
        "CPU s",
        "sandbox CPU s",
        "requests",
        "429s",
        *(f"x {label}" for label, _ in against),
        *(header for header, _ in extra_columns),
    ]
    rows = []
    for contender in contenders:
        row = [
            contender.name,
            str(len(contender.runs)),
            f"{contender.median(lambda run: run.records):.0f}",
            f"{contender.median(lambda run: run.seconds):.2f}",
            f"{contender.records_per_second:,.{1 if contender.records_per_second < 100 else 0}f}",
            f"{contender.peak_rss_kib / 1024:.0f}",
            f"{contender.median(lambda run: run.process.cpu_seconds):.2f}",
            f"{contender.median(lambda run: run.sandbox_cpu_seconds):.2f}",
            f"{contender.median(lambda run: run.counts.requests):.0f}",
            f"{contender.median(lambda run: run.counts.throttled):.0f}",
        ]
        for _, name in against:
            reference = by_name[name].records_per_second
            row.append(f"{contender.records_per_second / reference:.2f}" if reference else "-")
        row += [cell(contender) for _, cell in extra_columns]
        rows.append(row)
    widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    print(f"\n{title}")
    print(line(headers))
    print(line(["-" * width for width in widths]))
    for row in rows:
        print(line(row))


def print_goal(text: str, value: float, met: bool) -> None:
    """One goal of issue 7 next to its figure (printed, never asserted)."""
    print(f"  goal: {text}: {value:.2f} ({'met' if met else 'NOT met'})")


class StatsSampler:
    """Polls /_sandbox/stats every `interval` s in a thread: (seconds since start, snapshot)."""

    def __init__(self, sb: SandboxProcess, interval: float = 0.05) -> None:
        self.sb = sb
        self.interval = interval
        self.samples: list[tuple[float, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        began = time.perf_counter()
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - began, self.sb.stats()))
            self._stop.wait(self.interval)
        self.samples.append((time.perf_counter() - began, self.sb.stats()))

    def __enter__(self) -> StatsSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
