"""The job queue: jobs wait in Airflow for their cores, not inside running tasks, and the longest go first.

Every job task runs in one Airflow pool (``GANBLR_BENCH_POOL``, one slot a usable core) and takes as many of its
slots as it has cores, so a task starts only when its cores are free: a waiting job is a *scheduled* task that
holds no executor slot and whose timeout has not begun, and its core lease (``run/cores.py``) finds its cores at
once. The scheduler starts the waiting tasks with the highest ``priority_weight`` first; the plan gives the
longest expected job the highest, so a night's makespan stays near its lower bound, max(longest job, core-seconds
/ cores) (``benchmarks/bench_queue.py`` replays matrices through this policy).

Airflow takes a mapped task's pool slots and priority from the task, the same for every job of a branch; this
module writes each job's own into the run folder (``queue.json``, a ``JobQueue``) and the scheduler's
``task_instance_mutation_hook`` (``plugins/airflow_local_settings.py``) sets them on each job's task instance
from it.

Expected durations: the median startup + wall time of the job's series over its last ``HISTORY_RUNS`` runs (the
warehouse, ``history``); a series without history gets its model's rough cost (``generator_catalog.Cost``)
scaled by the rows and epochs it will train on.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganblr_bench import dataset_catalog, generator_catalog, layout, settings
from ganblr_bench.contract import JobQueue, JobSpec, PlannedJob, QueuedJob
from ganblr_bench.generator_catalog import slug
from ganblr_bench.run import cores
from ganblr_bench.warehouse import series

UNMATCHED = ("dataset_checksum", "backend", "host_cpus", "memory_limit")
HISTORY_RUNS = 5  # a series' recent runs whose median predicts the next: robust to one slow night
JOB_TASK = "run"  # the job task's id in each branch's task group ("<model slug>.run")


@dataclass(frozen=True)
class Expected:
    seconds: float
    source: str  # "history" or "default"


def default_seconds(spec: JobSpec) -> float:
    """A new series' expected seconds: its model's rough cost for the training rows and epochs it will have."""
    cost = generator_catalog.get(spec.model).cost
    facts = spec.dataset_definition.info() if spec.dataset_definition else dataset_catalog.get(spec.dataset)
    rows = facts.rows or 1000
    if spec.row_limit:
        rows = min(rows, spec.row_limit)
    train_krows = rows * (1 - spec.test_fraction) / 1000
    epochs = spec.params.epochs if generator_catalog.get(spec.model).tensorflow else 1
    return cost.fixed_s + cost.per_krow_s * train_krows + cost.per_krow_epoch_s * train_krows * epochs


def comparable(spec: JobSpec) -> dict[str, Any]:
    """The series fields a job's history is found by: those that change what it does, known before it runs (its
    dataset's checksum is known once loaded; where it runs, host and backend and memory limit, changes its time
    less than the order of a queue needs to know)."""
    chosen = series.fields(spec, None, None, None, None)
    return {f: chosen[f] for f in series.SERIES_FIELDS if f not in UNMATCHED}


# The last HISTORY_RUNS final, ok attempts of each (model, dataset, stack) through its index, then the series
# fields compared in Python: the read is bounded by the window whatever the warehouse's age.
HISTORY = """
SELECT r.model, r.dataset, r.stack, r.series, r.startup_s, r.wall_s
FROM unnest(%(models)s::text[], %(datasets)s::text[], %(stacks)s::text[]) AS k(model, dataset, stack)
CROSS JOIN LATERAL (
    SELECT j.model, j.dataset, j.stack, j.series, j.startup_s, j.wall_s
    FROM bench.job_results j
    WHERE j.final AND j.model = k.model AND j.dataset = k.dataset AND j.stack = k.stack AND j.status = 'ok'
      AND j.wall_s IS NOT NULL
    ORDER BY j.run_started_at DESC
    LIMIT %(window)s
) r
"""


def history(conn: Any, specs: Iterable[JobSpec], window: int = 40) -> dict[str, float]:
    """Expected seconds by job name from the warehouse: the median of each job's series over its recent runs.

    ``window`` bounds the rows read per model, dataset and stack (several series share one: other epochs, say).
    """
    specs = list(specs)
    keys = sorted({(s.model, s.dataset, str(s.stack)) for s in specs})
    if not keys:
        return {}
    rows = conn.execute(
        HISTORY,
        {
            "models": [k[0] for k in keys],
            "datasets": [k[1] for k in keys],
            "stacks": [k[2] for k in keys],
            "window": window,
        },
    ).fetchall()
    found: dict[str, float] = {}
    for spec in specs:
        wanted = comparable(spec)
        seconds = [
            float(startup or 0) + float(wall)
            for model, dataset, stack, fields, startup, wall in rows
            if (model, dataset, stack) == (spec.model, spec.dataset, str(spec.stack)) and _same(fields, wanted)
        ][:HISTORY_RUNS]
        if seconds:
            found[spec.name] = statistics.median(seconds)
    return found


def _same(stored: Any, wanted: Mapping[str, Any]) -> bool:
    fields = stored if isinstance(stored, dict) else json.loads(stored or "{}")
    return all(fields.get(f) == v for f, v in wanted.items())


def expected(specs: Iterable[JobSpec], known: Mapping[str, float]) -> dict[str, Expected]:
    return {
        s.name: Expected(known[s.name], "history") if s.name in known else Expected(default_seconds(s), "default")
        for s in specs
    }


def longest_first(jobs: list[PlannedJob]) -> list[PlannedJob]:
    """Longest expected first; among equals the matrix order (a stable sort)."""
    return sorted(jobs, key=lambda j: -j.expected_s)


def job_queue(run_id: str, jobs: list[PlannedJob], sources: Mapping[str, str]) -> JobQueue:
    """Each job task's pool slots and priority: the longest expected job gets the highest weight (1 the lowest).

    ``jobs`` in plan order (longest first), so each branch's map indexes are its jobs' positions in it.
    """
    ranked = longest_first(jobs)
    index: dict[str, int] = {}
    queued = []
    for rank, job in enumerate(ranked):
        task = f"{slug(job.model)}.{JOB_TASK}"
        queued.append(
            QueuedJob(
                task_id=task,
                map_index=index.setdefault(task, 0),
                job=job.name,
                pool_slots=job.cores,
                priority_weight=len(ranked) - rank,
                expected_s=round(job.expected_s, 3),
                expected_from="history" if sources.get(job.name) == "history" else "default",
            )
        )
        index[task] += 1
    return JobQueue(run_id=run_id, jobs=queued)


def pool_slots() -> int:
    """The size the core pool should have: GANBLR_BENCH_POOL_SLOTS, else this host's usable cores."""
    return settings.POOL_SLOTS.get() or len(cores.usable_cores())


def write(folder: Path, queue: JobQueue) -> None:
    layout.write_text_atomic(Path(folder) / layout.QUEUE_FILE, queue.model_dump_json(indent=2))


def place(results_root: Path, run_id: str, task_id: str, map_index: int) -> QueuedJob | None:
    """The queue entry of one job task, for the scheduler's hook; None when it is not a queued job task.

    Raises ContractError (or OSError) for a queue file that is there but unreadable: the hook logs it.
    """
    if not task_id.endswith(f".{JOB_TASK}") or map_index < 0:
        return None
    path = Path(results_root) / layout.run_key(run_id) / layout.QUEUE_FILE
    if not path.exists():
        return None
    queue = layout.load_queue(path, Path(results_root))
    if queue.run_id != run_id:
        return None  # a folder another run's id maps to as well: not this run's queue
    return next((q for q in queue.jobs if q.task_id == task_id and q.map_index == map_index), None)
