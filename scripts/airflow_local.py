"""A real Airflow 3 on this machine for the length of a run: api-server, scheduler and dag-processor (LocalExecutor)
as child processes, driven through the REST API as engineers drive it. The quick start runs the DAG with it; the
tests' ``AirflowStack`` is this with helpers of their own. No Airflow import: it runs the ``airflow`` command of
the venv it is given and talks HTTP, so any Python can use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

DAG_ID = "ganblr_benchmark"
ROOT = Path(__file__).resolve().parents[1]
# The pool every job task waits in for its cores (GANBLR_BENCH_POOL's default): sized to the usable cores.
POOL = "ganblr_bench_cores"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))


class LocalAirflow:
    """``env`` holds the metadata database (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) and anything the DAG reads."""

    def __init__(self, home: Path, venv: Path, env: dict[str, str], port: int | None = None, parallelism: int = 4):
        self.home, self.venv = Path(home), Path(venv)
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.password = os.urandom(12).hex()
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({"admin": self.password}))
        self.env = dict(
            os.environ,
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM=str(parallelism),
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(self.home / "passwords.json"),
            AIRFLOW__API__BASE_URL=self.base,
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.base}/execution/",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
            AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT="600",
            **env,
        )
        self.env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)  # the deprecated spelling would win over ours
        self.procs: list[subprocess.Popen[bytes]] = []
        self._token: str | None = None

    def airflow(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "airflow"), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def start(self, pool_slots: int | None = None) -> None:
        """Migrate the metadata, size the job pool (to the usable cores unless told), start the three services."""
        migrated = self.airflow("db", "migrate", timeout=600)
        if migrated.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
        self.set_pool(pool_slots or usable_cores())
        for component in (["api-server", "--port", str(self.port)], ["scheduler"], ["dag-processor"]):
            log = open(self.home / f"{component[0]}.log", "w")  # noqa: SIM115 (held by the process it logs)
            self.procs.append(
                subprocess.Popen(
                    [str(self.venv / "bin" / "airflow"), *component],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        self.wait_for(lambda: self.get("/api/v2/monitor/health", auth=False), 240, "the api-server to answer")
        self.wait_for(lambda: self.get(f"/api/v2/dags/{DAG_ID}"), 300, "the DAG to be parsed")

    def set_pool(self, slots: int) -> None:
        name = self.env.get("GANBLR_BENCH_POOL", POOL)
        done = self.airflow("pools", "set", name, str(slots), "ganblr-bench jobs: one slot a core")
        if done.returncode != 0:
            raise RuntimeError(f"airflow pools set failed:\n{done.stderr[-2000:]}")

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

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

    def raw(self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True) -> tuple[int, bytes]:
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

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True) -> tuple[int, Any]:
        status, data = self.raw(method, path, body, auth)
        return status, json.loads(data or b"null")

    def get(self, path: str, auth: bool = True) -> Any:
        """The body of a 200 answer; None for any other answer or none."""
        try:
            status, body = self.request("GET", path, auth=auth)
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            return None
        return body if status == 200 else None

    def wait_for(self, probe: Callable[[], Any], seconds: float, what: str) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(2)
        raise TimeoutError(f"waited {seconds:g} s for {what}\n{self.logs()}")

    def trigger(self, conf: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Unpause the DAG and trigger a run through the REST API, as engineers' scripts do."""
        self.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        return self.request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})

    def run(self, run_id: str) -> dict[str, Any] | None:
        return self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}")

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        body = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances?limit=500")
        return list((body or {}).get("task_instances", []))

    def xcom(self, run_id: str, task_id: str) -> Any:
        body = self.get(
            f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{quote(task_id)}"
            "/xcomEntries/return_value"
        )
        return (body or {}).get("value")
