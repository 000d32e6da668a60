"""Where a job runs, and how its end is settled: ``docker`` (a container per job) or ``process``.

Either way a job is ``ganblr-bench run --spec <job>/spec.json --out <job>`` and leaves a
result.json; a job killed from outside leaves none, and the backend writes one from what
it saw (exit code, OOM kill), so every planned job ends as a recorded row. The Docker
client is passed in (``docker.APIClient``, e.g. from Airflow's DockerHook): this module
needs no Airflow, and is tested against the real engine.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import rundir
from .contract import IMAGE_ENV, RunPlan

CONTAINER_RESULTS, CONTAINER_CACHE = "/results", "/data/cache"
JOB_LABEL, RUN_LABEL = "io.ganblr-bench.job", "io.ganblr-bench.run"


class JobFailed(RuntimeError):
    """The job ended without status ok; its result.json says why."""


# ---------------------------------------------------------------- docker


@dataclass(frozen=True)
class DockerSite:
    """Where the Docker host sees the results root and the dataset cache (bind-mount sources)."""

    host_results_root: Path
    host_cache: Path
    user: str = f"{os.getuid()}:{os.getgid()}"


def container_options(site: DockerSite) -> dict:
    """What every job container gets: no network, the results root, the cache read-only, our user."""
    from docker.types import Mount

    return {
        "network_mode": "none",
        "mount_tmp_dir": False,
        # Containers stay until settle() has read how they ended (OOM kill, stop), then it removes them.
        "auto_remove": "never",
        "user": site.user,
        "mounts": [
            Mount(CONTAINER_RESULTS, str(site.host_results_root), type="bind"),
            Mount(CONTAINER_CACHE, str(site.host_cache), type="bind", read_only=True),
        ],
    }


def container_requests(plan: RunPlan, model: str, images: dict[str, str]) -> list[dict]:
    """Per job of ``model``: the container to start (image by the job's stack, command, name, labels, limit).

    A job whose stack has no image (its build failed, see ``fail_stack``) already has its result: no container.
    """
    requests = []
    for job in plan.jobs.get(model, []):
        ref = images.get(plan.stacks.get(job, "locked"))
        if ref is None:
            continue
        folder = f"{CONTAINER_RESULTS}/{plan.key}/{job}"
        requests.append(
            {
                "image": ref,
                "command": ["run", "--spec", f"{folder}/{rundir.SPEC_FILE}", "--out", folder],
                "container_name": f"gbb-{plan.key[:60]}-{job}-try{{{{ ti.try_number }}}}",
                "labels": {RUN_LABEL: plan.key, JOB_LABEL: job},
                "mem_limit": plan.memory_limits[model],
                "environment": {IMAGE_ENV: ref},
            }
        )
    return requests


def fail_stack(plan: RunPlan, stack: str, error: str) -> list[str]:
    """Record every job of ``stack`` as failed with ``error`` (its image could not be built); return their names."""
    jobs = [job for job, s in plan.stacks.items() if s == stack]
    for job in jobs:
        rundir.complete_missing(Path(plan.folder), job, "failed", error)
    return jobs


def settle_containers(client, folder: Path, key: str) -> None:
    """Write results for jobs whose container died (OOM kill, stop, crash), then remove the run's containers."""
    missing = rundir.missing_results(folder)
    containers = client.containers(all=True, filters={"label": f"{RUN_LABEL}={key}"})
    latest = {}
    for c in sorted(containers, key=lambda c: c["Created"]):
        latest[c["Labels"].get(JOB_LABEL)] = c
    for job in missing:
        if job in latest:
            state = client.inspect_container(latest[job]["Id"])["State"]
            logs = client.logs(latest[job]["Id"], tail=5).decode(errors="replace")
            status, error = rundir.classify_exit(state.get("OOMKilled", False), state.get("ExitCode"), logs)
            rundir.complete_missing(folder, job, status, error)
    for c in containers:
        client.remove_container(c["Id"], force=True)


# ---------------------------------------------------------------- process


def run_process(job_folder: Path, runner: str, cache: Path, timeout_s: float) -> str:
    """Run one job as a local process; write its result if it left none; raise JobFailed unless it ended ok."""
    job = Path(job_folder)
    env = dict(os.environ, GANBLR_BENCH_CACHE=str(cache), GANBLR_BENCH_OFFLINE="1")
    proc = subprocess.run(
        [runner, "run", "--spec", str(job / rundir.SPEC_FILE), "--out", str(job)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout_s,
    )
    print(proc.stdout[-4000:], proc.stderr[-4000:])
    if not rundir.has_result(job):
        status, error = rundir.classify_exit(False, proc.returncode, proc.stderr)
        rundir.complete_missing(job.parent, job.name, status, error)
    if proc.returncode != 0:
        raise JobFailed(f"job {job.name} did not succeed (exit code {proc.returncode}); see result.json")
    return job.name
