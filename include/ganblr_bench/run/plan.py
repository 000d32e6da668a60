"""Planning a run: its parameters validated, its folder written (run.json and a spec.json per job), its plan.

``plan_run`` is the DAG's first step and the only place a run's parameters become jobs: everything the later
steps need (the jobs with their stacks, cores, memory limits and expected durations, longest first; the datasets,
``force_rebuild``) is in the ``RunPlan`` it returns, derived once from the job specs it wrote; the scheduler
queues the job tasks from the ``queue.json`` it writes beside them (``run/queue.py``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ganblr_bench import __version__, dataset_registration, generator_catalog, layout
from ganblr_bench.contract import HostFacts, JobSpec, PlannedJob, RunInfo, RunPlan
from ganblr_bench.errors import ContractError
from ganblr_bench.params import parse_params
from ganblr_bench.run import candidate, queue
from ganblr_bench.states import Backend, RunKind, Stack


def variant(job: PlannedJob) -> str | None:
    """The model stack of the job's generator when it has one of its own (the job runs in that variant's image)."""
    stack = generator_catalog.get(job.model).stack
    return None if stack == generator_catalog.MAIN_STACK else stack


def image_key(job: PlannedJob) -> str:
    """Which of the run's images the job runs in: its generator's own stack, else its stack (locked, latest...)."""
    return variant(job) or str(job.stack)


def host_facts() -> HostFacts:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return HostFacts(name=socket.gethostname(), cpus=os.cpu_count(), memory_bytes=memory)


def plan_run(
    params: dict[str, Any],
    run_id: str,
    results_root: Path,
    *,
    kind: RunKind = RunKind.MANUAL,
    triggered_by: str | None = None,
    dag_id: str | None = None,
    backend: Backend | None = None,
    git_sha: str | None = None,
    history: Callable[[list[JobSpec]], Mapping[str, float]] | None = None,
) -> RunPlan:
    """Validate the run's parameters, then write run.json, one spec.json per job and the job queue.

    ``history`` gives the expected seconds of the jobs whose series have some (``queue.history``); the others
    are expected from their model's rough cost. Raises ContractError naming the bad field before anything is
    written.
    """
    run_params = parse_params(params)
    built = [s for s in run_params.stacks if s != Stack.LOCKED]
    if backend == Backend.PROCESS and built:
        raise ContractError(
            f"run parameters: stacks: {str(built[0])!r} needs the docker backend (a process runs in this "
            "machine's locked environment)"
        )
    if run_params.candidate is not None:
        candidate.Candidate.parse(run_params.candidate)  # a path that is not there fails here, before any job
    key = layout.run_key(run_id)
    # A registered dataset is checked against its files now (an error names it before anything is written).
    specs = run_params.specs(run=key, definitions=dataset_registration.definitions(list(run_params.datasets)))
    folder = Path(results_root) / key
    folder.mkdir(parents=True, exist_ok=True)
    layout.trtr_cache(results_root).mkdir(exist_ok=True)  # jobs' containers mount it: it must exist
    info = RunInfo(
        run_id=run_id,
        kind=kind,
        triggered_by=triggered_by,
        dag_id=dag_id,
        params=run_params.model_dump(mode="json"),
        backend=backend,
        started_at=datetime.now(UTC),
        git_sha=git_sha,
        release=__version__,
        host=host_facts(),
    )
    layout.write_text_atomic(folder / layout.RUN_FILE, info.model_dump_json(indent=2))
    for spec in specs:
        job_dir = folder / spec.name
        job_dir.mkdir(exist_ok=True)
        layout.retire_result(job_dir)  # a run planned again (a cleared task) starts with no result
        layout.write_text_atomic(job_dir / layout.SPEC_FILE, spec.model_dump_json(indent=2))
    expected = queue.expected(specs, history(specs) if history else {})
    jobs = queue.longest_first(
        [
            PlannedJob(
                name=s.name,
                model=s.model,
                stack=s.stack,
                cores=s.cores,
                memory_limit=s.memory_limit or "6g",
                expected_s=round(expected[s.name].seconds, 3),
            )
            for s in specs
        ]
    )
    queue.write(folder, queue.job_queue(run_id, jobs, {name: e.source for name, e in expected.items()}))
    return RunPlan(
        run_id=run_id,
        kind=kind,
        folder=str(folder),
        key=key,
        jobs=jobs,
        datasets=list(run_params.datasets),
        stacks=list(run_params.stacks),
        force_rebuild=run_params.force_rebuild,
        candidate=run_params.candidate,
    )
