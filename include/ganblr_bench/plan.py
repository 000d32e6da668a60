"""A pipeline run on disk: its folder, job specs, run.json, and results for jobs that died.

Layout of a run folder (under the results root, one per run)::

    <results root>/<run key>/run.json            run facts (contract.RunInfo)
    <results root>/<run key>/<job>/spec.json     what the job runs (contract.JobSpec)
    <results root>/<run key>/<job>/result.json   what it measured (contract.JobResult)

The run key is the run id made safe for paths and container names. A job killed from
outside (out of memory, stopped, crashed before writing) leaves no result.json;
``complete_missing`` writes one from what the backend saw, so every planned job ends
as a recorded row.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .contract import (
    RESULT_FILE, RUN_FILE, SPEC_FILE, HostFacts, ImageFacts, JobResult, JobSpec, RunInfo, load_result, load_run,
    parse_params, write_json_atomic,
)



def run_key(run_id: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._-")
    return key[:120] or "run"


@dataclass(frozen=True)
class Plan:
    run_id: str
    folder: Path
    jobs: dict[str, list[str]]  # model -> job names, in matrix order
    datasets: list[str]
    memory_limits: dict[str, str]  # model -> container memory limit

    def job_folder(self, job: str) -> Path:
        return self.folder / job


def _host() -> HostFacts:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return HostFacts(name=socket.gethostname(), cpus=os.cpu_count(), memory_bytes=memory)


def plan_run(params: dict, run_id: str, results_root: Path, *, kind: str = "manual", triggered_by: str | None = None,
             dag_id: str | None = None, backend: str | None = None, git_sha: str | None = None) -> Plan:
    """Validate the run's parameters, then write run.json and one spec.json per job.

    Raises ContractError naming the bad field before anything is written.
    """
    run_params = parse_params(params)
    specs = run_params.specs()
    folder = Path(results_root) / run_key(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    info = RunInfo(run_id=run_id, kind=kind, triggered_by=triggered_by, dag_id=dag_id,
                   params=run_params.model_dump(mode="json"), backend=backend,
                   started_at=datetime.now(timezone.utc), git_sha=git_sha, host=_host())
    write_json_atomic(folder / RUN_FILE, info.model_dump_json(indent=2))
    jobs: dict[str, list[str]] = {m: [] for m in run_params.models}
    for spec in specs:
        job_dir = folder / spec.name
        job_dir.mkdir(exist_ok=True)
        write_json_atomic(job_dir / SPEC_FILE, spec.model_dump_json(indent=2))
        jobs[spec.model].append(spec.name)
    return Plan(run_id, folder, jobs, list(run_params.datasets),
                {m: run_params.for_model(m, "memory_limit") for m in run_params.models})


def classify_exit(oom_killed: bool, exit_code: int | None, error: str = "") -> tuple[str, str]:
    """(status, error) for a job that left no result, from how its process or container ended."""
    if oom_killed:
        return "oom", "the job was killed for exceeding its memory limit (out of memory)"
    if exit_code in (137, 143, -9, -15):
        return "timeout", f"the job was stopped from outside (exit code {exit_code}), e.g. by the task's timeout"
    detail = f": {error.strip().splitlines()[-1]}" if error.strip() else ""
    return "failed", f"the job ended with exit code {exit_code} without writing a result{detail}"


def complete_missing(folder: Path, job: str, status: str, error: str, started_at: datetime | None = None) -> JobResult:
    """Write result.json for a job that left none, with the given status; return it."""
    spec = JobSpec.model_validate_json((folder / job / SPEC_FILE).read_text())
    now = datetime.now(timezone.utc)
    result = JobResult(job=job, spec=spec, status=status, error=error, started_at=started_at or now, finished_at=now)
    write_json_atomic(folder / job / RESULT_FILE, result.model_dump_json(indent=2))
    return result


def missing_results(folder: Path) -> list[str]:
    return sorted(p.parent.name for p in folder.glob(f"*/{SPEC_FILE}") if not (p.parent / RESULT_FILE).exists())


def finish_run(folder: Path, image: ImageFacts | None = None) -> RunInfo:
    """Stamp run.json with its end time and the image the jobs ran."""
    info = load_run(folder / RUN_FILE)
    info = info.model_copy(update={"finished_at": datetime.now(timezone.utc), "image": image or info.image})
    write_json_atomic(folder / RUN_FILE, info.model_dump_json(indent=2))
    return info


def failures(folder: Path) -> list[str]:
    """One line per job of the run that did not end ok: job, status and the error's first line."""
    lines = []
    for path in sorted(Path(folder).glob(f"*/{RESULT_FILE}")):
        result = load_result(path)
        if result.status != "ok":
            lines.append(f"{result.job}: {result.status}: {(result.error or '').strip().splitlines()[0]}")
    return lines
