"""The comparison report, built from real results recorded in a real warehouse."""

import re

import psycopg
import pytest

from ganblr_bench import report, store, trends
from jobs import ARTIFACTS, cli, history_runs


@pytest.fixture
def recorded(fresh_db, run_folder, tmp_path):
    spool = tmp_path / "spool"
    store.record_paths(history_runs(run_folder, tmp_path, 6, scale=0.5), fresh_db, spool)
    store.record_paths([run_folder], fresh_db, spool)
    with psycopg.connect(fresh_db) as conn:
        trends.detect(conn, "run-1")
        yield conn


def test_table_values_equal_the_warehouse(recorded):
    built = report.build(recorded, "run-1")
    columns, rows = store.read_view(recorded, "model_comparison", "run_id = %s AND dataset = %s", ("run-1", "iris"))
    db = dict(zip(columns, rows[0]))
    for model, prefix in (("ganblr", "ganblr"), ("ganblr++", "ganblrpp")):
        for figure, column in (("execution_s", "execution_s"), ("startup_s", "startup_s"),
                               ("peak_memory_bytes", "peak_memory_bytes"), ("cpu_percent", "cpu_percent"),
                               ("tstr_accuracy_mean", "tstr_accuracy"), ("trtr_accuracy_mean", "trtr_accuracy")):
            assert built.stat("iris", model, figure).mean == pytest.approx(db[f"{prefix}_{column}"]), (model, figure)
        assert built.stat("iris", model, "execution_s").n == 2 and built.stat("iris", model, "execution_s").stdev > 0
    assert built.jobs[("car", "ganblr")] == (1, 0)


def test_words_state_the_differences_from_the_numbers(recorded):
    built = report.build(recorded, "run-1")
    words = " ".join(report.sentences(built, "iris"))
    g, p = built.stat("iris", "ganblr", "execution_s").mean, built.stat("iris", "ganblr++", "execution_s").mean
    faster = "GANBLR++" if p < g else "GANBLR"
    if max(g, p) / min(g, p) >= 1.05:
        assert f"{faster} has the lower execution time" in words and f"{max(g, p) / min(g, p):.2f}×" in words
    assert "more accurate on TSTR" in words and "2 standard errors" in words
    assert "of the train-on-real accuracy" in words


def test_html_is_self_contained_and_markdown_has_the_table_and_plots(recorded, tmp_path):
    paths = report.write(report.build(recorded, "run-1"), ARTIFACTS / "report")
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") == 2  # car and iris
    assert not re.search(r"""(src|href)=["']https?://""", page)
    assert "execution_s regressed" in page and "ganblr-car-s1: failed" in page
    md = paths["markdown"].read_text()
    assert "| figure | GANBLR | GANBLR++ |" in md and "![trends of iris](trends-iris.png)" in md
    assert (ARTIFACTS / "report" / "trends-iris.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_report_and_detect(fresh_db, run_folder, tmp_path):
    env = {"GANBLR_BENCH_DSN": fresh_db, "GANBLR_BENCH_SPOOL": str(tmp_path / "spool")}
    for folder in history_runs(run_folder, tmp_path, 6, scale=0.5) + [run_folder]:
        assert cli(["db", "record", str(folder)], **env).returncode in (0,)
    detected = cli(["detect", "--run", "run-1"], **env)
    assert detected.returncode == 1 and "regression: ganblr on iris: execution_s" in detected.stdout
    written = cli(["report", "--run", "run-1", "--out", str(tmp_path / "rep")], **env)
    assert written.returncode == 0 and (tmp_path / "rep" / "report.html").exists()
    missing = cli(["report", "--run", "nope", "--out", str(tmp_path / "rep2")], **env)
    assert missing.returncode == 2 and missing.stderr.startswith("ganblr-bench: no run 'nope' in the warehouse")
