"""The warehouse's schema against a real PostgreSQL server: numbered migrations, applied once, checked."""

from __future__ import annotations

import threading

import psycopg
import pytest
from test_store import count, upgraded

from ganblr_bench.warehouse import migrate, views


def test_upgrade_from_empty_then_again_changes_nothing(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        assert migrate.schema_version(conn) == 0
        assert migrate.upgrade(conn) == [
            "0001_tables.sql",
            "0002_views.sql",
            "0003_reader_role.sql",
            "0004_findings.sql",
            "0005_stacks.sql",
            "0006_figures.sql",
            "0007_series.sql",
            "0008_marginals.sql",
            "0009_candidate.sql",
            "0010_images.sql",
        ]
        assert migrate.upgrade(conn) == []
        assert migrate.schema_version(conn) == 10
        assert set(views.names(conn)) >= {
            "runs",
            "job_results",
            "scores",
            "latest_results",
            "model_comparison",
            "metric_history",
            "failures",
            "regressions",
        }


def test_concurrent_upgrades_apply_each_migration_once(fresh_db):
    barrier = threading.Barrier(4)
    errors = []

    def upgrade():
        try:
            with psycopg.connect(fresh_db) as conn:
                barrier.wait()
                migrate.upgrade(conn)
        except Exception as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(fresh_db, "bench.schema_migrations") == 10


def test_a_newer_or_edited_schema_is_refused(fresh_db):
    upgraded(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        conn.execute("UPDATE bench.schema_migrations SET checksum = 'x' WHERE version = 2")
        conn.commit()
        with pytest.raises(migrate.MigrationError, match="0002_views.sql was changed after it was applied"):
            migrate.upgrade(conn)
        conn.rollback()
        conn.execute("INSERT INTO bench.schema_migrations VALUES (99, '0099_future.sql', 'y')")
        conn.commit()
        with pytest.raises(migrate.MigrationError, match="schema version 99 .* newer than this ganblr-bench"):
            migrate.upgrade(conn)
