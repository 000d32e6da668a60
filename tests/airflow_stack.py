"""A real Airflow 3 for the tests: scheduler, dag-processor and api-server (LocalExecutor,
metadata in PostgreSQL), driven through its REST API as engineers drive it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_VENV = Path(os.environ.get("GANBLR_BENCH_AIRFLOW_VENV", ROOT / ".venv-airflow"))
DAG_ID = "ganblr_benchmark"


def airflow_python() -> str:
    python = AIRFLOW_VENV / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"no Airflow venv at {AIRFLOW_VENV}: run scripts/setup-airflow.sh (scripts/test.sh does)")
    return str(python)


class AirflowStack:
    def __init__(self, home: Path, metadata_dsn: str, extra_env: dict[str, str], port: int = 28793):
        self.home, self.port = home, port
        self.base = f"http://127.0.0.1:{port}"
        self.procs: list[subprocess.Popen] = []
        self.password = "admin-test-pw"
        home.mkdir(parents=True, exist_ok=True)
        (home / "passwords.json").write_text(json.dumps({"admin": self.password}))
        self.env = dict(
            os.environ,
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_dsn,
            AIRFLOW__API__BASE_URL=self.base,
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.base}/execution/",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT="600",
            **extra_env,
        )
        self.env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
        self._token = None

    def airflow(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(AIRFLOW_VENV / "bin" / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self) -> None:
        migrated = self.airflow("db", "migrate", timeout=600)
        if migrated.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
        for component in (["api-server", "--port", str(self.port)], ["scheduler"], ["dag-processor"]):
            log = open(self.home / f"{component[0]}.log", "w")  # noqa: SIM115 (held by the process it logs)
            self.procs.append(
                subprocess.Popen(
                    [str(AIRFLOW_VENV / "bin" / "airflow"), *component],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        self.wait_for(lambda: self.get("/api/v2/monitor/health", auth=False), 180, "the api-server to answer")
        self.wait_for(lambda: self.get(f"/api/v2/dags/{DAG_ID}"), 240, "the DAG to be parsed")

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.home.glob("*.log")))

    # -- REST API
    def token(self) -> str:
        if self._token is None:
            body = json.dumps({"username": "admin", "password": self.password}).encode()
            req = urllib.request.Request(
                f"{self.base}/auth/token", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                self._token = json.load(resp)["access_token"]
        return self._token

    def raw(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> tuple[int, bytes]:
        """Status and body of a request, with a session (Bearer token) unless ``auth`` is False."""
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        status, data = self.raw(method, path, body, auth)
        return status, json.loads(data or b"null")

    def page(self, path: str, auth: bool = True) -> tuple[int, str]:
        status, data = self.raw("GET", path, auth=auth)
        return status, data.decode(errors="replace")

    def get(self, path: str, auth: bool = True):
        try:
            status, body = self.request("GET", path, auth=auth)
        except (urllib.error.URLError, ConnectionError, OSError):
            return None
        return body if status == 200 else None

    def wait_for(self, probe, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(2)
        raise TimeoutError(f"waited {seconds:g} s for {what}\n{self.logs()}")

    def trigger(self, conf: dict) -> tuple[int, dict]:
        """Trigger through the REST API, as engineers' scripts do."""
        self.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        return self.request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})

    def trigger_cli(self, conf: dict, run_id: str) -> subprocess.CompletedProcess:
        """Trigger with the airflow command, as engineers do by hand."""
        self.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        return self.airflow("dags", "trigger", DAG_ID, "--run-id", run_id, "--conf", json.dumps(conf))

    def wait_run(self, run_id: str, seconds: float = 1500) -> dict:
        def finished():
            run = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.request.quote(run_id, safe='')}")
            return run if run and run["state"] in ("success", "failed") else None

        return self.wait_for(finished, seconds, f"run {run_id} to finish")

    def task_instances(self, run_id: str) -> list[dict]:
        quoted = urllib.request.quote(run_id, safe="")
        body = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances?limit=100")
        return body["task_instances"]

    def mapped_instances(self, run_id: str, task_id: str) -> list[dict]:
        quoted = urllib.request.quote(run_id, safe="")
        body = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances/{task_id}/listMapped")
        return body["task_instances"] if body else []

    def task_log(self, run_id: str, task_id: str, try_number: int = 1) -> str:
        quoted = urllib.request.quote(run_id, safe="")
        body = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances/{task_id}/logs/{try_number}")
        return json.dumps(body) if body else ""
