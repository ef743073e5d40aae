"""orchestrate/airflow/dags/liveswitch.py loaded by real Airflow: one DAG per Meltano schedule,
each running `meltano run` for its job with retries, no overlapping runs and a persistent token
store."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "orchestrate" / "airflow" / "dags"
REPORT = Path(__file__).with_name("dag_report.py")


def load_dags(airflow_python: Path, tmp_path: Path, **env: str) -> dict[str, Any]:
    """What Airflow's DagBag makes of the DAG folder, with `env` set for the parse."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "MELTANO_", "LIVESWITCH_"))
    }
    result = subprocess.run(
        [str(airflow_python), str(REPORT), str(DAGS)],
        env=inherited
        | {"AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        | env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    report: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return report


def meltano_schedules(meltano_executable: Path, tmp_path: Path) -> list[dict[str, Any]]:
    """The job schedules as Meltano itself reads meltano.yml."""
    result = subprocess.run(
        [str(meltano_executable), "schedule", "list", "--format=json"],
        cwd=REPO,
        env=os.environ
        | {
            "MELTANO_PROJECT_ROOT": str(REPO),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    schedules: list[dict[str, Any]] = json.loads(result.stdout)["schedules"]["job"]
    return schedules


def test_one_dag_per_meltano_schedule_running_its_job(
    airflow_python: Path, meltano_executable: Path, tmp_path: Path
) -> None:
    report = load_dags(
        airflow_python,
        tmp_path,
        MELTANO_PROJECT_ROOT=str(REPO),
        MELTANO_BIN=str(meltano_executable),
    )
    assert report["import_errors"] == {}
    schedules = meltano_schedules(meltano_executable, tmp_path)
    assert [s["name"] for s in schedules] == ["liveswitch-to-jsonl-daily"]
    assert set(report["dags"]) == {f"meltano_{s['name']}" for s in schedules}

    for schedule in schedules:
        dag = report["dags"][f"meltano_{schedule['name']}"]
        assert dag["schedule"] == schedule["interval"]
        assert dag["cron"] == schedule["cron_interval"]
        assert dag["max_active_runs"] == 1
        assert dag["catchup"] is False
        job = schedule["job"]
        assert list(dag["tasks"]) == [f"{job['name']}_task{i}" for i in range(len(job["tasks"]))]
        previous: list[str] = []
        for (task_id, task), args in zip(dag["tasks"].items(), job["tasks"], strict=True):
            assert task["operator"] == "BashOperator"
            assert task["bash_command"] == f"{meltano_executable} run {args}"
            assert task["cwd"] == str(REPO)
            assert task["append_env"] is True
            assert task["env"] == {
                "MELTANO_PROJECT_ROOT": str(REPO),
                "LIVESWITCH_STATE_DIR": str(REPO / ".meltano" / "liveswitch-state"),
            }
            assert task["retries"] == 2
            assert task["retry_delay_s"] == 300
            assert task["max_active_tis_per_dag"] == 1
            assert task["upstream"] == previous
            previous = [task_id]


def test_state_dir_and_environment_come_from_the_deployment(
    airflow_python: Path, tmp_path: Path
) -> None:
    state_dir = tmp_path / "persistent-volume" / "liveswitch"
    report = load_dags(
        airflow_python,
        tmp_path,
        MELTANO_PROJECT_ROOT=str(REPO),
        LIVESWITCH_STATE_DIR=str(state_dir),
        MELTANO_ENVIRONMENT="prod",
    )
    assert report["import_errors"] == {}
    (dag,) = report["dags"].values()
    (task,) = dag["tasks"].values()
    assert task["bash_command"] == "meltano run tap-liveswitch target-jsonl"
    assert task["env"] == {
        "MELTANO_PROJECT_ROOT": str(REPO),
        "LIVESWITCH_STATE_DIR": str(state_dir),
        "MELTANO_ENVIRONMENT": "prod",
    }


def test_missing_project_root_is_an_import_error_naming_it(
    airflow_python: Path, tmp_path: Path
) -> None:
    report = load_dags(airflow_python, tmp_path)
    assert report["dags"] == {}
    (error,) = report["import_errors"].values()
    assert "MELTANO_PROJECT_ROOT is not set" in error
