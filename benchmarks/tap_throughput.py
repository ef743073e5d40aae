"""Tap throughput (issue 7): tap-liveswitch against tap-rest-api-msdk and a plain requests loop.

    .venv/bin/python benchmarks/tap_throughput.py [--scenario latency large rate-limit]
        [--repeats 3] [--scale 1.0]

Scenarios, each with its own sandbox and every contender on the same data in the same run:
- latency: 20,000 contacts, --latency-ms 100;
- large: 200,000 contacts, no latency, after a 10,000-contact run whose peak RSS is the
  reference for "nothing accumulates";
- rate-limit: 30,000 contacts, --rate-limit 20, once with the x-ratelimit-* window headers and
  once with Retry-After only (the tap only: a plain loop has no answer to 429).
`--scale 0.1` shrinks every contact count, for a quick look while developing.

Contenders: the plain loop (benchmarks/plain_loops.py read: page=1.., pageSize=100 until an
empty page, each record written as a JSON line, as a tap's output would be), tap-rest-api-msdk
1.4.2 in its own virtual environment (benchmarks/peers.py installs it), and tap-liveswitch
reading the contacts stream only, with default settings and with max_concurrent_requests 8.
Every output goes to a file and its records are counted. Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from common import (
    BIN,
    PLAIN_LOOPS,
    Contender,
    Run,
    StatsSampler,
    count_lines,
    machine_description,
    measure,
    prime_token_store,
    print_goal,
    print_table,
    progress,
    run_process,
    sandbox,
    slug,
    write_json,
)
from peers import TAP_REST_API_MSDK, install

from liveswitch_api import wire
from liveswitch_sandbox.process import SandboxProcess

PLAIN = "plain loop"
MSDK = f"tap-rest-api-msdk {TAP_REST_API_MSDK.version}"
TAP_DEFAULT = "tap-liveswitch (default)"
TAP_8 = "tap-liveswitch (8)"
SINGER_RECORD = b'"RECORD"'
RATE_LIMIT = 20
# "no more than a few 429s after the first second"
A_FEW = 3
# 300 pages, 15 s at the limit: long enough that the one Retry-After pause a server without
# window headers imposes at its first 429 is not a fifth of the run, as it was at 100 pages.
RATE_LIMIT_CONTACTS = 30_000
AGAINST = (("msdk", MSDK), ("plain", PLAIN))


class Scenario:
    """One sandbox's worth of contenders: credentials, configs and the catalog, made once."""

    def __init__(self, sb: SandboxProcess, workdir: Path) -> None:
        self.sb = sb
        self.workdir = workdir
        self.token_store = workdir / "tokens.json"
        self.access_token = prime_token_store(sb, self.token_store)
        self.catalog = self._contacts_catalog()

    def tap_config(self, **settings: object) -> dict[str, object]:
        return self.sb.config(token_store_path=str(self.token_store), **settings)

    def _contacts_catalog(self) -> Path:
        """The tap's own discovery with only `contacts` selected (the peers read only it)."""
        config = write_json(self.workdir / "discover-config.json", self.tap_config())
        discovered = subprocess.run(
            [BIN / "tap-liveswitch", "--config", config, "--discover"],
            check=True,
            capture_output=True,
        )
        catalog = json.loads(discovered.stdout)
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if metadata["breadcrumb"] == []:
                    metadata["metadata"]["selected"] = entry["tap_stream_id"] == "contacts"
        return write_json(self.workdir / "catalog.json", catalog)

    def plain(self) -> Contender:
        config = write_json(
            self.workdir / "plain.json",
            {"api_url": self.sb.api_url, "access_token": self.access_token},
        )
        command = [sys.executable, PLAIN_LOOPS, "read", config]
        return Contender(PLAIN, self._runner(command, None))

    def msdk(self) -> Contender:
        config = write_json(
            self.workdir / "msdk.json",
            {
                "api_url": self.sb.api_url,
                "auth_method": "bearer_token",
                "bearer_token": self.access_token,
                "pagination_request_style": "page_number_paginator",
                "pagination_response_style": "page",
                "pagination_next_page_param": wire.PAGE_PARAM,
                "pagination_initial_offset": 1,
                "next_page_token_path": "$[0]",
                "streams": [
                    {
                        "name": "contacts",
                        "path": wire.CONTACTS.path,
                        "params": {wire.PAGE_SIZE_PARAM: wire.DEFAULT_PAGE_SIZE},
                        "primary_keys": ["id"],
                        "records_path": "$[*]",
                    }
                ],
            },
        )
        command = [install(TAP_REST_API_MSDK), "--config", config]
        return Contender(MSDK, self._runner(command, SINGER_RECORD))

    def tap(self, name: str, **settings: object) -> Contender:
        config = write_json(self.workdir / f"{slug(name)}.json", self.tap_config(**settings))
        command = [BIN / "tap-liveswitch", "--config", config, "--catalog", self.catalog]
        return Contender(name, self._runner(command, SINGER_RECORD))

    def taps(self) -> list[Contender]:
        return [self.tap(TAP_DEFAULT), self.tap(TAP_8, max_concurrent_requests=8)]

    @staticmethod
    def _runner(command: Sequence[object], marker: bytes | None) -> Callable[[Path], Run]:
        def run(folder: Path) -> Run:
            output = folder / "stdout"
            process = run_process(command, stdout=output, stderr=folder / "stderr")
            records = count_lines(output, marker)
            output.unlink()  # 200,000 records are tens of MB; count them and let them go
            return Run(process, records)

        return run


