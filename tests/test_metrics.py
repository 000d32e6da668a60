"""The one table of figures (figures.py) agrees with the warehouse's views, and shows values in its units."""

import re

import psycopg
import pytest

from ganblr_bench import figures
from ganblr_bench.warehouse import migrate, views


def test_values_are_shown_in_their_units():
    memory, seconds = figures.get("peak_memory_bytes"), figures.get("execution_s")
    assert memory.show(712 * 2**20) == "712 MiB" and memory.show(1.07e3 * 2**20) == "1.04 GiB"  # never 1.07e+03 MiB
    assert memory.show(712 * 2**20, 30 * 2**20) == "712 ± 30 MiB"
    assert (
        seconds.show(12.4149) == "12.4 s" and seconds.show(252) == "4 min 12 s" and seconds.show(3900) == "1 h 05 min"
    )
    assert seconds.show(0.052) == "0.052 s" and seconds.show(12.41, 0.3) == "12.4 ± 0.3 s"
    assert figures.get("tstr_accuracy").show(0.84213) == "0.842" and figures.get("cpu_percent").show(88.3) == "88 %"
    assert figures.get("cpu_percent").show(None) == "-"
    with pytest.raises(KeyError, match="no metric 'speed'"):
        figures.get("speed")


def test_the_table_matches_the_sql_views(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        migrate.upgrade(conn)
        history = conn.execute("SELECT pg_get_viewdef('analytics.metric_history'::regclass)").fetchone()[0]
        in_view = dict(re.findall(r"\('(\w+)'::text, *'([^']+)'::text", history))
        # the job_results columns; the accuracies (source column, as means) come from the scores' branch
        assert in_view == {m.key: m.unit for m in figures.METRICS if m.source == "column" and not m.column}
        job_columns, _ = views.read(conn, "job_results")
        score_columns, _ = views.read(conn, "scores")
    for metric in figures.METRICS:
        if metric.source == "column":
            assert metric.job_column in job_columns, metric.key
        elif metric.source == "score":
            assert metric.key in score_columns, metric.key
        else:
            assert metric.source == "job", metric.key  # rows of bench.job_metrics: see test_store's round trip
    assert set(figures.COMPARED) <= set(figures.BY_KEY) and set(figures.TRENDS) <= set(figures.BY_KEY)


def test_every_figure_a_result_can_carry_has_a_row_in_the_table():
    import typing

    from ganblr_bench.contract import QUALITY_METRICS, Phase
    from ganblr_bench.figures import PHASES

    assert typing.get_args(Phase) == PHASES  # the result's phase names are the figures' phases
    for key in [*QUALITY_METRICS, *(f"{p}_{f}" for p in PHASES for f in ("cpu_s", "peak_memory_bytes"))]:
        assert figures.get(key).source == "job"
    watched = set(figures.WATCHED)
    assert {
        "peak_memory_bytes",
        "execution_s",
        "tstr_macro_f1",
        "column_shapes",
        "dcr_overfitting_protection",
    } <= watched
    context = {"cpu_percent", "host_load_1m", "peer_jobs", "cores", "core_wait_s"}  # context, not goals
    assert not (context | {"sample_cpu_s"}) & watched
    assert all(figures.get(k).better == "neither" for k in context)


def test_every_figure_is_documented_in_the_warehouse_guide():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "warehouse.md").read_text().split("\n## Figures\n", 1)[1]
    documented = {
        k for line in doc.splitlines() if line.startswith("| `") for k in re.findall(r"`(\w+)`", line.split("|")[1])
    }
    assert documented == set(figures.BY_KEY)
