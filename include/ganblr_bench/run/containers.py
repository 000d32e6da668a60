"""Jobs as containers on a Docker engine: what each container gets, and how a run's containers are settled.

A job is ``ganblr-bench run --spec /job/spec.json --out /job`` in the image of its stack, with no network,
its memory limit, our user, a read-only root and no capabilities, on cores of its own (the operator leases
them: ``cores.pinned``). A container killed from outside leaves no result.json; ``settle_containers`` reads
how it ended (OOM kill, stop) and writes one, then removes the run's containers. The Docker client is passed
in (``docker.APIClient``, e.g. from Airflow's DockerHook): this module needs no Airflow, and is tested against
the real engine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganblr_bench import layout, settings
from ganblr_bench.contract import RunPlan
from ganblr_bench.run import cores, postmortem
from ganblr_bench.run import plan as planning
from ganblr_bench.states import Status

CONTAINER_JOB, CONTAINER_CACHE, CONTAINER_TRTR = "/job", "/data/cache", "/data/trtr"
JOB_LABEL, RUN_LABEL = "io.ganblr-bench.job", "io.ganblr-bench.run"

# What a job container may do: nothing but compute and write its own folder.
HARDENING = {
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "pids_limit": 512,
    "read_only": True,
    "tmpfs": {"/tmp": "rw,nosuid,nodev,size=512m"},  # MPLCONFIGDIR and library scratch; counted in the memory limit
}
LOG_LIMITS = {"max-size": "20m", "max-file": "3"}


@dataclass(frozen=True)
class DockerSite:
    """Where the Docker host sees the results root and the dataset cache (bind-mount sources)."""

    host_results_root: Path
    host_cache: Path
    user: str = f"{os.getuid()}:{os.getgid()}"


def container_options(site: DockerSite) -> dict[str, Any]:
    """What every job container gets: no network, our user, bounded logs (mounts are per job)."""
    return {
        "network_mode": "none",
        "mount_tmp_dir": False,
        # Containers stay until settle() has read how they ended (OOM kill, stop), then it removes them.
        "auto_remove": "never",
        "user": site.user,
        "log_opts_max_size": LOG_LIMITS["max-size"],
        "log_opts_max_file": LOG_LIMITS["max-file"],
    }


def host_config_extras(mem_limit: str) -> dict[str, Any]:
    """Host-config options DockerOperator 4.6.1 does not expose: hardening, and swap capped at the limit."""
    return {**HARDENING, "memswap_limit": mem_limit}


def docker_pinning(held: list[int]) -> dict[str, Any]:
    """Host-config options that give a container exactly these cores: the cpuset, and a quota equal to it."""
    return {"cpuset_cpus": cores.format_cpu_list(held), "nano_cpus": len(held) * 10**9}


def container_requests(
    plan: RunPlan, model: str, images: dict[str, str], site: DockerSite, heartbeat_s: float
) -> list[dict[str, Any]]:
    """Per job of ``model``: the container to start (image by the job's stack or its generator's own model stack:
    ``planning.image_key``; command, name, labels, limit).

    A job sees its own folder (read-write) and the dataset cache (read-only), nothing else of the results.
    A job whose stack has no image (its build failed) already has its result: no container.
    """
    requests = []
    for job in plan.of_model(model):
        ref = images.get(planning.image_key(job))
        if ref is None:
            continue
        requests.append(
            {
                "image": ref,
                "command": ["run", "--spec", f"{CONTAINER_JOB}/{layout.SPEC_FILE}", "--out", CONTAINER_JOB],
                "mounts": [
                    {
                        "Target": CONTAINER_JOB,
                        "Source": str(site.host_results_root / plan.key / job.name),
                        "Type": "bind",
                        "ReadOnly": False,
                    },
                    {"Target": CONTAINER_CACHE, "Source": str(site.host_cache), "Type": "bind", "ReadOnly": True},
                    {
                        "Target": CONTAINER_TRTR,
                        "Source": str(layout.trtr_cache(site.host_results_root)),
                        "Type": "bind",
                        "ReadOnly": False,
                    },
                ],
                "host_config_extras": host_config_extras(job.memory_limit),
                "container_name": f"gbb-{plan.key[:60]}-{job.name}-try{{{{ ti.try_number }}}}",
                "labels": {RUN_LABEL: plan.key, JOB_LABEL: job.name},
                "mem_limit": job.memory_limit,
                "environment": {
                    settings.IMAGE.name: ref,
                    settings.TRTR_CACHE.name: CONTAINER_TRTR,
                    settings.HEARTBEAT_S.name: f"{heartbeat_s:g}",
                },
                "cores": job.cores,
                "job_folder": str(Path(plan.folder) / job.name),
            }
        )
    return requests


def remove_earlier_tries(client: Any, key: str, job: str) -> list[str]:
    """Remove the containers an earlier try of ``job`` left running (its worker died, or lost the engine).

    Such a container still computes on cores its dead lease no longer guards, and would write into the job's
    folder under the new try: both would spoil the figures. Returns the names removed.
    """
    filters = {"label": [f"{RUN_LABEL}={key}", f"{JOB_LABEL}={job}"]}
    removed: list[str] = []
    for c in client.containers(all=True, filters=filters):
        client.remove_container(c["Id"], force=True)
        removed.extend(name.lstrip("/") for name in c.get("Names") or [])
    return removed


def settle_containers(connect: Callable[[], Any], folder: Path, key: str) -> list[str]:
    """Write results for jobs whose container died (OOM kill, stop, crash), then remove the run's containers.

    ``connect()`` returns the engine's client. If the engine does not answer, the jobs still without a
    result are recorded as failed with that cause (nothing is left unrecorded); returns one line per such job.
    """
    missing = layout.missing_results(folder)
    try:
        client = connect()
        containers = client.containers(all=True, filters={"label": f"{RUN_LABEL}={key}"})
        latest = {}
        for c in sorted(containers, key=lambda c: c["Created"]):
            latest[c["Labels"].get(JOB_LABEL)] = c
        for job in missing:
            if job in latest:
                state = client.inspect_container(latest[job]["Id"])["State"]
                logs = client.logs(latest[job]["Id"], tail=5).decode(errors="replace")
                status, error = postmortem.classify_exit(state.get("OOMKilled", False), state.get("ExitCode"), logs)
                postmortem.complete_missing(folder, job, status, error)
        for c in containers:
            client.remove_container(c["Id"], force=True)
    except Exception as err:  # requests' ConnectionError, docker's APIError: the engine is gone or broken
        why = f"the job's container could not be inspected: the Docker engine did not answer ({type(err).__name__})"
        lines = []
        for job in layout.missing_results(folder):
            postmortem.complete_missing(folder, job, Status.FAILED, why)
            lines.append(f"{job}: {why}")
        return lines
    return []
