"""docker-compose.yml's promises that hold before anything starts (test_compose_stack.py starts it for real)."""

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
SECRETS = (
    "AIRFLOW_ADMIN_PASSWORD",
    "POSTGRES_PASSWORD",
    "AIRFLOW_DB_PASSWORD",
    "GANBLR_BENCH_DB_PASSWORD",
    "GANBLR_BENCH_READER_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_FERNET_KEY",
)


def test_services_of_a_local_executor_deployment_and_a_celery_profile():
    assert {"postgres", "airflow-init", *AIRFLOW} <= set(SERVICES)
    assert all("profiles" not in SERVICES[s] for s in ("postgres", "airflow-init", *AIRFLOW))
    assert SERVICES["redis"]["profiles"] == ["celery"] and SERVICES["airflow-worker"]["profiles"] == ["celery"]
    assert SERVICES["airflow-worker"]["deploy"]["replicas"] == "${AIRFLOW_WORKERS:-2}"


def test_every_secret_is_required_and_none_has_a_default():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in SECRETS:
        assert f"${{{name}:?" in text, name
        assert not re.search(rf"\$\{{{name}:-[^}}]", text), name
    # Every Airflow container signs and checks task tokens with the same secret and issuer.
    env = SERVICES["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
    assert env["AIRFLOW__API_AUTH__JWT_ISSUER"] == "ganblr-bench"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_only_the_services_that_start_jobs_get_the_docker_socket():
    def has_socket(name):
        return any(str(v).endswith(":/var/run/docker.sock") for v in SERVICES[name].get("volumes", []))

    assert {name for name in SERVICES if has_socket(name)} == {"airflow-scheduler", "airflow-worker"}
    published = SERVICES["airflow-apiserver"]["ports"]
    assert published == ["${AIRFLOW_BIND:-127.0.0.1}:${AIRFLOW_PORT:-8080}:8080"]


def test_images_come_from_variables_whose_defaults_are_the_official_ones():
    assert SERVICES["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:17}"
    assert SERVICES["redis"]["image"] == "${REDIS_IMAGE:-redis:7}"
    assert SERVICES["airflow-scheduler"]["build"]["args"]["AIRFLOW_BASE_IMAGE"].endswith(
        ":-apache/airflow:3.3.2-python3.11}"
    )
    dockerfile = (ROOT / "docker" / "airflow.Dockerfile").read_text()
    assert "ARG AIRFLOW_BASE_IMAGE=apache/airflow:3.3.2-python3.11" in dockerfile
    assert "--require-hashes --no-deps" in dockerfile


def test_the_metrics_have_a_role_of_their_own_and_the_reader_logs_in():
    init = (ROOT / "docker" / "postgres-init.sh").read_text()
    assert "CREATE DATABASE ganblr_bench OWNER ganblr_bench" in init
    sql = init.split("<<'SQL'", 1)[1].split("\nSQL", 1)[0].upper()
    assert "SUPERUSER" not in sql and "CREATEROLE" not in sql and "CREATEDB" not in sql
    env = SERVICES["airflow-scheduler"]["environment"]
    assert env["AIRFLOW_CONN_GANBLR_BENCH_METRICS"].startswith("postgresql://ganblr_bench:")
    assert env["GANBLR_BENCH_DSN"].startswith("postgresql://ganblr_bench:")
    assert env["GANBLR_BENCH_READER_DSN"].startswith("postgresql://ganblr_bench_reader:")


@pytest.mark.parametrize("password", ['with"quote', "back\\slash", "sp ace"])
def test_the_admin_password_file_is_json_whatever_the_password(password, tmp_path):
    """The init service writes passwords.json with Python's json module; run that very line here."""
    script = SERVICES["airflow-init"]["command"][-1]
    line = next(line.strip() for line in script.splitlines() if "passwords.json" in line and "json.dumps" in line)
    code = line.split("python -c ", 1)[1].split(" > ", 1)[0].strip("'")
    out = subprocess.run(
        ["python3", "-c", code], env={"AIRFLOW_ADMIN_PASSWORD": password}, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {"admin": password}


def test_compose_env_writes_every_secret_fresh_and_never_overwrites(tmp_path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "docker.sock"))  # a socket like the engine's: compose-env.sh reads its group
    env = dict(os.environ, DOCKER_SOCKET=str(tmp_path / "docker.sock"), GANBLR_BENCH_DATA=str(tmp_path / "data"))

    def write(path):
        return subprocess.run([str(ROOT / "scripts" / "compose-env.sh"), str(path)], env=env, capture_output=True)

    first, second = tmp_path / "a.env", tmp_path / "b.env"
    assert write(first).returncode == 0 and write(second).returncode == 0
    a, b = (dict(line.split("=", 1) for line in f.read_text().splitlines() if "=" in line) for f in (first, second))
    assert set(SECRETS) <= set(a) and all(len(a[name]) >= 32 for name in SECRETS)
    assert all(a[name] != b[name] for name in SECRETS)
    assert a["GANBLR_BENCH_DATA"] == str(tmp_path / "data") and a["DOCKER_GID"] == str(os.getgid())
    assert first.stat().st_mode & 0o077 == 0  # readable by its owner only
    before = first.read_text()
    assert write(first).returncode == 0 and first.read_text() == before  # never overwritten
    sock.close()