def latency_scenario(args: argparse.Namespace, workdir: Path) -> None:
    contacts = scaled(20_000, args.scale)
    progress(f"latency: {contacts} contacts, --latency-ms 100")
    with sandbox(contacts=contacts, latency_ms=100) as (sb, startup):
        scenario = Scenario(sb, workdir / "latency")
        contenders = [scenario.plain(), scenario.msdk(), *scenario.taps()]
        measure(contenders, args.repeats, scenario.workdir, sb)
    print_table(
        f"Tap, {contacts:,} contacts, --latency-ms 100 (sandbox started in {startup:.1f} s)",
        contenders,
        against=AGAINST,
    )
    tap_8 = contenders[-1].records_per_second
    for name, reference in ((MSDK, contenders[1]), (PLAIN, contenders[0])):
        ratio = tap_8 / reference.records_per_second
        print_goal(f"{TAP_8} records/s >= 6x {name}'s (8x is the ceiling)", ratio, ratio >= 6)


def large_scenario(args: argparse.Namespace, workdir: Path) -> None:
    small, large = scaled(10_000, args.scale), scaled(200_000, args.scale)
    progress(f"large: {small} then {large} contacts, no latency")
    with sandbox(contacts=small) as (sb, _):
        scenario = Scenario(sb, workdir / "small")
        reference = [scenario.plain(), scenario.msdk(), *scenario.taps()]
        measure(reference, args.repeats, scenario.workdir, sb)
    with sandbox(contacts=large) as (sb, startup):
        scenario = Scenario(sb, workdir / "large")
        contenders = [scenario.plain(), scenario.msdk(), *scenario.taps()]
        measure(contenders, args.repeats, scenario.workdir, sb)

    small_rss = {contender.name: contender.peak_rss_kib for contender in reference}

    def rss_growth(contender: Contender) -> str:
        return f"{contender.peak_rss_kib / small_rss[contender.name]:.2f}"

    def wall_vs_plain(contender: Contender) -> str:
        return f"{wall(contender) / wall(contenders[0]):.2f}"

    print_table(f"Tap, {small:,} contacts, no latency (the RSS reference)", reference, AGAINST[:1])
    print_table(
        f"Tap, {large:,} contacts, no latency (sandbox with {large:,} contacts started in "
        f"{startup:.1f} s)",
        contenders,
        against=AGAINST,
        extra_columns=((f"RSS / {small:,} run", rss_growth), ("wall / plain", wall_vs_plain)),
    )
    for tap in contenders[2:]:
        ratio = tap.records_per_second / contenders[1].records_per_second
        print_goal(f"{tap.name} records/s >= 2.5x {MSDK}'s", ratio, ratio >= 2.5)
        ratio = wall(tap) / wall(contenders[0])
        print_goal(f"{tap.name} wall time <= 1.5x the plain loop's", ratio, ratio <= 1.5)
        ratio = float(rss_growth(tap))
        print_goal(f"{tap.name} peak RSS within 20% of the {small:,} run", ratio, ratio <= 1.2)


def wall(contender: Contender) -> float:
    return contender.median(lambda run: run.seconds)


