"""Apache Airflow (pinned, in its own cached venv from scripts/tools.py) for the DAG tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import tools  # noqa: E402 - scripts/ is not an installed package
from meltano_project import MeltanoProject  # noqa: E402


@pytest.fixture(scope="session")
def airflow_python() -> Path:
    """The Airflow venv's python; the first session installs it (about two minutes)."""
    return tools.ensure(tools.AIRFLOW)


@pytest.fixture(scope="session")
def meltano_executable() -> Path:
    return tools.ensure(tools.MELTANO)


@pytest.fixture(scope="session")
def meltano_plugins(meltano_executable: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`meltano install` done (once per session) into the project's shared plugin venvs."""
    project = MeltanoProject(meltano_executable, tmp_path_factory.mktemp("meltano-install"))
    result = project.run("install")
    assert result.returncode == 0, result.stderr[-5000:]
    return meltano_executable


@pytest.fixture
def meltano_project(meltano_plugins: Path, tmp_path: Path) -> MeltanoProject:
    return MeltanoProject(meltano_plugins, tmp_path / "meltano")
