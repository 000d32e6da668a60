"""Backup and restore with PostgreSQL's own tools: a warehouse of real runs round-trips into a fresh database
with identical rows and identical answers from every view."""

from __future__ import annotations

import psycopg
from jobs import cli

from ganblr_bench.analysis import trends
from ganblr_bench.warehouse import store

TABLES = ("bench.runs", "bench.job_results", "bench.scores", "bench.job_metrics", "bench.findings")


def fingerprint(dsn: str) -> dict[str, object]:
    """Row counts of every table and a digest of every view's rows: what a restore must give back."""
    with psycopg.connect(dsn) as conn:
        found: dict[str, object] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        views = [
            r[0]
            for r in conn.execute("SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics'")
        ]
        for view in views:
            found[view] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(v::text, ',' ORDER BY v::text), '')) FROM analytics.{view} v"
            ).fetchone()
    return found


def test_a_backup_of_real_runs_restores_into_a_fresh_database_identically(warehouse, run_folder, tmp_path, pg_server):
    store.record_paths([run_folder], warehouse, tmp_path / "spool")
    with psycopg.connect(warehouse) as conn:
        trends.detect(conn, "run-1")
    before = fingerprint(warehouse)
    assert before["bench.job_results"] == 5 and before["bench.scores"] > 0

    dump = tmp_path / "backups" / "ganblr_bench.dump"
    made = cli(["db", "backup", str(dump)], GANBLR_BENCH_DSN=warehouse)
    assert made.returncode == 0, made.stderr
    assert "backed up 1 run(s), 5 job result(s)" in made.stdout and dump.read_bytes()[:5] == b"PGDMP"

    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE restored")
    fresh = pg_server.replace("/postgres?", "/restored?")
    restored = cli(["db", "restore", str(dump)], GANBLR_BENCH_DSN=fresh)
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(fresh) == before

    again = cli(["db", "restore", str(dump)], GANBLR_BENCH_DSN=fresh)  # never onto a warehouse that holds runs
    assert again.returncode == 2 and "already holds 1 run(s)" in again.stderr and fingerprint(fresh) == before
    replaced = cli(["db", "restore", str(dump), "--replace"], GANBLR_BENCH_DSN=fresh)
    assert replaced.returncode == 0, replaced.stderr
    assert fingerprint(fresh) == before
    missing = cli(["db", "restore", str(tmp_path / "nope.dump")], GANBLR_BENCH_DSN=fresh)
    assert missing.returncode == 2 and "no such file" in missing.stderr
