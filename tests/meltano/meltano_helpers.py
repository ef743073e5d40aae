"""The tests' view of scripts/meltano_project.py: every command must succeed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import tools  # noqa: E402 - scripts/ is not an installed package
from meltano_project import MeltanoProject  # noqa: E402


class Meltano(MeltanoProject):
    """Calling it runs a meltano command and fails the test, with Meltano's log, if it fails."""

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, (
            f"meltano {' '.join(args)} exited {result.returncode}:\n{result.stderr[-5000:]}"
        )
        return result


def installed_meltano() -> Path:
    """The pinned Meltano's executable, installed on first use."""
    return tools.ensure(tools.MELTANO)
