"""Airflow DAGs for this Meltano project: one DAG per schedule in meltano.yml.

This follows the way Meltano's own Airflow utility runs a project: each schedule becomes a DAG on
the schedule's interval, each task of its job becomes one `meltano run` task (chained in job
order), and a DAG never runs twice at once. It reads meltano.yml directly instead of calling
`meltano schedule list`, because Airflow re-parses DAG files often (every 30 s by default) and a
Meltano subprocess per parse costs seconds.

Deploy it by copying (or symlinking) this file into the Airflow `dags_folder`, with these
environment variables set for the scheduler and the workers:

- `MELTANO_PROJECT_ROOT` (required): the Meltano project (this repository, `meltano install` done).
- `MELTANO_BIN`: the `meltano` executable, if it is not on the workers' PATH.
- `MELTANO_ENVIRONMENT`: the Meltano environment to run in (default: the project's default).
- `LIVESWITCH_STATE_DIR`: where the rotating refresh token is kept between runs; default
  `<project>/.meltano/liveswitch-state`, beside Meltano's own state. A worker's home folder may not
  survive a restart, and losing the newest refresh token means logging in again.
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "meltano",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    # with max_active_runs=1 this keeps a manual trigger from overlapping a scheduled run
    "max_active_tis_per_dag": 1,
}
# Meltano's schedules carry no start date; runs before this one are never wanted (catchup=False).
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def project_root() -> Path:
    root = os.environ.get("MELTANO_PROJECT_ROOT")
    if not root:
        msg = "MELTANO_PROJECT_ROOT is not set: point it at the Meltano project to run"
        raise RuntimeError(msg)
    return Path(root).expanduser().resolve()


def task_env(root: Path) -> dict[str, str]:
    """Variables every `meltano run` gets on top of the worker's own environment."""
    env = {
        "MELTANO_PROJECT_ROOT": str(root),
        "LIVESWITCH_STATE_DIR": os.environ.get("LIVESWITCH_STATE_DIR")
        or str(root / ".meltano" / "liveswitch-state"),
    }
    if environment := os.environ.get("MELTANO_ENVIRONMENT"):
        env["MELTANO_ENVIRONMENT"] = environment
    return env


def job_tasks(job: dict[str, Any]) -> list[str]:
    """A Meltano job's tasks as `meltano run` arguments: each entry is a string or a list."""
    return [task if isinstance(task, str) else " ".join(task) for task in job["tasks"]]


def _job(jobs: dict[str, dict[str, Any]], schedule: dict[str, Any]) -> dict[str, Any]:
    if schedule["job"] not in jobs:
        msg = (
            f"meltano.yml: schedule {schedule['name']!r} names job {schedule['job']!r}, "
            "which is not defined"
        )
        raise ValueError(msg)
    return jobs[schedule["job"]]


def build_dags(root: Path) -> dict[str, DAG]:
    project = yaml.safe_load((root / "meltano.yml").read_text())
    jobs = {job["name"]: job for job in project.get("jobs", [])}
    meltano = os.environ.get("MELTANO_BIN", "meltano")
    env = task_env(root)
    dags: dict[str, DAG] = {}
    for schedule in project.get("schedules", []):
        if "job" not in schedule:  # legacy `meltano elt` schedules are not used here
            continue
        dag_id = f"meltano_{schedule['name']}"
        with DAG(
            dag_id,
            description=f"meltano run {schedule['job']} ({root})",
            schedule=schedule["interval"],
            start_date=START_DATE,
            catchup=False,
            max_active_runs=1,
            default_args=DEFAULT_ARGS,
            tags=["meltano", schedule["job"]],
        ) as dag:
            previous = None
            for index, task in enumerate(job_tasks(_job(jobs, schedule))):
                current = BashOperator(
                    task_id=f"{schedule['job']}_task{index}",
                    bash_command=f"{shlex.quote(meltano)} run {task}",
                    cwd=str(root),
                    env=env,
                    append_env=True,
                )
                if previous is not None:
                    previous >> current
                previous = current
        dags[dag_id] = dag
    return dags


# Airflow collects DAGs from module globals.
globals().update(build_dags(project_root()))
