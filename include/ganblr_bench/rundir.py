"""A run on disk: the folder's layout, planning it, post-mortems for jobs that died, collecting it.

Layout of a run folder (under the results root, one per run)::

    <results root>/<run key>/run.json                run facts (contract.RunInfo)
    <results root>/<run key>/<job>/spec.json         what the job runs (contract.JobSpec)
    <results root>/<run key>/<job>/result.json       what it measured (contract.JobResult)
    <results root>/<run key>/<job>/synthetic.csv     the sample it generated
    <results root>/<run key>/<job>/placement.json    the cores it was leased (contract.Placement)
    <results root>/<run key>/report/                 the run's comparison report
    <results root>/.trtr-cache/                      TRTR scores every job and run shares (evaluate.TrtrCache)

The run key is the run id made safe for paths and container names (with a short hash of
the id whenever that changed it, so two run ids never share a folder). A job killed from
outside (out of memory, stopped, crashed before writing) leaves no result.json;
``complete_missing`` writes one from what the backend saw, so every planned job ends
as a recorded row. A result from an earlier try never stands in for a later one: planning
and each job's start move an existing result.json aside (``retire_result``). Nothing else
in the package knows these names.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .contract import (
    ContractError,
    HostFacts,
    ImageFacts,
    JobResult,
    JobSpec,
    Placement,
    RunInfo,
    RunPlan,
    load_placement,
    load_result,
    load_run,
)
from .params import parse_params

RUN_FILE = "run.json"
SPEC_FILE = "spec.json"
RESULT_FILE = "result.json"
SYNTHETIC_FILE = "synthetic.csv"
PLACEMENT_FILE = "placement.json"
REPORT_DIR = "report"


def run_key(run_id: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._-")[:120]
    if not key or key != run_id:  # "a:b", "a;b" and "a b" must not share a folder
        key = f"{key or 'run'}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"
    return key


def trtr_cache(results_root: Path) -> Path:
    """The TRTR cache beside the run folders (a run key never starts with '.', so no run can own this name)."""
    return Path(results_root) / ".trtr-cache"


def retire_result(job_folder: Path) -> Path | None:
    """Move a job's result.json aside (result.superseded-N.json): a new try starts with no result."""
    (Path(job_folder) / PLACEMENT_FILE).unlink(missing_ok=True)  # an earlier try's cores, not this one's
    current = Path(job_folder) / RESULT_FILE
    if not current.exists():
        return None
    n = len(list(Path(job_folder).glob("result.superseded-*.json"))) + 1
    target = current.with_name(f"result.superseded-{n}.json")
    os.replace(current, target)
    return target


