"""Shared by the scripts that copy the plugins' `--about` into hand-kept files.

Generated text lives between a start and an end marker line; everything outside them is left
alone. With `--check` a script changes nothing and fails if a block is stale, which is how the
tests keep README.md and meltano.yml honest.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ("tap-liveswitch", "target-liveswitch")


def about(plugin: str, fmt: str) -> str:
    """`<plugin> --about --format=<fmt>`, run from the virtual environment running this script."""
    executable = Path(sys.executable).parent / plugin
    result = subprocess.run(
        [str(executable), "--about", f"--format={fmt}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{plugin} --about failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def replace_block(text: str, start: str, end: str, body: str, *, where: str) -> str:
    """`text` with the lines between the `start` and `end` marker lines replaced by `body`."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == start]
    ends = [i for i, line in enumerate(lines) if line.strip() == end]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        raise SystemExit(f"{where}: expected one {start!r} line followed by one {end!r} line")
    body = body if body.endswith("\n") or not body else body + "\n"
    return "".join([*lines[: starts[0] + 1], body, *lines[ends[0] :]])


def run(path: Path, render: Callable[[str], str], description: str) -> int:
    """CLI: rewrite `path` with `render(old_text)`, or with --check report whether it would."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args()
    old = path.read_text()
    new = render(old)
    name = path.relative_to(REPO_ROOT)
    if old == new:
        print(f"{name} is up to date")
        return 0
    if args.check:
        print(f"{name} is out of date: run `{Path(sys.argv[0]).name}` to regenerate it")
        return 1
    path.write_text(new)
    print(f"{name} updated")
    return 0
