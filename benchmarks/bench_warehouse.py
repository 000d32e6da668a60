"""Benchmark of the metrics warehouse on a real PostgreSQL (embedded unless GANBLR_BENCH_DSN).

1. Time to record one run of 2 models x 8 datasets x 3 seeds (48 real-shaped results,
   from one real result file as a template), and to record it again (all duplicates).
2. Latency (p50/p95) of the history view and the side-by-side view with N job results
   loaded (default 1,000,000, with 8 scores each), bulk-loaded in SQL.
Not a test: it prints figures. Uses a fresh database it drops afterwards.

    .venv/bin/python benchmarks/bench_warehouse.py RESULT_JSON [--rows 1000000] [--queries 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC
from pathlib import Path

import psycopg

from ganblr_bench import dataset_catalog
from ganblr_bench.contract import RunInfo
from ganblr_bench.layout import Batch, load_result
from ganblr_bench.warehouse import database, migrate, store

DATASETS = [n for n in dataset_catalog.REGISTRY if n != "iris"]


def one_run(template, run_id: str) -> Batch:
    from datetime import datetime

    results = []
    for model in ("ganblr", "ganblr++"):
        for dataset in DATASETS:
            for seed in (0, 1, 2):
                spec = template.spec.model_copy(update={"model": model, "dataset": dataset, "seed": seed})
                results.append((template.model_copy(update={"spec": spec, "job": spec.name}), None))
    return Batch(RunInfo(run_id=run_id, kind="test", started_at=datetime.now(UTC)), results)


BULK = """
INSERT INTO bench.runs (run_id, kind, started_at, image_inputs_hash, host_cpus, image_build_s)
SELECT 'bulk-' || r, 'scheduled', now() - make_interval(hours => %(runs)s - r), 'h1', 2, 90 + random() * 10
FROM generate_series(1, %(runs)s) r;

INSERT INTO bench.job_results (run_id, job, attempt, model, dataset, seed, params, spec, status, error, started_at,
    finished_at, startup_s, fit_s, sample_s, evaluate_s, execution_s, wall_s, peak_memory_bytes, cpu_percent,
    versions, content_sha256)
SELECT 'bulk-' || r, m || '-' || d || '-s' || s, 1, m, d, s, '{}', '{}', 'ok', NULL,
       now() - make_interval(hours => %(runs)s - r), now() - make_interval(hours => %(runs)s - r) + interval '1 min',
       3 + random(), 20 + random() * 5, 0.5 + random(), 1, 21 + random() * 5, 30, (800 + random() * 50) * 1048576,
       100 + random() * 5, '{}', md5(r || m || d || s)
FROM generate_series(1, %(runs)s) r, unnest(ARRAY['ganblr', 'ganblr++']) m, unnest(%(datasets)s::text[]) d,
     generate_series(0, 2) s;

INSERT INTO bench.scores (job_result_id, classifier, metric, value)
SELECT job_result_id, c, metric, random() FROM bench.job_results,
       unnest(ARRAY['lr', 'mlp', 'rf', 'xgb']) c, unnest(ARRAY['tstr_accuracy', 'trtr_accuracy']) metric
WHERE run_id LIKE 'bulk-%%';
"""

QUERIES = {
    "history (one series, last 100 runs)": (
        "SELECT run_started_at, seed, value FROM analytics.metric_history WHERE model = 'ganblr++' "
        "AND dataset = %s AND metric = 'execution_s' AND run_started_at > now() - interval '100 hours' ORDER BY 1"
    ),
    "side by side (latest run)": (
        "SELECT * FROM analytics.model_comparison WHERE run_id = "
        "(SELECT run_id FROM bench.runs ORDER BY started_at DESC LIMIT 1) AND dataset = %s"
    ),
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", type=Path, help="a real result.json to use as the template")
    ap.add_argument("--rows", type=int, default=1_000_000, help="job results to bulk-load for the latency test")
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()
    template = load_result(args.result)
    admin = database.dsn().replace(f"/{database.DATABASE}?", "/postgres?")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin.replace("/postgres?", f"/{name}?")
    try:
        with psycopg.connect(dsn) as conn:
            migrate.upgrade(conn)
        spool = Path(tempfile.mkdtemp())
        batch = one_run(template, "run-48")
        t0 = time.perf_counter()
        first = store.record([batch], dsn, spool)
        t1 = time.perf_counter()
        again = store.record([batch], dsn, spool)
        t2 = time.perf_counter()
        print(
            f"record one run of {len(batch.results)} results (2 models x {len(DATASETS)} datasets x 3 seeds): "
            f"{t1 - t0:.3f} s (recorded {first.recorded}); again, all duplicates: {t2 - t1:.3f} s "
            f"(duplicates {again.duplicates})"
        )

        per_run = 2 * len(DATASETS) * 3
        runs = max(1, args.rows // per_run)
        t0 = time.perf_counter()
        with psycopg.connect(dsn) as conn:
            for statement in BULK.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"runs": runs, "datasets": DATASETS})
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")
            total = conn.execute("SELECT count(*) FROM bench.job_results").fetchone()[0]
            scores = conn.execute("SELECT count(*) FROM bench.scores").fetchone()[0]
        print(f"bulk-loaded {total:,} job results and {scores:,} scores in {time.perf_counter() - t0:.1f} s")
        with psycopg.connect(dsn) as conn:
            for label, sql in QUERIES.items():
                times, rows = [], 0
                for i in range(args.queries):
                    t0 = time.perf_counter()
                    rows = len(conn.execute(sql, (DATASETS[i % len(DATASETS)],)).fetchall())
                    times.append(time.perf_counter() - t0)
                print(
                    f"{label:40} p50 {1000 * statistics.median(times):8.1f} ms   "
                    f"p95 {1000 * percentile(times, 95):8.1f} ms   ({rows} rows, {args.queries} queries)"
                )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
