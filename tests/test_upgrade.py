"""Upgrading a warehouse that holds real runs of an earlier release: every row kept, every series continues,
every view answers, the detector still judges.

The warehouse is tests/fixtures/warehouse-0.1.0.sql: six nights of real runs recorded by release 0.1.0's own
code (tests/fixtures/make_warehouse_0_1_0.py says how it was made), restored with PostgreSQL's psql."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from jobs import cli

from ganblr_bench import settings
from ganblr_bench.analysis import report, trends
from ganblr_bench.run import pipeline, process
from ganblr_bench.warehouse import database, migrate

FIXTURE = Path(__file__).parent / "fixtures" / "warehouse-0.1.0.sql"
TABLES = ("bench.runs", "bench.job_results", "bench.scores", "bench.job_metrics", "bench.findings")


def counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture
def old_warehouse(fresh_db) -> str:
    psql = database.tool("psql")
    subprocess.run(
        [str(psql), "-q", "-v", "ON_ERROR_STOP=1", "-d", fresh_db, "-f", str(FIXTURE)], check=True, capture_output=True
    )
    return fresh_db


def test_an_upgrade_keeps_every_row_continues_every_series_and_the_detector_judges(old_warehouse, tmp_path):
    with psycopg.connect(old_warehouse) as conn:
        assert migrate.schema_version(conn) == 6  # release 0.1.0's schema
    before = counts(old_warehouse)
    assert before["bench.runs"] == 6 and before["bench.job_results"] == 49 and before["bench.scores"] > 0

    upgraded = cli(["db", "upgrade"], GANBLR_BENCH_DSN=old_warehouse)
    assert (
        upgraded.returncode == 0
        and "applied 0007_series.sql, 0008_marginals.sql, 0009_candidate.sql" in upgraded.stdout
    ), upgraded.stderr
    assert counts(old_warehouse) == before  # every row kept

    with psycopg.connect(old_warehouse) as conn:
        keys = dict(
            conn.execute(
                "SELECT model, count(DISTINCT series_key) FROM bench.job_results WHERE dataset = 'iris' GROUP BY model"
            ).fetchall()
        )
        assert keys == {"ganblr": 1, "ganblr++": 1, "independent": 1, "naive-bayes": 1}  # one series each, six nights
        assert conn.execute("SELECT count(*) FROM bench.job_results WHERE series_key IS NULL").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM bench.runs WHERE run_key IS NULL").fetchone()[0] == 0
        for (view,) in conn.execute("SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics'"):
            conn.execute(f"SELECT * FROM analytics.{view} LIMIT 5").fetchall()  # every view answers
        last = "scheduled__2026-11-06T02:00:00+00:00"
        judged = report.build(conn, last)
        assert all(d.judged for d in judged.depth.values()) and judged.depth[("iris", "ganblr")].earlier == 5
        trends.detect(conn, last)  # the detector runs over the upgraded history
        old_key = conn.execute(
            "SELECT DISTINCT series_key FROM bench.job_results WHERE model = 'independent' AND dataset = 'iris'"
        ).fetchone()[0]

    # A run of this release, with the configuration the old nights had, continues their series.
    conf = settings.load(
        Path(__file__).resolve().parents[1],
        env={
            "GANBLR_BENCH_BACKEND": "process",
            "GANBLR_BENCH_RESULTS": str(tmp_path / "results"),
            "GANBLR_BENCH_REPORTS": str(tmp_path / "reports"),
        },
    )
    params = {
        "models": ["independent"],
        "references": False,
        "datasets": ["iris"],
        "seeds": [0, 1],
        "epochs": 1,
        "classifiers": ["lr"],
    }
    plan = pipeline.plan_run(conf, pipeline.Trigger("scheduled__2026-11-07T02:00:00+00:00", "scheduled", params))
    pipeline.build_images(plan, conf, client=None)
    runner = str(Path(sys.executable).with_name("ganblr-bench"))
    for folder in pipeline.job_folders(plan, "independent"):
        process.run_process(Path(folder), runner, conf.cache, 300)
    assert pipeline.record(plan, conf, old_warehouse, client=None, say=lambda _: None).recorded == 2
    with psycopg.connect(old_warehouse) as conn:
        new_key = conn.execute(
            "SELECT DISTINCT series_key FROM bench.job_results WHERE run_id = %s", (plan.run_id,)
        ).fetchone()[0]
        assert new_key == old_key  # the series continues across the release
        built = report.build(conn, plan.run_id)
    assert (
        built.depth[("iris", "independent")].earlier == 6 and built.previous == "scheduled__2026-11-06T02:00:00+00:00"
    )
