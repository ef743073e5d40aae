"""Running the connectors as users do: console scripts, config files, Singer lines on pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


@dataclass
class SingerRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def ids(self, stream: str) -> list[str]:
        return [record["id"] for record in self.records(stream)]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, Any]:
        return self.states[-1]

    def check(self) -> SingerRun:
        assert self.returncode == 0, self.stderr[-3000:]
        return self


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def run(
    script: str,
    config: Mapping[str, Any] | None,
    workdir: Path,
    *,
    args: Iterable[str] = (),
    stdin: str | None = None,
    state: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> SingerRun:
    """Run a console script from this environment with a config file written to workdir."""
    command = [str(BIN / script)]
    if config is not None:
        command += ["--config", str(write_json(workdir / f"{script}.config.json", config))]
    if state is not None:
        command += ["--state", str(write_json(workdir / f"{script}.state.json", state))]
    command += list(args)
    completed = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=workdir,
        check=False,
    )
    return SingerRun(completed.returncode, completed.stdout, completed.stderr)


def run_tap(config: Mapping[str, Any], workdir: Path, **kwargs: Any) -> SingerRun:
    return run("tap-liveswitch", config, workdir, **kwargs)


def run_target(config: Mapping[str, Any], workdir: Path, stdin: str, **kwargs: Any) -> SingerRun:
    return run("target-liveswitch", config, workdir, stdin=stdin, **kwargs)


def select_streams(config: Mapping[str, Any], workdir: Path, streams: set[str]) -> list[str]:
    """`--catalog` arguments selecting only `streams` (from the tap's own discovery)."""
    catalog = json.loads(run_tap(config, workdir, args=["--discover"]).check().stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return ["--catalog", str(write_json(workdir / "catalog.json", catalog))]


def stored_tokens(store: Path) -> list[str]:
    """Every refresh and access token a token store file holds (none if it does not exist)."""
    if not store.exists():
        return []
    entries = json.loads(store.read_text())["entries"].values()
    return [e.get(k) or "" for e in entries for k in ("refresh_token", "access_token")]


def secrets_in(text: str, secrets: Iterable[str]) -> list[str]:
    """Which of `secrets` appear in `text` (reported by their first characters only)."""
    return [secret[:6] + "..." for secret in secrets if secret and secret in text]
