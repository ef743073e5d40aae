"""Install Meltano and Apache Airflow on first use, each in its own virtual environment.

Neither belongs in the project's dependencies: Meltano installs the connectors as its own plugins,
and Airflow (about 300 MB) is only needed to prove the DAG loads. Each goes into a folder named
after its pinned version and the Python running this, so a version bump installs beside the old
one instead of mutating it:

- Meltano: `.tools/meltano-<version>-py<X.Y>/` in the clone (small, and `make clean`-able).
- Airflow: `$LIVESWITCH_TOOLS_CACHE` or `${XDG_CACHE_HOME:-~/.cache}/liveswitch-singer`, then
  `airflow-<version>-py<X.Y>/`: outside the clone, so fresh CI clones on one machine reuse it.

A marker file written after pip succeeds makes an install count; a half-finished one (killed,
offline) is wiped and redone. An flock serializes installers, so a test session and `make demo`
started together do not build the same folder twice.

Usage: `python scripts/tools.py meltano|airflow` installs if needed and prints the executable.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MELTANO_VERSION = "4.4.1"
AIRFLOW_VERSION = "3.3.2"

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPLETE_MARKER = ".liveswitch-complete"


@dataclass(frozen=True)
class Tool:
    """One pinned tool: what pip installs, where, and which executable callers want."""

    name: str
    requirement: str
    home: Path
    executable: str

    @property
    def folder(self) -> Path:
        python = f"py{sys.version_info.major}.{sys.version_info.minor}"
        version = self.requirement.split("==", 1)[1]
        return self.home / f"{self.name}-{version}-{python}"

    @property
    def path(self) -> Path:
        return self.folder / "bin" / self.executable


def cache_home() -> Path:
    if explicit := os.environ.get("LIVESWITCH_TOOLS_CACHE"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "liveswitch-singer"


MELTANO = Tool("meltano", f"meltano=={MELTANO_VERSION}", REPO_ROOT / ".tools", "meltano")
# Airflow's task SDK and the standard provider (BashOperator) come with the meta package.
AIRFLOW = Tool("airflow", f"apache-airflow=={AIRFLOW_VERSION}", cache_home(), "python")


@contextlib.contextmanager
def _install_lock(tool: Tool) -> Iterator[None]:
    tool.home.mkdir(parents=True, exist_ok=True)
    with open(tool.home / f".{tool.folder.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure(tool: Tool) -> Path:
    """The tool's executable, installing the tool first if no complete install exists."""
    marker = tool.folder / COMPLETE_MARKER
    if marker.exists():
        return tool.path
    with _install_lock(tool):
        if marker.exists():  # another process finished it while we waited
            return tool.path
        shutil.rmtree(tool.folder, ignore_errors=True)
        _say(f"Installing {tool.requirement} into {tool.folder} (first time only; takes a minute)")
        venv.EnvBuilder(with_pip=True, clear=True).create(tool.folder)
        pip = [str(tool.folder / "bin" / "python"), "-m", "pip"]
        result = subprocess.run(
            [*pip, "install", "--quiet", "--disable-pip-version-check", tool.requirement],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(tool.folder, ignore_errors=True)
            raise SystemExit(
                f"Installing {tool.requirement} failed (pip exit {result.returncode}):\n"
                f"{result.stderr.strip()[-4000:]}"
            )
        marker.write_text(f"{tool.requirement}\n")
        _say(f"Installed {tool.requirement}.")
    return tool.path


def main(argv: list[str] | None = None) -> int:
    tools = {"meltano": MELTANO, "airflow": AIRFLOW}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(tools), help="which tool to install or find")
    args = parser.parse_args(argv)
    print(ensure(tools[args.tool]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
