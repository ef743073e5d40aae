"""Load a DAG folder with Airflow's own loader (DagBag) and print what the tests check, as JSON.

Run by the Airflow virtual environment's python, since Airflow is not in the project's venv:
`python dag_report.py <dags folder>`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from airflow.dag_processing.dagbag import DagBag


def task_report(task: Any) -> dict[str, Any]:
    return {
        "operator": type(task).__name__,
        "bash_command": task.bash_command,
        "cwd": task.cwd,
        "env": task.env,
        "append_env": task.append_env,
        "retries": task.retries,
        "retry_delay_s": task.retry_delay.total_seconds(),
        "max_active_tis_per_dag": task.max_active_tis_per_dag,
        "upstream": sorted(task.upstream_task_ids),
    }


def dag_report(dag: Any) -> dict[str, Any]:
    return {
        "schedule": dag.schedule,
        "cron": getattr(dag.timetable, "expression", None),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "tasks": {task.task_id: task_report(task) for task in dag.tasks},
    }


def main(folder: str) -> None:
    bag = DagBag(dag_folder=folder, safe_mode=False)
    report = {
        "import_errors": {str(path): error for path, error in bag.import_errors.items()},
        "dags": {dag_id: dag_report(dag) for dag_id, dag in bag.dags.items()},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
