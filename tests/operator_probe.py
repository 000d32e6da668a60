"""Run with the Airflow venv's python: executes BenchDockerOperator (dags/bench_operator.py) against the
real engine, outside a DAG, and prints as JSON what the container saw, its HostConfig, and how failures end."""

import json
import sys
import tempfile
import threading
import uuid
from pathlib import Path

sys.path.insert(0, sys.argv[1])  # the DAG folder, as Airflow puts it on sys.path
from bench_operator import BenchDockerOperator

from ganblr_bench.run import containers

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
        mounts=[{"Target": containers.CONTAINER_JOB, "Source": str(mine), "Type": "bind", "ReadOnly": False}],
        host_config_extras=containers.host_config_extras("256m"),
        docker_url="unix:///var/run/docker.sock",
        **containers.container_options(containers.DockerSite(work, work)),
    )


# Two jobs pinned at once: each container tells, from its own cgroup, which cores it has and when it ran.
PINNED = (
    "echo start $(date +%s.%N); (cat /sys/fs/cgroup/cpuset/cpuset.cpus || cat /sys/fs/cgroup/cpuset.cpus.effective) "
    "2>/dev/null | sed 's/^/cpuset /'; grep Cpus_allowed_list /proc/self/status; sleep 3; echo end $(date +%s.%N)"
)


def pinned(name: str) -> tuple[BenchDockerOperator, Path]:
    folder = work / name
    folder.mkdir()
    op = BenchDockerOperator(
        task_id=name,
        image=image,
        entrypoint=["sh", "-c"],
        command=[PINNED],
        container_name=f"probe-{name}-{uuid.uuid4().hex[:6]}",
        labels={containers.JOB_LABEL: name},
        cores=1,
        job_folder=str(folder),
        mem_limit="256m",
        xcom_all=True,
        docker_url="unix:///var/run/docker.sock",
        **containers.container_options(containers.DockerSite(work, work)),
    )
    return op, folder


report = {"pinned": {}}
jobs = [pinned(name) for name in ("pin-a", "pin-b")]


def run_pinned(op, folder):
    lines = op.execute({})
    host = op.cli.inspect_container(op.container["Id"])["HostConfig"]
    op.cli.remove_container(op.container["Id"], force=True)
    placement = json.loads((folder / "placement.json").read_text())
    report["pinned"][op.task_id] = {
        "output": lines,
        "cpuset_cpus": host["CpusetCpus"],
        "nano_cpus": host["NanoCpus"],
        "placement": placement,
    }


threads = [threading.Thread(target=run_pinned, args=job) for job in jobs]
[t.start() for t in threads]
[t.join(120) for t in threads]
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
