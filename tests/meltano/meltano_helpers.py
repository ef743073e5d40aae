"""Running this project's meltano.yml with real Meltano, as the tests and nothing else need it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from liveswitch_sandbox.process import SandboxProcess

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import tools  # noqa: E402 - scripts/ is not an installed package

# What meltano.yml's `sandbox` environment says the sandbox's credentials are.
SANDBOX_CREDENTIALS = {
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "refresh_token": "sandbox-refresh-token",
}
STATE_ID = "sandbox:tap-liveswitch-to-target-jsonl"


class Meltano:
    """`meltano` in the project, with a private system database and environment variables."""

    def __init__(self, executable: Path, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TAP_LIVESWITCH_", "TARGET_", "MELTANO_", "LIVESWITCH_"))
        }
        self.env = inherited | {
            "MELTANO_PROJECT_ROOT": str(REPO),
            "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_ENVIRONMENT": "sandbox",
            # any token store left at its default lands here, never in the user's home
            "LIVESWITCH_STATE_DIR": str(workdir / "state"),
        }

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.executable), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if check:
            assert result.returncode == 0, (
                f"meltano {' '.join(args)} exited {result.returncode}:\n{result.stderr[-5000:]}"
            )
        return result

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

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self("state", "get", STATE_ID).stdout)
        return result


def installed_meltano() -> Path:
    """The pinned Meltano's executable, installed on first use."""
    return tools.ensure(tools.MELTANO)
