"""The one table of figures (metrics.py) agrees with the warehouse's views, and shows values in its units."""

import re

import psycopg
import pytest

from ganblr_bench import metrics, migrate, views


def test_values_are_shown_in_their_units():
    assert metrics.get("peak_memory_bytes").show(712 * 2**20) == "712 MiB"
    assert metrics.get("execution_s").show(12.4149) == "12.41 s"
    assert metrics.get("tstr_accuracy").show(0.84213) == "0.842"
    assert metrics.get("cpu_percent").number(None) == "-"
    with pytest.raises(KeyError, match="no metric 'speed'"):
        metrics.get("speed")


@pytest.mark.postgres
def test_the_table_matches_the_sql_views(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        migrate.upgrade(conn)
        history = conn.execute("SELECT pg_get_viewdef('analytics.metric_history'::regclass)").fetchone()[0]
        in_view = dict(re.findall(r"\('(\w+)'::text, *'([^']+)'::text", history))
        assert in_view == {m.key: m.unit for m in metrics.METRICS if m.source == "column"}
        job_columns, _ = views.read(conn, "job_results")
        score_columns, _ = views.read(conn, "scores")
    for metric in metrics.METRICS:
        if metric.source == "column":
            assert metric.job_column in job_columns, metric.key
        elif metric.source == "score":
            assert metric.key in score_columns, metric.key
        else:
            assert metric.source == "job", metric.key  # rows of bench.job_metrics: see test_store's round trip
    assert set(metrics.COMPARED) <= set(metrics.BY_KEY) and set(metrics.TRENDS) <= set(metrics.BY_KEY)


def test_every_figure_a_result_can_carry_has_a_row_in_the_table():
    from ganblr_bench.contract import PHASES, QUALITY_METRICS

    for key in [*QUALITY_METRICS, *(f"{p}_{f}" for p in PHASES for f in ("cpu_s", "peak_memory_bytes"))]:
        assert metrics.get(key).source == "job"
    watched = set(metrics.WATCHED)
    assert {
        "peak_memory_bytes",
        "cpu_percent",
        "tstr_macro_f1",
        "column_shapes",
        "dcr_overfitting_protection",
    } <= watched
    assert not {"host_load_1m", "peer_jobs", "sample_cpu_s"} & watched  # context, not figures to alert on


def test_every_figure_is_documented_in_the_warehouse_guide():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "warehouse.md").read_text().split("\n## Figures\n", 1)[1]
    documented = {
        k for line in doc.splitlines() if line.startswith("| `") for k in re.findall(r"`(\w+)`", line.split("|")[1])
    }
    assert documented == set(metrics.BY_KEY)
