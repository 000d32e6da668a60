"""Benchmark of the warehouse at one and at ten years of nightly runs: recording, and every read people wait on.

1. Recording one nightly run of the default matrix (24 real-shaped results from one real result per model), and
   recording it again (all duplicates), through ``store.record``.
2. A realistic history, loaded in SQL: the default nightly matrix (GANBLR, GANBLR++ and the two references on
   car and adult, seeds 0-2: 24 jobs a night), every figure the pipeline records (the scores of four classifiers,
   the per-phase and quality figures of ``bench.job_metrics``), the series keys this release computes, noise and a
   few step changes; first one year (365 runs), then ten (3,650).
3. At each size, p50 and p95 over ``--repeat`` calls of: the runs index (100 runs), the comparison of the last two
   runs, the report's build (its plots apart), the detector for the last run, an analyst's query over one series'
   whole history, and the database's size; then the growth from one year to ten.

Targets (issue 18): the detector <= 1 s, every interactive path p95 <= 200 ms at ten years, each growing less than
1.5x from one year to ten. Not a test: it prints figures. Uses a fresh database (embedded unless GANBLR_BENCH_DSN)
that it drops afterwards.

    .venv/bin/python benchmarks/bench_warehouse.py RUN_FOLDER [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from ganblr_bench import figures, layout
from ganblr_bench.analysis import compare, report, runs, trends
from ganblr_bench.contract import RunInfo
from ganblr_bench.layout import Batch
from ganblr_bench.warehouse import database, migrate, series, store

MODELS = ("ganblr", "ganblr++", "independent", "naive-bayes")
DATASETS = ("car", "adult")
SEEDS = (0, 1, 2)
START = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)


def templates(folder: Path) -> dict[str, object]:
    """One real ok result per model (any dataset): the shape every generated row takes."""
    found = {}
    for path in sorted(folder.glob("*/result.json")):
        result = layout.load_result(path)
        if result.status == "ok":
            found.setdefault(result.spec.model, result)
    missing = set(MODELS) - set(found)
    if missing:
        raise SystemExit(f"{folder}: no ok result of {sorted(missing)}; give a run of all four models")
    return found


def nightly(tpl: dict[str, object], run_id: str, started: datetime) -> Batch:
    results = []
    for model in MODELS:
        for dataset in DATASETS:
            for seed in SEEDS:
                base = tpl[model]
                spec = base.spec.model_copy(update={"dataset": dataset, "seed": seed, "run": None})  # type: ignore[attr-defined]
                results.append((base.model_copy(update={"spec": spec, "job": spec.name}), None))  # type: ignore[attr-defined]
    return Batch(RunInfo(run_id=run_id, kind="scheduled", started_at=started, backend="docker"), results)


# The history, generated in the database: a run a night, 24 jobs a run, every figure; a step change now and then.
RUNS = """
INSERT INTO bench.runs (run_id, kind, started_at, finished_at, backend, image_ref, image_digest, image_inputs_hash,
    image_build_s, image_build_cached, host_name, host_cpus, host_memory_bytes, params, run_key)
SELECT 'scheduled__' || to_char(%(start)s::timestamptz + (n || ' days')::interval, 'YYYY-MM-DD"T"HH24:MI:SS'),
       'scheduled', %(start)s::timestamptz + (n || ' days')::interval,
       %(start)s::timestamptz + (n || ' days')::interval + interval '40 min', 'docker',
       'ganblr-bench:inputs-' || (n / 30), 'sha256:' || md5((n / 30)::text), md5((n / 30)::text),
       CASE WHEN n %% 30 = 0 THEN 110 + random() * 10 ELSE 0 END, n %% 30 <> 0, 'bench-1', 2, 25769803776,
       %(params)s::jsonb,
       'scheduled__' || to_char(%(start)s::timestamptz + (n || ' days')::interval, 'YYYY-MM-DD"T"HH24_MI_SS')
FROM generate_series(%(first)s::int, %(last)s::int) n
"""

JOBS = """
INSERT INTO bench.job_results (run_id, run_started_at, job, attempt, model, dataset, seed, params, spec, status, error,
    started_at, finished_at, startup_s, load_s, fit_s, sample_s, evaluate_s, execution_s, wall_s, peak_memory_bytes,
    memory_source, cpu_seconds, cpu_percent, cpus_available, cpu_percent_of_available, versions, dataset_checksum,
    train_rows, test_rows, synthetic_rows, in_container, image, artifact_uri, content_sha256, stack, cores,
    series_key, series, final)