def write_json_atomic(path: Path, payload: str) -> None:
    """Write so that a reader sees the old file or the whole new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(payload)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half file behind
        raise


def host_facts() -> HostFacts:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return HostFacts(name=socket.gethostname(), cpus=os.cpu_count(), memory_bytes=memory)


# ---------------------------------------------------------------- planning


def plan_run(
    params: dict,
    run_id: str,
    results_root: Path,
    *,
    kind: str = "manual",
    triggered_by: str | None = None,
    dag_id: str | None = None,
    backend: str | None = None,
    git_sha: str | None = None,
) -> RunPlan:
    """Validate the run's parameters, then write run.json and one spec.json per job.

    Raises ContractError naming the bad field before anything is written.
    """
    run_params = parse_params(params)
    if backend == "process" and "latest" in run_params.stacks:
        raise ContractError(
            "run parameters: stacks: 'latest' needs the docker backend (a process runs in this "
            "machine's locked environment)"
        )
    specs = run_params.specs()
    folder = Path(results_root) / run_key(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    trtr_cache(results_root).mkdir(exist_ok=True)  # jobs' containers mount it: it must exist
    info = RunInfo(
        run_id=run_id,
        kind=kind,
        triggered_by=triggered_by,
        dag_id=dag_id,
        params=run_params.model_dump(mode="json"),
        backend=backend,
        started_at=datetime.now(UTC),
        git_sha=git_sha,
        host=host_facts(),
    )
    write_json_atomic(folder / RUN_FILE, info.model_dump_json(indent=2))
    jobs: dict[str, list[str]] = {m: [] for m in run_params.all_models}
    for spec in specs:
        job_dir = folder / spec.name
        job_dir.mkdir(exist_ok=True)
        retire_result(job_dir)  # a run planned again (a cleared task) starts with no result
        write_json_atomic(job_dir / SPEC_FILE, spec.model_dump_json(indent=2))
        jobs[spec.model].append(spec.name)
    return RunPlan(
        run_id=run_id,
        folder=str(folder),
        key=folder.name,
        jobs=jobs,
        stacks={s.name: s.stack for s in specs},
        datasets=list(run_params.datasets),
        memory_limits={m: run_params.for_model(m, "memory_limit") for m in jobs},
        cores={m: run_params.for_model(m, "cores_per_job") for m in jobs},
    )


# ---------------------------------------------------------------- post-mortems


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
    spec = JobSpec.model_validate_json((Path(folder) / job / SPEC_FILE).read_text())
    now = datetime.now(UTC)
    result = JobResult(job=job, spec=spec, status=status, error=error, started_at=started_at or now, finished_at=now)
    write_json_atomic(Path(folder) / job / RESULT_FILE, result.model_dump_json(indent=2))
    return result


def complete_all_missing(folder: Path, earlier_step_failed: bool) -> list[str]:
    """After the job tasks: a result for every planned job still without one; return their names.

    ``skipped`` when an earlier step (dataset fetch, image build) failed so the job never ran;
    ``failed`` when its task ended without a result (and the backend saw nothing more precise).
    """
    missing = missing_results(folder)
    for job in missing:
        if earlier_step_failed:
            complete_missing(
                folder, job, "skipped", "the job did not run: an earlier step (dataset fetch or image build) failed"
            )
        else:
            complete_missing(folder, job, "failed", "the job's task ended without a result")
    return missing


def has_result(job_folder: Path) -> bool:
    return (Path(job_folder) / RESULT_FILE).exists()


def missing_results(folder: Path) -> list[str]:
    return sorted(p.parent.name for p in Path(folder).glob(f"*/{SPEC_FILE}") if not has_result(p.parent))


def finish_run(folder: Path, image: ImageFacts | None = None) -> RunInfo:
    """Stamp run.json with its end time and the image the jobs ran."""
    info = load_run(Path(folder) / RUN_FILE)
    info = info.model_copy(update={"finished_at": datetime.now(UTC), "image": image or info.image})
    write_json_atomic(Path(folder) / RUN_FILE, info.model_dump_json(indent=2))
    return info


def failures(folder: Path, stack: str | None = None) -> list[str]:
    """One line per job of the run (of ``stack``, if given) that did not end ok: job, status, the error's first line."""
    lines = []
    for path in sorted(Path(folder).glob(f"*/{RESULT_FILE}")):
        result = load_result(path)
        if result.status != "ok" and stack in (None, result.spec.stack):
            lines.append(f"{result.job}: {result.status}: {(result.error or '').strip().splitlines()[0]}")
    return lines


# ---------------------------------------------------------------- collecting


@dataclass
class Batch:
    """One run and the results to record with it."""

    run: RunInfo
    results: list[tuple[JobResult, str | None]] = field(default_factory=list)  # (result, artifact folder)


def content_sha256(result: JobResult) -> str:
    """sha256 of the canonical JSON (sorted keys): the same result hashes the same after any round trip."""
    canonical = json.dumps(result.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_placement(job_folder: Path, placement: Placement) -> None:
    write_json_atomic(Path(job_folder) / PLACEMENT_FILE, placement.model_dump_json(indent=2))


def _with_placement(result: JobResult, job_folder: Path) -> JobResult:
    """The result with the placement its leaser wrote beside it (the job itself cannot know its peers)."""
    path = job_folder / PLACEMENT_FILE
    if result.placement is not None or not path.exists():
        return result
    return result.model_copy(update={"placement": load_placement(path)})


def collect(path: Path) -> tuple[Batch | None, list[str]]:
    """Read a run folder (run.json + */result.json) or a job folder (result.json).

    Returns the batch of valid results and one message per rejected file, naming the file
    and the field; a rejected file does not stop the others.
    """
    path = Path(path)
    rejected: list[str] = []
    if (path / RUN_FILE).exists():
        run_file, result_files = path / RUN_FILE, sorted(path.glob(f"*/{RESULT_FILE}"))
    elif (path / RESULT_FILE).exists():
        run_file, result_files = path.parent / RUN_FILE, [path / RESULT_FILE]
    else:
        return None, [f"{path}: neither {RUN_FILE} nor {RESULT_FILE} found"]
    results = []
    for file in result_files:
        try:
            results.append((_with_placement(load_result(file), file.parent), str(file.parent.resolve())))
        except ContractError as err:
            rejected.append(str(err))
    if run_file.exists():
        try:
            run = load_run(run_file)
        except ContractError as err:
            return None, rejected + [str(err)]
    elif results:
        # A job run by hand: a run of its own, named after its content so re-recording is a no-op.
        first = results[0][0]
        run = RunInfo(
            run_id=f"cli-{content_sha256(first)[:16]}",
            kind="cli",
            started_at=first.started_at,
            finished_at=first.finished_at,
        )
    else:
        return None, rejected
    return Batch(run, results), rejected
