"""docker-compose.yml, checked for structure: CI cannot pull the official images it names."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


def test_services_of_a_local_executor_deployment_and_a_celery_profile():
    assert {"postgres", "airflow-init", *AIRFLOW} <= set(SERVICES)
    assert all("profiles" not in SERVICES[s] for s in ("postgres", "airflow-init", *AIRFLOW))
    assert SERVICES["redis"]["profiles"] == ["celery"] and SERVICES["airflow-worker"]["profiles"] == ["celery"]
    assert (
        "${AIRFLOW_EXECUTOR:-LocalExecutor}" in SERVICES["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"]
    )


def test_every_long_running_service_has_a_healthcheck_and_waits_for_its_dependencies():
    for name in ("postgres", "redis", "airflow-worker", *AIRFLOW):
        assert SERVICES[name]["healthcheck"]["test"], name
    for name in AIRFLOW:
        deps = SERVICES[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"


def test_the_init_service_migrates_both_databases():
    script = SERVICES["airflow-init"]["command"][-1]
    assert "airflow db migrate" in script and "ganblr-bench db upgrade" in script
    init_sql = ROOT / "docker" / "postgres-init.sql"
    assert "CREATE DATABASE ganblr_bench" in init_sql.read_text()
    assert any(
        str(v).startswith("./docker/postgres-init.sql:/docker-entrypoint-initdb.d/")
        for v in SERVICES["postgres"]["volumes"]
    )


def test_workers_reach_the_docker_engine_and_see_results_at_host_paths():
    for name in ("airflow-scheduler", "airflow-worker"):
        volumes = SERVICES[name]["volumes"]
        assert "/var/run/docker.sock:/var/run/docker.sock" in volumes
        data = next(v for v in volumes if v.startswith("${GANBLR_BENCH_DATA"))
        assert data == "${GANBLR_BENCH_DATA:-${PWD}/var}:${GANBLR_BENCH_DATA:-${PWD}/var}"  # same path both sides
    env = SERVICES["airflow-scheduler"]["environment"]
    assert env["GANBLR_BENCH_BACKEND"] == "docker" and env["GANBLR_BENCH_RESULTS"].startswith("${GANBLR_BENCH_DATA")
    assert env["AIRFLOW_CONN_GANBLR_BENCH_METRICS"].startswith("postgresql://")
    assert set(COMPOSE["volumes"]) == {"postgres-data", "airflow-auth"}


def test_the_airflow_image_is_a_target_of_the_one_dockerfile_with_pinned_requirements():
    assert SERVICES["airflow-scheduler"]["build"] == {"context": ".", "target": "airflow"}
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", dockerfile, re.M)
    assert stages == ["build", "bench", "airflow"]
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11 AS airflow", dockerfile, re.M)
    pins = [l for l in (ROOT / "requirements-airflow.in").read_text().splitlines() if l and not l.startswith("#")]
    assert pins and all("==" in l for l in pins)
    assert "--require-hashes --no-deps -r /tmp/requirements-airflow.lock" in dockerfile