SELECT r.run_id, r.started_at, k.slug || '-' || k.dataset || '-s' || s, 1, k.model, k.dataset, s, k.params, k.spec,
       CASE WHEN chance.x < 0.002 THEN 'failed' ELSE 'ok' END,
       CASE WHEN chance.x < 0.002 THEN 'RuntimeError: a model crash' END, r.started_at, r.started_at + interval '5 min',
       k.startup * (1 + 0.05 * random()), 1, k.fit * step.factor * (1 + 0.05 * random()), 0.5, 1.0,
       k.fit * step.factor * (1 + 0.05 * random()) + 0.5, k.fit + 10, (k.memory * (1 + 0.02 * random()))::bigint,
       'process-peak-rss', k.fit, 95 + random() * 5, 1, 95, k.versions, k.checksum, 1000, 250, 1000, true,
       r.image_ref, '/results/' || r.run_key || '/' || k.slug, md5(r.run_id || k.model || k.dataset || s), 'locked',
       '0', k.series_key, k.series, true
FROM bench.runs r
CROSS JOIN jsonb_to_recordset(%(kinds)s::jsonb) AS k (model text, slug text, dataset text, params jsonb, spec jsonb,
    startup double precision, fit double precision, memory double precision, versions jsonb, checksum text,
    series_key text, series jsonb)
CROSS JOIN generate_series(0, 2) s
CROSS JOIN LATERAL (SELECT random() + s * 0 AS x) chance
CROSS JOIN LATERAL (SELECT CASE WHEN r.started_at > %(start)s::timestamptz + interval '200 days' AND k.model = 'ganblr++'
                                THEN 1.2 ELSE 1.0 END AS factor) step
WHERE r.started_at >= %(from)s AND r.started_at < %(to)s
"""

SCORES = """
INSERT INTO bench.scores (job_result_id, classifier, metric, value)
SELECT j.job_result_id, c, m, least(1, greatest(0, 0.7 + 0.1 * random()))
FROM bench.job_results j, unnest(ARRAY['lr', 'mlp', 'rf', 'xgb']) c,
     unnest(ARRAY['tstr_accuracy', 'trtr_accuracy', 'tstr_macro_f1', 'trtr_macro_f1', 'tstr_roc_auc', 'trtr_roc_auc']) m
WHERE j.status = 'ok' AND j.run_started_at >= %(from)s AND j.run_started_at < %(to)s
  AND (j.dataset = 'adult' OR m NOT LIKE '%%roc_auc')
