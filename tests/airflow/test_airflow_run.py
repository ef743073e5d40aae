"""The DAG's task run by real Airflow (`airflow tasks test`): Meltano runs the job against a
sandbox, the rotated refresh token lands in the deployment's LIVESWITCH_STATE_DIR, and Meltano
keeps the bookmarks."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from meltano_project import JOB, MeltanoProject

from liveswitch_sandbox.process import SandboxProcess

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "meltano_liveswitch-to-jsonl-daily"
TASK_ID = f"{JOB}_task0"
# the DAG retries a failed task after minutes; a broken run must fail the test sooner
AIRFLOW_TIMEOUT = 240


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(contacts=12, conversations=4, seed=31) as running:
        yield running


def airflow(airflow_python: Path, env: dict[str, str], *args: str) -> None:
    command = [str(airflow_python.parent / "airflow"), *args]
    try:
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=AIRFLOW_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"airflow {' '.join(args)} still running after {AIRFLOW_TIMEOUT} s:\n{expired}")
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]


def test_airflow_task_runs_the_meltano_job(
    airflow_python: Path, meltano_project: MeltanoProject, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    # A production-like deployment: the default `dev` environment, credentials in TAP_LIVESWITCH_*
    # variables, and a state folder on a volume that outlives the worker.
    project = meltano_project
    project.env["MELTANO_ENVIRONMENT"] = "dev"
    project.point("TAP_LIVESWITCH", sandbox, **sandbox.config())
    del project.env["TAP_LIVESWITCH_TOKEN_STORE_PATH"]  # the DAG's LIVESWITCH_STATE_DIR decides
    volume = tmp_path / "volume"
    output = tmp_path / "output"
    env = project.env | {
        "LIVESWITCH_STATE_DIR": str(volume),
        "TARGET_JSONL_DESTINATION_PATH": str(output),
        "MELTANO_BIN": str(project.executable),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "orchestrate" / "airflow" / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
    }

    airflow(airflow_python, env, "db", "migrate")
    airflow(airflow_python, env, "tasks", "test", DAG_ID, TASK_ID)

    (contacts,) = output.glob("contacts-*.jsonl")
    assert len(contacts.read_text().splitlines()) == sandbox.stats()["counts"]["contacts"] == 12
    assert (volume / "tokens.json").is_file()
    assert project.state_id == "dev:tap-liveswitch-to-target-jsonl"
    assert project.bookmarks()["contacts"]["replication_key"] == "updatedAt"
