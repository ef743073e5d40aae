"""Peers for the benchmarks, each in its own virtual environment outside the clone.

    .venv/bin/python benchmarks/peers.py            # install what is missing, print the paths

tap-rest-api-msdk 1.4.2 pins singer-sdk < 0.41, which cannot share .venv with this project's
0.54.9, so it lives in ~/.cache/liveswitch-singer/bench-venvs/tap-rest-api-msdk-1.4.2 (under
$XDG_CACHE_HOME when set). Installing is idempotent: a finished environment carries a stamp
naming what it holds, and one without the stamp (an interrupted install) is built again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

STAMP = ".bench-installed"


@dataclass(frozen=True)
class Peer:
    name: str
    version: str
    executable: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def venv(self) -> Path:
        return cache_dir() / f"{self.name}-{self.version}"

    @property
    def command(self) -> Path:
        return self.venv / "bin" / self.executable


TAP_REST_API_MSDK = Peer("tap-rest-api-msdk", "1.4.2", "tap-rest-api-msdk")
PEERS = (TAP_REST_API_MSDK,)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "liveswitch-singer" / "bench-venvs"


def is_installed(peer: Peer) -> bool:
    stamp = peer.venv / STAMP
    return peer.command.exists() and stamp.exists() and stamp.read_text() == peer.requirement


def install(peer: Peer) -> Path:
    """The peer's executable, installing it first when its environment is missing or partial."""
    if is_installed(peer):
        return peer.command
    shutil.rmtree(peer.venv, ignore_errors=True)
    print(f"installing {peer.requirement} into {peer.venv}", file=sys.stderr, flush=True)
    # the base interpreter, not .venv's: the peer must not see this project's packages
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(peer.venv)], check=True)
    pip = [str(peer.venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, peer.requirement], check=True)
    (peer.venv / STAMP).write_text(peer.requirement)
    return peer.command


def main() -> None:
    for peer in PEERS:
        print(f"{peer.requirement}: {install(peer)}")


if __name__ == "__main__":
    main()
