"""docker-compose.yml brought up for real, as the README's compose section says: scripts/compose-env.sh writes
the settings (fresh secrets), scripts/compose-images.sh names the images (local stand-ins where nothing can be
pulled), ``docker compose up -d --wait`` starts the stack. Driven through Airflow's REST API like the
process-based stack (``AirflowStack``), so the same checks read both."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from airflow_stack import ROOT, AirflowStack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {k: v for k, v in pairs}


class ComposeStack(AirflowStack):
    def __init__(self, folder: Path, project: str, celery: bool, extra: dict[str, str] | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.project, self.env_file = folder, project, folder / "compose.env"
        self.data = folder / "data"
        port = free_port()
        env = _clean_env() | {"GANBLR_BENCH_DATA": str(self.data)}
        self._run(["scripts/compose-env.sh", *(["--celery"] if celery else []), str(self.env_file)], env)
        self._run(["scripts/compose-images.sh", str(self.env_file)], env | {"GANBLR_BENCH_TRUST_HOST_CA": "1"})
        with self.env_file.open("a") as f:
            for key, value in {
                "AIRFLOW_PORT": port,
                "AIRFLOW_BASE_URL": f"http://127.0.0.1:{port}",
                **(extra or {}),
            }.items():
                f.write(f"{key}={value}\n")
        self.settings = read_env(self.env_file)
        self.base, self.port = f"http://127.0.0.1:{port}", port
        self.password = self.settings["AIRFLOW_ADMIN_PASSWORD"]
        self.results = self.data / "results"
        self._token = None

    @staticmethod
    def _run(cmd: list[str], env: dict[str, str], timeout: int = 1800) -> subprocess.CompletedProcess:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done

    def compose(self, *args: str, timeout: int = 900, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*self._cli(), *args], cwd=ROOT, env=_clean_env(), capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"compose {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}\n{self.logs()}"
            )
        return done

    def start(self) -> None:
        self.compose("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)

    def stop(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False, timeout=300)

    def logs(self) -> str:
        done = self.compose("logs", "--tail", "40", check=False, timeout=120)
        return done.stdout[-12000:] + done.stderr[-2000:]

    def _cli(self) -> list[str]:
        """docker compose, on this stack's project and env file."""
        return ["docker", "compose", "--project-name", self.project, "--env-file", str(self.env_file)]

    def exec(
        self, service: str, *cmd: str, stdin: str | None = None, timeout: int = 120
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self._cli(), "exec", "-T", service, *cmd],
            cwd=ROOT,
            env=_clean_env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def sql(self, query: str, *params: str) -> list[list[str]]:
        """Rows of a query on the metrics database, run inside the postgres service (it is not published).
        ``params`` are psql variables (``name=value``), quoted by psql where the query says :'name'."""
        args = [a for p in params for a in ("-v", p)]
        done = self.exec("postgres", "psql", "-U", "postgres", "-d", "ganblr_bench", "-AtF", "\t", *args, stdin=query)
        if done.returncode != 0 or "ERROR:" in done.stderr:  # compose exec's exit code may not reach us
            raise RuntimeError(done.stderr)
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def containers(self, service: str) -> list[str]:
        return self.compose("ps", "--quiet", service).stdout.split()


def _clean_env() -> dict[str, str]:
    """This process's environment without our settings: the env file alone configures the stack (compose
    lets the caller's environment override the file)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GANBLR_BENCH_", "AIRFLOW", "COMPOSE_"))}
