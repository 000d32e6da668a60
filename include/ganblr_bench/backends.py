"""Where a job runs, and how its end is settled: ``docker`` (a container per job) or ``process``.

Either way a job is ``ganblr-bench run --spec <job>/spec.json --out <job>`` and leaves a
result.json; a job killed from outside leaves none, and the backend writes one from what
it saw (exit code, OOM kill), so every planned job ends as a recorded row. The Docker
client is passed in (``docker.APIClient``, e.g. from Airflow's DockerHook): this module
needs no Airflow, and is tested against the real engine.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from . import cores, rundir
from .contract import IMAGE_ENV, TRTR_CACHE_ENV, Placement, RunPlan, load_spec
from .heartbeat import DEFAULT_EVERY_S, HEARTBEAT_ENV

CONTAINER_JOB, CONTAINER_CACHE, CONTAINER_TRTR = "/job", "/data/cache", "/data/trtr"
JOB_LABEL, RUN_LABEL = "io.ganblr-bench.job", "io.ganblr-bench.run"


class JobFailed(RuntimeError):
    """The job ended without status ok; its result.json says why.

    ``retryable`` is False when running it again cannot help: the job reached a verdict of its own
    (failed, timeout, oom, bad spec); True when it died for a reason outside it.
    """

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


# Exit codes of a job whose outcome another try cannot change: 1 the job failed, timed out or ran out of
# memory and wrote its result; 2 the spec is bad; 137 the kernel's OOM killer (the same limit kills again).
DETERMINISTIC_EXITS = (1, 2, 137)

# What a job container may do: nothing but compute and write its own folder.
HARDENING = {
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "pids_limit": 512,
    "read_only": True,
    "tmpfs": {"/tmp": "rw,nosuid,nodev,size=512m"},  # MPLCONFIGDIR and library scratch; counted in the memory limit
}
LOG_LIMITS = {"max-size": "20m", "max-file": "3"}


# ---------------------------------------------------------------- docker


@dataclass(frozen=True)
class DockerSite:
    """Where the Docker host sees the results root and the dataset cache (bind-mount sources)."""

    host_results_root: Path
    host_cache: Path
    user: str = f"{os.getuid()}:{os.getgid()}"


def container_options(site: DockerSite) -> dict:
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


def host_config_extras(mem_limit: str) -> dict:
    """Host-config options DockerOperator 4.6.1 does not expose: hardening, and swap capped at the limit."""
    return {**HARDENING, "memswap_limit": mem_limit}


@contextlib.contextmanager
def pinned(
    job_folder: Path | None, job: str, count: int, host_cpus: int | None, host: str | None, engine_id: str = "local"
):
    """Lease ``count`` cores of the host for ``job``; yield them; write the job's placement.json (if its
    folder is given) when done.

    The lock folder is per Docker engine (``engine_id``), so two hosts never share core locks.
    """
    usable = cores.usable_cores(host_cpus)
    folder = cores.default_lock_dir() / "".join(ch if ch.isalnum() else "_" for ch in engine_id)
    held = cores.lease(job, count, usable, folder)
    try:
        yield held.cores
    finally:
        held.close()
        if job_folder is not None and Path(job_folder).is_dir():
            rundir.write_placement(
                job_folder,
                Placement(
                    cores=held.cores,
                    waited_s=held.waited_s,
                    peers=held.peers,
                    host=host,
                    worker=socket.gethostname(),
                ),
            )


def docker_pinning(held: list[int]) -> dict:
    """Host-config options that give a container exactly these cores: the cpuset, and a quota equal to it."""
    return {"cpuset_cpus": cores.format_cpu_list(held), "nano_cpus": len(held) * 10**9}


def container_requests(
    plan: RunPlan, model: str, images: dict[str, str], site: DockerSite, heartbeat_s: float = DEFAULT_EVERY_S
) -> list[dict]:
    """Per job of ``model``: the container to start (image by the job's stack, command, name, labels, limit).

    A job sees its own folder (read-write) and the dataset cache (read-only), nothing else of the results.
    A job whose stack has no image (its build failed, see ``fail_stack``) already has its result: no container.
    """
    requests = []
    for job in plan.jobs.get(model, []):
        ref = images.get(plan.stacks.get(job, "locked"))
        if ref is None:
            continue
        requests.append(
            {
                "image": ref,
                "command": ["run", "--spec", f"{CONTAINER_JOB}/{rundir.SPEC_FILE}", "--out", CONTAINER_JOB],
                "mounts": [
                    {
                        "Target": CONTAINER_JOB,
                        "Source": str(site.host_results_root / plan.key / job),
                        "Type": "bind",
                        "ReadOnly": False,
                    },
                    {"Target": CONTAINER_CACHE, "Source": str(site.host_cache), "Type": "bind", "ReadOnly": True},
                    {
                        "Target": CONTAINER_TRTR,
                        "Source": str(rundir.trtr_cache(site.host_results_root)),
                        "Type": "bind",
                        "ReadOnly": False,
                    },
                ],
                "host_config_extras": host_config_extras(plan.memory_limits[model]),
                "container_name": f"gbb-{plan.key[:60]}-{job}-try{{{{ ti.try_number }}}}",
                "labels": {RUN_LABEL: plan.key, JOB_LABEL: job},
                "mem_limit": plan.memory_limits[model],
                "environment": {IMAGE_ENV: ref, TRTR_CACHE_ENV: CONTAINER_TRTR, HEARTBEAT_ENV: f"{heartbeat_s:g}"},
                "cores": plan.cores.get(model, 1),
                "job_folder": str(Path(plan.folder) / job),
            }
        )
    return requests


def remove_earlier_tries(client, key: str, job: str) -> list[str]:
    """Remove the containers an earlier try of ``job`` left running (its worker died, or lost the engine).

    Such a container still computes on cores its dead lease no longer guards, and would write into the job's
    folder under the new try: both would spoil the figures. Returns the names removed.
    """
    filters = {"label": [f"{RUN_LABEL}={key}", f"{JOB_LABEL}={job}"]}
    removed = []
    for c in client.containers(all=True, filters=filters):
        client.remove_container(c["Id"], force=True)
        removed.extend(name.lstrip("/") for name in c.get("Names") or [])
    return removed


def fail_stack(plan: RunPlan, stack: str, error: str) -> list[str]:
    """Record every job of ``stack`` as failed with ``error`` (its image could not be built); return their names."""
    jobs = [job for job, s in plan.stacks.items() if s == stack]
    for job in jobs:
        rundir.complete_missing(Path(plan.folder), job, "failed", error)
    return jobs


def settle_containers(connect, folder: Path, key: str) -> list[str]:
    """Write results for jobs whose container died (OOM kill, stop, crash), then remove the run's containers.

    ``connect()`` returns the engine's client. If the engine does not answer, the jobs still without a
    result are recorded as failed with that cause (nothing is left unrecorded); returns one line per such job.
    """
    missing = rundir.missing_results(folder)
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
                status, error = rundir.classify_exit(state.get("OOMKilled", False), state.get("ExitCode"), logs)
                rundir.complete_missing(folder, job, status, error)
        for c in containers:
            client.remove_container(c["Id"], force=True)
    except Exception as err:  # requests' ConnectionError, docker's APIError: the engine is gone or broken
        why = f"the job's container could not be inspected: the Docker engine did not answer ({type(err).__name__})"
        lines = []
        for job in rundir.missing_results(folder):
            rundir.complete_missing(folder, job, "failed", why)
            lines.append(f"{job}: {why}")
        return lines
    return []


# ---------------------------------------------------------------- process

# What a job process inherits: the basics and the numeric libraries' settings (they change results),
# never the scheduler's secrets (database passwords, tokens).
PROCESS_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "TF_CPP_MIN_LOG_LEVEL",
    "TF_ENABLE_ONEDNN_OPTS",
    HEARTBEAT_ENV,
)
PROCESS_ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_")


def process_env(cache: Path, environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if k in PROCESS_ENV or k.startswith(PROCESS_ENV_PREFIXES)}
    return env | {"GANBLR_BENCH_CACHE": str(cache), "GANBLR_BENCH_OFFLINE": "1"}


def run_process(job_folder: Path, runner: str, cache: Path, timeout_s: float) -> str:
    """Run one job as a local process on cores of its own (CPU affinity); write its result if it left none;
    raise JobFailed unless it ended ok."""
    job = Path(job_folder)
    spec = load_spec(job / rundir.SPEC_FILE)
    command = [runner, "run", "--spec", str(job / rundir.SPEC_FILE), "--out", str(job)]
    env = process_env(cache) | {TRTR_CACHE_ENV: str(rundir.trtr_cache(job.parent.parent))}
    try:
        with pinned(job, job.name, spec.cores, None, socket.gethostname(), f"local-{socket.gethostname()}") as held:
            returncode, tail = _stream(command, env, timeout_s, lambda: os.sched_setaffinity(0, held))
    except subprocess.TimeoutExpired:  # the process was killed: a timeout, not a crash
        rundir.complete_missing(
            job.parent, job.name, "timeout", f"the job ran past its task's {timeout_s:g} s and was stopped"
        )
        raise JobFailed(f"job {job.name} timed out after {timeout_s:g} s", retryable=False) from None
    wrote_its_own = rundir.has_result(job)
    if not wrote_its_own:
        status, error = rundir.classify_exit(False, returncode, tail)
        rundir.complete_missing(job.parent, job.name, status, error)
    if returncode != 0:
        retryable = not wrote_its_own and returncode not in DETERMINISTIC_EXITS
        raise JobFailed(f"job {job.name} did not succeed (exit code {returncode}); see result.json", retryable)
    return job.name


def _stream(command: list[str], env: dict[str, str], timeout_s: float, preexec) -> tuple[int, str]:
    """Run the job, printing its output line by line as it comes (its phases and heartbeats reach the task log
    live); return its exit code and the last of its output. Kills it and raises TimeoutExpired after
    ``timeout_s``."""
    tail: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, preexec_fn=preexec
    ) as proc:

        def relay() -> None:
            for line in proc.stdout:
                print(line, end="", flush=True)
                tail.append(line)
                del tail[:-50]

        reader = threading.Thread(target=relay, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            reader.join(timeout=10)
    return proc.returncode, "".join(tail)