"""

JOB_METRICS = """
INSERT INTO bench.job_metrics (job_result_id, metric, unit, value)
SELECT j.job_result_id, f.metric, f.unit, f.base * (1 + 0.05 * random())
FROM bench.job_results j CROSS JOIN jsonb_to_recordset(%(figures)s::jsonb) AS f (metric text, unit text, base double precision)
WHERE j.status = 'ok' AND j.run_started_at >= %(from)s AND j.run_started_at < %(to)s
"""


def kinds(tpl: dict[str, object]) -> list[dict[str, object]]:
    """Per model and dataset: the job's spec, figures' scale, and the series key this release computes for it."""
    out = []
    for model in MODELS:
        base = tpl[model]
        for dataset in DATASETS:
            spec = base.spec.model_copy(update={"dataset": dataset, "seed": 0, "run": None, "memory_limit": "6g"})  # type: ignore[attr-defined]
            checksum = "c" * 64 if dataset == "car" else "a" * 64
            chosen = series.fields(spec, checksum, "docker", 2, None)
            out.append(
                {
                    "model": model,
                    "slug": model.replace("+", "p"),
                    "dataset": dataset,
                    "params": json.loads(spec.params.model_dump_json()),
                    "spec": json.loads(spec.model_dump_json()),
                    "startup": 4.0,
                    "fit": {"ganblr": 12.0, "ganblr++": 40.0}.get(model, 0.05),
                    "memory": 800 * 2**20,
                    "versions": base.environment.versions,  # type: ignore[attr-defined]
                    "checksum": checksum,
                    "series_key": series.key(chosen),
                    "series": chosen,
                }
            )
    return out


def job_figures(tpl: dict[str, object]) -> list[dict[str, object]]:
    keys = set()
    for result in tpl.values():
        keys |= set(store.job_metrics(result))  # type: ignore[arg-type]
    return [
        {"metric": k, "unit": figures.get(k).unit, "base": 1.0 if figures.get(k).unit == "fraction" else 100.0}
        for k in sorted(keys)
    ]


def load(conn: psycopg.Connection, tpl: dict[str, object], first: int, last: int) -> None:
    start_from, start_to = START + timedelta(days=first), START + timedelta(days=last + 1)
    params = json.dumps({"datasets": list(DATASETS), "seeds": list(SEEDS), "epochs": 10})
    args = {
        "start": START,
        "first": first,
        "last": last,
        "params": params,
        "from": start_from,
        "to": start_to,
        "kinds": json.dumps(kinds(tpl)),
        "figures": json.dumps(job_figures(tpl)),
    }
    for statement in (RUNS, JOBS, SCORES, JOB_METRICS):
        conn.execute(statement, args)
    year = [
        r[0]
        for r in conn.execute(
            "SELECT run_id FROM bench.runs WHERE started_at >= %s AND started_at < %s", (start_from, start_to)
        )
    ]
    conn.execute(series.REFRESH_POINTS, {"runs": year})  # what the recorder writes beside each run
    conn.commit()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), percentile(times, 95)


def measure(dsn: str, repeat: int) -> dict[str, tuple[float, float]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")
        last = runs.latest(conn)
        before = runs.previous_comparable(conn, last)
        query = (  # docs/warehouse.md's example: a figure of a model on a dataset, night by night, all time
            "SELECT run_started_at, value FROM analytics.series_history WHERE model = 'ganblr++' "
            "AND dataset = 'adult' AND metric = %s AND stack = 'locked' ORDER BY run_started_at"
        )
        out = {
            "runs index (100)": timed(lambda: runs.index(conn, 100), repeat),
            "compare the last two runs": timed(lambda: compare.compare(conn, before, last), repeat),
            "report build (no plots)": timed(lambda: report.build(conn, last), repeat),
            "detector, one night": timed(lambda: trends.detect(conn, last), repeat),
            "analyst: one series, all time": timed(
                lambda: conn.execute(query, ("peak_memory_bytes",)).fetchall(), repeat
            ),
        }
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM bench.job_results").fetchone()[0]
        metrics = conn.execute("SELECT count(*) FROM bench.job_metrics").fetchone()[0]
        points = conn.execute("SELECT count(*) FROM bench.series_points").fetchone()[0]
        scores = conn.execute("SELECT count(*) FROM bench.scores").fetchone()[0]
    print(
        f"  {rows:,} job results, {scores:,} scores, {metrics:,} job figures, {points:,} series points; "
        f"database {size / 2**20:.0f} MiB"
    )
    out["database size (MiB)"] = (size / 2**20, size / 2**20)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_folder", type=Path, help="a real run folder with ok results of all four models")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the database (its DSN is printed) to look into")
    args = ap.parse_args()
    tpl = templates(args.run_folder)
    admin = database.dsn().replace(f"/{database.DATABASE}?", "/postgres?")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin.replace("/postgres?", f"/{name}?")
    try:
        with psycopg.connect(dsn) as conn:
            migrate.upgrade(conn)
        spool = Path(tempfile.mkdtemp())
        batch = nightly(tpl, "record-test", START - timedelta(days=1))
        t0 = time.perf_counter()
        first = store.record([batch], dsn, spool)
        t1 = time.perf_counter()
        again = store.record([batch], dsn, spool)
        t2 = time.perf_counter()
        print(
            f"record one nightly run ({len(batch.results)} results): {t1 - t0:.3f} s (recorded {first.recorded}); "
            f"again, all duplicates: {t2 - t1:.3f} s (duplicates {again.duplicates})"
        )
        table = {}
        for years in (1, args.years):
            t0 = time.perf_counter()
            with psycopg.connect(dsn) as conn:
                done = 0 if years == 1 else 365
                for year in range(done // 365, years):  # a year at a time: bounded transactions
                    load(conn, tpl, year * 365, year * 365 + 364)
            print(f"{years} year(s) of nightly runs loaded in {time.perf_counter() - t0:.0f} s")
            table[years] = measure(dsn, args.repeat)
        print(f"\n{'path':34}{'1 year p50':>12}{'p95':>9}{f'{args.years} years p50':>15}{'p95':>9}{'growth p95':>12}")
        for path, (p50, p95) in table[1].items():
            q50, q95 = table[args.years][path]
            unit = "" if "MiB" in path else " ms"
            scale = 1 if "MiB" in path else 1000
            print(
                f"{path:34}{p50 * scale:>10.1f}{unit:3}{p95 * scale:>6.1f}{unit:3}{q50 * scale:>12.1f}{unit:3}"
                f"{q95 * scale:>6.1f}{unit:3}{q95 / p95:>9.2f}x"
            )
    finally:
        if args.keep:
            print(f"kept: {dsn}")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
