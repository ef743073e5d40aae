"""This project's meltano.yml run by the pinned Meltano, as `make demo` and the tests run it.

Everything run-specific goes through environment variables, which Meltano ranks above
meltano.yml: the `sandbox` environment, the sandbox's URLs and token stores, and a private
Meltano system folder (`MELTANO_SYS_DIR_ROOT`). That folder holds the system database (so the
state), logs and `run/`, where Meltano writes each plugin's config and discovered catalog at a
fixed path: two runs sharing it, say the demo and a test in one checkout, overwrite each other's
catalog mid-run. Only the plugin virtual environments are shared, linked from the project's
`.meltano/`, so `meltano install` builds them once. Nothing is written into meltano.yml or the
user's home.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from liveswitch_sandbox.process import SandboxProcess

REPO_ROOT = Path(__file__).resolve().parent.parent
JOB = "liveswitch-to-jsonl"
ENVIRONMENT = "sandbox"
# variables of the caller that would leak into a run and change its settings
FOREIGN_PREFIXES = ("TAP_LIVESWITCH_", "TARGET_", "MELTANO_", "LIVESWITCH_")
# the parts of Meltano's system folder holding plugin virtual environments
PLUGIN_VENV_DIRS = ("extractors", "loaders")


def private_sys_dir(path: Path) -> Path:
    """A Meltano system folder at `path` that shares the project's plugin venvs."""
    path.mkdir(parents=True, exist_ok=True)
    for name in PLUGIN_VENV_DIRS:
        shared = REPO_ROOT / ".meltano" / name
        shared.mkdir(parents=True, exist_ok=True)
        link = path / name
        if not link.is_symlink():
            link.symlink_to(shared, target_is_directory=True)
    return path


def sandbox_credentials() -> dict[str, str]:
    """The credentials meltano.yml's `sandbox` environment gives the tap: start sandboxes with
    these so that environment works unchanged."""
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    (environment,) = (e for e in project["environments"] if e["name"] == ENVIRONMENT)
    (tap,) = (p for p in environment["config"]["plugins"]["extractors"])
    keys = ("client_id", "client_secret", "refresh_token")
    return {key: str(tap["config"][key]) for key in keys}


class MeltanoProject:
    """`meltano` in this project with its system database and token stores under `workdir`."""

    def __init__(self, executable: Path, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        sys_dir = private_sys_dir(workdir / "meltano")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
        self.env = inherited | {
            "MELTANO_PROJECT_ROOT": str(REPO_ROOT),
            "MELTANO_SYS_DIR_ROOT": str(sys_dir),
            "MELTANO_DATABASE_URI": f"sqlite:///{sys_dir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_ENVIRONMENT": ENVIRONMENT,
            # a token store left at its default lands here, never in the user's home
            "LIVESWITCH_STATE_DIR": str(workdir / "state"),
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.executable), *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def point(self, prefix: str, sandbox: SandboxProcess, **settings: object) -> Path:
        """Send plugin `prefix` (TAP_LIVESWITCH, ...) to `sandbox` with its own token store, and
        return the store: anything else talking to `sandbox` must share it (with rotation on,
        a second holder of the same refresh token revokes the family)."""
        store = self.workdir / f"{prefix.lower()}-tokens.json"
        values = {
            "api_url": sandbox.api_url,
            "auth_url": sandbox.auth_url,
            "token_store_path": str(store),
        } | settings
        for key, value in values.items():
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            self.env[f"{prefix}_{key.upper()}"] = text
        return store

    @property
    def state_id(self) -> str:
        """Where Meltano keeps the job's state: `<environment>:<tap>-to-<loader>`."""
        return f"{self.env['MELTANO_ENVIRONMENT']}:tap-liveswitch-to-target-jsonl"

    def bookmarks(self) -> dict[str, Any]:
        """The tap's bookmarks as Meltano stored them for the job (`meltano state get`)."""
        result = self.run("state", "get", self.state_id)
        if result.returncode != 0:
            failure = f"meltano state get {self.state_id} failed:\n{result.stderr[-3000:]}"
            raise RuntimeError(failure)
        bookmarks: dict[str, Any] = json.loads(result.stdout)["singer_state"]["bookmarks"]
        return bookmarks