def rate_limit_scenario(args: argparse.Namespace, workdir: Path) -> None:
    """Twice: a server that reports its window in x-ratelimit-* headers (as Auth0 does), and
    one that answers 429 with Retry-After only (the API's documented minimum)."""
    for headers in (True, False):
        rate_limit_run(args, workdir, headers)


def rate_limit_run(args: argparse.Namespace, workdir: Path, headers: bool) -> None:
    contacts = scaled(RATE_LIMIT_CONTACTS, args.scale)
    server = "x-ratelimit-* headers" if headers else "Retry-After only"
    progress(f"rate-limit: {contacts} contacts, --rate-limit {RATE_LIMIT}, {server}")
    with sandbox(contacts=contacts, rate_limit=RATE_LIMIT, rate_limit_headers=headers) as (
        sb,
        _,
    ):
        scenario = Scenario(sb, workdir / f"rate-limit-{slug(server)}")
        contenders = scenario.taps()
        if not headers:
            contenders.append(
                scenario.tap(
                    f"tap-liveswitch (8, {RATE_LIMIT}/s cap)",
                    max_concurrent_requests=8,
                    max_requests_per_second=RATE_LIMIT,
                )
            )
        for contender in contenders:
            contender.run = sampled(sb, contender.run)
        measure(contenders, args.repeats, scenario.workdir, sb)

    def pages_per_second(contender: Contender) -> str:
        return f"{contender.median(lambda run: run.extra['pages_per_second']):.1f}"

    def late_429s(contender: Contender) -> str:
        return f"{contender.median(lambda run: run.extra['late_429s']):.0f}"

    print_table(
        f"Tap, {contacts:,} contacts, --rate-limit {RATE_LIMIT} (requests per wall-clock "
        f"second), server sends {server}",
        contenders,
        extra_columns=(("pages/s (whole s)", pages_per_second), ("429s after 1st s", late_429s)),
    )
    for contender in contenders:
        rate = float(pages_per_second(contender))
        met = abs(rate - RATE_LIMIT) <= RATE_LIMIT * 0.1
        print_goal(f"{contender.name} pages/s within 10% of {RATE_LIMIT}", rate, met)
        late = float(late_429s(contender))
        print_goal(f"{contender.name} 429s after the first second <= {A_FEW}", late, late <= A_FEW)


def sampled(sb: SandboxProcess, run: Callable[[Path], Run]) -> Callable[[Path], Run]:
    """`run`, with its steady page rate and the 429s after its first second as extras.

    The rate is the mean of the requests the sandbox allowed in each of the run's whole
    rate-limit windows (wall-clock seconds), the first and last (partial) ones left out: a
    rate over the run's span would count five windows' worth of pages in four seconds.
    """

    def run_sampled(folder: Path) -> Run:
        # Start in a window of its own: the previous run's last requests (or the benchmark's
        # token refresh) in the same window would count against this run's limit.
        time.sleep(1.0 - time.time() % 1.0)
        began = int(time.time())
        with StatsSampler(sb) as sampler:
            result = run(folder)
        times = [t for t, _ in sampler.samples]
        pages = [s["requests"].get("GET /v1/contacts", 0) for _, s in sampler.samples]
        throttled = [int(s["statuses"].get("429", 0)) for _, s in sampler.samples]
        first = next(i for i, n in enumerate(pages) if n > pages[0])
        after_first_second = next(
            (i for i, t in enumerate(times) if t >= times[first] + 1.0), len(times) - 1
        )
        windows = sampler.samples[-1][1]["rate_windows"]
        allowed = [n for start, n in sorted(windows.items()) if int(start) >= began]
        whole = allowed[1:-1] or allowed
        extra = {
            "pages_per_second": sum(whole) / len(whole),
            "late_429s": throttled[-1] - throttled[after_first_second],
        }
        return replace(result, extra=extra)

    return run_sampled


SCENARIOS = {
    "latency": latency_scenario,
    "large": large_scenario,
    "rate-limit": rate_limit_scenario,
}


def scaled(contacts: int, scale: float) -> int:
    return max(wire.DEFAULT_PAGE_SIZE, round(contacts * scale))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--repeats", type=int, default=3, help="runs of each contender")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies contact counts")
    args = parser.parse_args()
    install(TAP_REST_API_MSDK)
    print(machine_description())
    with tempfile.TemporaryDirectory(prefix="tap-throughput-") as workdir:
        for name in args.scenario:
            SCENARIOS[name](args, Path(workdir))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
