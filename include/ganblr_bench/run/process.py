"""Jobs as local processes on cores of their own (CPU affinity), in this machine's environment.

For machines without a Docker engine (the quick start): ``ganblr-bench run`` in the venv that has the model
stack, pinned with ``sched_setaffinity`` to the cores its lease holds; its output is relayed line by line, so
its phases and heartbeats reach the task log as they happen. A process that ends without a result gets one
from how it ended.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from ganblr_bench import layout, settings
from ganblr_bench.errors import FINAL_JOB_EXITS, JobFailed
from ganblr_bench.run import cores, postmortem
from ganblr_bench.states import Status

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
    settings.HEARTBEAT_S.name,
)
PROCESS_ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_")


def process_env(cache: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if k in PROCESS_ENV or k.startswith(PROCESS_ENV_PREFIXES)}
    return env | {settings.CACHE.name: str(cache), settings.OFFLINE.name: "1"}


def run_process(job_folder: Path, runner: str, cache: Path, timeout_s: float) -> str:
    """Run one job as a local process on cores of its own; write its result if it left none; raise JobFailed
    unless it ended ok."""
    job = Path(job_folder)
    spec = layout.load_spec(job / layout.SPEC_FILE, job)
    command = [runner, "run", "--spec", str(job / layout.SPEC_FILE), "--out", str(job)]
    env = process_env(cache) | {settings.TRTR_CACHE.name: str(layout.trtr_cache(job.parent.parent))}
    try:
        with cores.pinned(
            job, job.name, spec.cores, None, socket.gethostname(), f"local-{socket.gethostname()}"
        ) as held:
            returncode, tail = _stream(command, env, timeout_s, lambda: os.sched_setaffinity(0, held))
    except subprocess.TimeoutExpired:  # the process was killed: a timeout, not a crash
        postmortem.complete_missing(
            job.parent, job.name, Status.TIMEOUT, f"the job ran past its task's {timeout_s:g} s and was stopped"
        )
        raise JobFailed(f"job {job.name} timed out after {timeout_s:g} s", retryable=False) from None
    wrote_its_own = layout.has_result(job)
    if not wrote_its_own:
        status, error = postmortem.classify_exit(False, returncode, tail)
        postmortem.complete_missing(job.parent, job.name, status, error)
    if returncode != 0:
        retryable = not wrote_its_own and returncode not in FINAL_JOB_EXITS
        raise JobFailed(f"job {job.name} did not succeed (exit code {returncode}); see result.json", retryable)
    return job.name


def _stream(command: list[str], env: dict[str, str], timeout_s: float, preexec: Callable[[], None]) -> tuple[int, str]:
    """Run the job, printing its output line by line as it comes; return its exit code and the last of its
    output. Kills it and raises TimeoutExpired after ``timeout_s``."""
    tail: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, preexec_fn=preexec
    ) as proc:

        def relay() -> None:
            assert proc.stdout is not None
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
