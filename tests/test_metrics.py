"""The one table of figures (metrics.py) agrees with the warehouse's views, and shows values in its units."""

import re

import psycopg
import pytest

from ganblr_bench import metrics, migrate, views
from ganblr_bench.contract import MODELS, model_slug


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
        assert in_view == {m.key: m.unit for m in metrics.METRICS}
        job_columns, _ = views.read(conn, "job_results")
        comparison, _ = views.read(conn, "model_comparison")
    for metric in metrics.METRICS:
        assert metric.job_column in job_columns, metric.key
    for key in metrics.COMPARED:
        wanted = [key] if metrics.get(key).per_run else [f"{model_slug(m)}_{key}" for m in MODELS]
        assert set(wanted) <= set(comparison), key
