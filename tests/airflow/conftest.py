"""Apache Airflow (pinned, in its own cached venv from scripts/tools.py) for the DAG tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import tools  # noqa: E402 - scripts/ is not an installed package


@pytest.fixture(scope="session")
def airflow_python() -> Path:
    """The Airflow venv's python; the first session installs it (about two minutes)."""
    return tools.ensure(tools.AIRFLOW)


@pytest.fixture(scope="session")
def meltano_executable() -> Path:
    return tools.ensure(tools.MELTANO)
