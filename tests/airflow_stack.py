"""A real Airflow 3 for the tests: scheduler, dag-processor and api-server (LocalExecutor, metadata in
PostgreSQL), driven through its REST API as engineers drive it: the quick start's (scripts/airflow_local.py)
with the tests' own helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from airflow_local import DAG_ID, LocalAirflow  # noqa: E402 (from the scripts folder, put on the path above)

AIRFLOW_VENV = Path(os.environ.get("GANBLR_BENCH_AIRFLOW_VENV", ROOT / ".venv-airflow"))


def airflow_python() -> str:
    python = AIRFLOW_VENV / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"no Airflow venv at {AIRFLOW_VENV}: run scripts/setup-airflow.sh (scripts/test.sh does)")
    return str(python)


class AirflowStack(LocalAirflow):
    def __init__(self, home: Path, metadata_dsn: str, extra_env: dict[str, str], port: int = 28793):
        super().__init__(home, AIRFLOW_VENV, {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_dsn, **extra_env}, port)

    def page(self, path: str, auth: bool = True) -> tuple[int, str]:
        status, data = self.raw("GET", path, auth=auth)
        return status, data.decode(errors="replace")

    def trigger_cli(self, conf: dict, run_id: str) -> subprocess.CompletedProcess:
        """Trigger with the airflow command, as engineers do by hand."""
        self.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        return self.airflow("dags", "trigger", DAG_ID, "--run-id", run_id, "--conf", json.dumps(conf))

    def wait_run(self, run_id: str, seconds: float = 1500) -> dict:
        def finished():
            run = self.run(run_id)
            return run if run and run["state"] in ("success", "failed") else None

        return self.wait_for(finished, seconds, f"run {run_id} to finish")

    def mapped_instances(self, run_id: str, task_id: str) -> list[dict]:
        quoted = urllib.request.quote(run_id, safe="")
        body = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances/{task_id}/listMapped")
        return body["task_instances"] if body else []

    def task_log(self, run_id: str, task_id: str, try_number: int = 1) -> str:
        quoted = urllib.request.quote(run_id, safe="")
        body = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances/{task_id}/logs/{try_number}")
        return json.dumps(body) if body else ""
