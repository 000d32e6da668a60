"""Run with the Airflow venv's python: executes BenchDockerOperator (dags/bench_operator.py) against the
real engine, outside a DAG, and prints as JSON what the container saw, its HostConfig, and how failures end."""

import json
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, sys.argv[1])  # the DAG folder, as Airflow puts it on sys.path
from bench_operator import BenchDockerOperator

from ganblr_bench import backends

image, work = sys.argv[2], Path(tempfile.mkdtemp(dir=sys.argv[3]))
mine, other = work / "job", work / "other-job"
mine.mkdir()
other.mkdir()
(other / "result.json").write_text("another job's result")
script = (
    "grep -E 'CapEff|NoNewPrivs' /proc/self/status; touch /etc/x 2>/dev/null && echo root-writable || "
    "echo root-read-only; ls /job; ls / | tr '\\n' ' '; echo; touch /job/written && echo job-writable"
)


def operator(command: str, name: str) -> BenchDockerOperator:
    return BenchDockerOperator(
        task_id=name,
        image=image,
        entrypoint=["sh", "-c"],
        command=[command],
        container_name=f"probe-{name}-{uuid.uuid4().hex[:6]}",
        mem_limit="256m",
        xcom_all=True,
        mounts=[{"Target": backends.CONTAINER_JOB, "Source": str(mine), "Type": "bind", "ReadOnly": False}],
        host_config_extras=backends.host_config_extras("256m"),
        docker_url="unix:///var/run/docker.sock",
        **backends.container_options(backends.DockerSite(work, work)),
    )


report = {}
op = operator(script, "hardened")
report["output"] = op.execute({})
report["host_config"] = op.cli.inspect_container(op.container["Id"])["HostConfig"]
op.cli.remove_container(op.container["Id"], force=True)
for name, code in (("verdict", 1), ("crash", 3)):
    op = operator(f"exit {code}", name)
    try:
        op.execute({})
    except Exception as err:  # which exception class decides whether Airflow retries
        report[name] = type(err).__name__
    op.cli.remove_container(op.container["Id"], force=True)
print("PROBE" + json.dumps(report, default=str))
