"""Which jobs belong to one series: the stored series key, computed once, in code, from a whitelist of fields.

A figure's history means something only across comparable jobs. The series key is the sha256 of exactly the
fields that change what a job measures (``SERIES_FIELDS``), so a release that adds a defaulted field to the job
spec, or bumps its version, continues every series; changing any of these fields starts a new one, and the
fields themselves are stored beside the key (``job_results.series``) so a report can say which one changed.

In the key, and why (docs/warehouse.md repeats this):

- ``model``, ``dataset``, ``dataset_checksum``: what is generated from what data (new files: a new series);
- the model's knobs ``k``, ``epochs``, ``batch_size``, ``warmup_epochs``, ``numeric_columns``: what is trained;
- ``row_limit``, ``synthetic_rows``, ``test_fraction``, ``discretise_bins``: how much data, split and binned how;
- ``classifiers``: the utility scores are their means;
- ``cores``, ``memory_limit``, ``backend``, ``stack``, ``host_cpus``: where it ran, which changes times and memory.

Not in the key: the seed (a series spans seeds: each run's point is their mean), the job's name and run (they
name, they do not change a figure), its timeout (a limit, not a setting of the work), the spec's version (a
format), the image (a new image is the usual cause of a regression: it must be compared with the old one).

Computed at record time (``store``); ``backfill`` gives rows recorded by earlier releases the same key, with
the same function, when ``db upgrade`` applies migration 0007.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ganblr_bench.contract import JobSpec, memory_bytes, parse_spec
from ganblr_bench.errors import ContractError
from ganblr_bench.params import parse_params

SERIES_FIELDS = (
    "model",
    "dataset",
    "dataset_checksum",
    "k",
    "epochs",
    "batch_size",
    "warmup_epochs",
    "numeric_columns",
    "row_limit",
    "synthetic_rows",
    "test_fraction",
    "discretise_bins",
    "classifiers",
    "cores",
    "memory_limit",
    "backend",
    "stack",
    "host_cpus",
)


def fields(
    spec: JobSpec, dataset_checksum: str | None, backend: str | None, host_cpus: int | None, memory_limit: str | None
) -> dict[str, Any]:
    """The whitelisted fields of a job, normalised (a memory limit in bytes, lists sorted)."""
    limit = memory_limit or spec.memory_limit
    chosen = {
        "model": spec.model,
        "dataset": spec.dataset,
        "dataset_checksum": dataset_checksum,
        "k": spec.params.k,
        "epochs": spec.params.epochs,
        "batch_size": spec.params.batch_size,
        "warmup_epochs": spec.params.warmup_epochs,
        "numeric_columns": sorted(spec.params.numeric_columns) if spec.params.numeric_columns is not None else None,
        "row_limit": spec.row_limit,
        "synthetic_rows": spec.synthetic_rows,
        "test_fraction": spec.test_fraction,
        "discretise_bins": spec.discretise_bins,
        "classifiers": sorted(spec.classifiers),
        "cores": spec.cores,
        "memory_limit": memory_bytes(limit) if limit else None,
        "backend": str(backend) if backend else None,
        "stack": str(spec.stack),
        "host_cpus": host_cpus,
    }
    assert tuple(chosen) == SERIES_FIELDS
    return chosen


def key(chosen: dict[str, Any]) -> str:
    """The series key: sha256 of the fields' canonical JSON (32 hex digits)."""
    canonical = json.dumps({f: chosen.get(f) for f in SERIES_FIELDS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for every series field that differs: why a new series started."""
    return [(f, before.get(f), after.get(f)) for f in SERIES_FIELDS if before.get(f) != after.get(f)]


# A run's points, one per series and figure (store.write_batch keeps them in step with its results in its own
# transaction): summed up from the metric_history view itself, so the two can never disagree.
REFRESH_POINTS = """
INSERT INTO bench.series_points (series_key, metric, run_id, run_started_at, model, dataset, stack, host_cpus, unit,
    value, seeds, image_inputs_hash)
SELECT series_key, metric, run_id, min(run_started_at), min(model), min(dataset), min(stack), coalesce(min(host_cpus), 0),
       min(unit), avg(value), count(*), min(image_inputs_hash)
FROM analytics.metric_history
WHERE run_id = ANY(%(runs)s) AND NOT (metric = 'image_build_s' AND value = 0)
GROUP BY series_key, metric, run_id
"""


def refresh_points(conn: Any, run_ids: list[str]) -> None:
    """The series points of these runs, summed up again from their results (in the caller's transaction)."""
    conn.execute("DELETE FROM bench.series_points WHERE run_id = ANY(%s)", (run_ids,))
    conn.execute(REFRESH_POINTS, {"runs": run_ids})


def _memory_limit_of_run(params: dict[str, Any] | None, model: str) -> str | None:
    """An older spec's memory limit, from its run's parameters (specs carry it since version 3)."""
    if not params:
        return None
    try:
        return parse_params(params).for_model(model).memory_limit
    except ContractError:
        return None


def backfill(conn: Any, batch: int = 5000) -> int:
    """Give every job result recorded without a series key the key this release computes; return how many."""
    done = 0
    while True:
        rows = conn.execute(
            "SELECT j.job_result_id, j.spec, j.dataset_checksum, r.backend, r.host_cpus, r.params "
            "FROM bench.job_results j JOIN bench.runs r USING (run_id) WHERE j.series_key IS NULL "
            "ORDER BY j.job_result_id LIMIT %s",
            (batch,),
        ).fetchall()
        if not rows:
            return done
        updates = []
        for job_result_id, spec_json, checksum, backend, cpus, params in rows:
            try:
                spec = parse_spec(_without(spec_json, "spec_version"), "stored spec")
            except ContractError:
                spec = JobSpec.model_validate(_without(spec_json, "spec_version"), strict=False)
            memory = spec.memory_limit or _memory_limit_of_run(params, spec.model)
            chosen = fields(spec, checksum, backend, cpus, memory)
            updates.append((key(chosen), json.dumps(chosen), job_result_id))
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE bench.job_results SET series_key = %s, series = %s::jsonb WHERE job_result_id = %s", updates
            )
        done += len(updates)


def _without(data: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != name}
