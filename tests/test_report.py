"""The comparison report, built from real results recorded in a real warehouse."""

import re

import psycopg
import pytest
from jobs import ARTIFACTS, cli, history_runs

from ganblr_bench import report, store, trends, views


@pytest.fixture
def recorded(warehouse, run_folder, tmp_path):
    spool = tmp_path / "spool"
    store.record_paths(history_runs(run_folder, tmp_path, 6, scale=0.5), warehouse, spool)
    store.record_paths([run_folder], warehouse, spool)
    with psycopg.connect(warehouse) as conn:
        trends.detect(conn, "run-1")
        yield conn


def test_table_values_equal_the_warehouse(recorded):
    built = report.build(recorded, "run-1")
    columns, rows = views.read(recorded, "model_comparison", "run_id = %s AND dataset = %s", ("run-1", "iris"))
    db = dict(zip(columns, rows[0]))
    for model, prefix in (("ganblr", "ganblr"), ("ganblr++", "ganblrpp")):
        for figure in (
            "execution_s",
            "startup_s",
            "peak_memory_bytes",
            "cpu_percent",
            "tstr_accuracy",
            "trtr_accuracy",
        ):
            assert built.stat("iris", model, figure).mean == pytest.approx(db[f"{prefix}_{figure}"]), (model, figure)
        assert built.stat("iris", model, "execution_s").n == 2 and built.stat("iris", model, "execution_s").stdev > 0
    assert built.jobs[("car", "ganblr", "locked")] == (1, 0) and built.stacks == ["locked"]


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


def test_cli_report_and_detect(warehouse, run_folder, tmp_path):
    env = {"GANBLR_BENCH_DSN": warehouse, "GANBLR_BENCH_SPOOL": str(tmp_path / "spool")}
    for folder in history_runs(run_folder, tmp_path, 6, scale=0.5) + [run_folder]:
        assert cli(["db", "record", str(folder)], **env).returncode in (0,)
    detected = cli(["detect", "--run", "run-1"], **env)
    assert detected.returncode == 1 and "regression: ganblr on iris: execution_s" in detected.stdout
    written = cli(["report", "--run", "run-1", "--out", str(tmp_path / "rep")], **env)
    assert written.returncode == 0 and (tmp_path / "rep" / "report.html").exists()
    missing = cli(["report", "--run", "nope", "--out", str(tmp_path / "rep2")], **env)
    assert missing.returncode == 2 and missing.stderr.startswith("ganblr-bench: no run 'nope' in the warehouse")
    # detect judges with the configured thresholds, as the pipeline does, not with the defaults
    lenient = cli(["detect", "--run", "run-1"], **env, GANBLR_BENCH_THRESHOLDS='{"z_threshold": 1000}')
    assert lenient.returncode == 0 and "run run-1: 0 regression(s)" in lenient.stdout, lenient.stdout


def test_an_improvement_is_listed_apart_in_the_right_words(warehouse, run_folder, tmp_path):
    """Seeded (the test says so): a history twice as slow as the real run, so the run is an improvement."""
    spool = tmp_path / "spool"
    store.record_paths(history_runs(run_folder, tmp_path, 6, scale=2.0), warehouse, spool)
    store.record_paths([run_folder], warehouse, spool)
    with psycopg.connect(warehouse) as conn:
        found = trends.detect(conn, "run-1")
        built = report.build(conn, "run-1")
    assert found and all(d.finding.verdict == "improvement" for d in found if d.finding.metric == "execution_s")
    assert all("% better" in str(d) and "worse" not in str(d) for d in found if d.finding.verdict == "improvement")
    body = report.html_body(built)
    alerts = body.split('<div class="alert">', 1)[1].split("</div>", 1)[0]
    assert "improved" not in alerts and "ganblr-car-s1: failed" in alerts  # the failed job still alerts
    improvements = body.split("<b>Improvements</b>", 1)[1].split("</div>", 1)[0]
    assert "execution_s improved" in improvements and "% better" in improvements and "worse" not in improvements
    md = report.markdown(built, {})
    assert "## Improvements" in md and md.index("## Improvements") > md.index("## Alerts")


def test_a_canary_run_says_which_version_changes_moved_which_figure_and_what_broke(warehouse, run_folder, tmp_path):
    """Seeded (the test says so): the real run's iris results copied as the latest stack, with NumPy a
    release newer, GANBLR's fit twice as slow, and GANBLR++ broken, as a canary run would record them."""
    import json
    import shutil

    canary = tmp_path / "run-1"
    shutil.copytree(run_folder, canary)
    for result_file in list(canary.glob("*-iris-s*/result.json")):
        data = json.loads(result_file.read_text())
        data["spec"]["stack"] = "latest"
        data["job"] = data["job"] + "-latest"
        data["environment"]["versions"]["numpy"] = "9.9.9"
        if data["spec"]["model"] == "ganblr":
            data["timings"]["fit_s"] *= 2
            data["timings"]["execution_s"] = round(data["timings"]["fit_s"] + data["timings"]["sample_s"], 4)
        else:
            data.update(
                status="failed",
                error="AttributeError: module 'numpy' has no attribute 'NaN'",
                scores=[],
                timings={},
                dataset=None,
            )
        folder = result_file.parent.with_name(data["job"])
        folder.mkdir()
        (folder / "result.json").write_text(json.dumps(data))
    store.record_paths([canary], warehouse, tmp_path / "spool")
    with psycopg.connect(warehouse) as conn:
        built = report.build(conn, "run-1")
    assert built.stacks == ["locked", "latest"]
    assert report.version_changes(built) == [("numpy", built.versions["locked"]["numpy"], "9.9.9")]
    words = report.stack_findings(built, "iris")
    assert any(w.startswith("GANBLR's execution (fit + sample) moved +") and "numpy" in w for w in words), words
    assert any(
        w.startswith("GANBLR++ broke on the latest stack (numpy") and "has no attribute 'NaN'" in w for w in words
    ), words
    md = report.markdown(built, {})
    assert "## Locked vs latest stack" in md and "| figure | GANBLR locked | GANBLR latest | GANBLR change |" in md
    assert "Locked vs latest stack" in report.html_body(built)


def test_every_model_is_placed_between_the_floor_and_the_real_data(warehouse, run_folder, tmp_path):
    """Real reference jobs beside the run's models: the floor scores 0 % of the way, and each share is
    (model - floor) / (its TRTR - floor), from the same numbers the table shows."""
    import shutil

    from jobs import run_cli, write_spec

    folder = tmp_path / "run-1"
    shutil.copytree(run_folder, folder)
    for model in ("independent", "naive-bayes"):
        job = folder / f"{model}-iris-s1"
        spec = write_spec(job / "in", model=model, dataset="iris", seed=1)
        assert run_cli(spec, job)[0] == 0
    store.record_paths([folder], warehouse, tmp_path / "spool")
    with psycopg.connect(warehouse) as conn:
        built = report.build(conn, "run-1")
    assert built.models == ["ganblr", "ganblr++", "independent", "naive-bayes"]
    rows = {row[0]: row for row in report.ladder_rows(built, "iris")}
    floor = built.stat("iris", "independent", "tstr_accuracy").mean
    accuracy = rows["TSTR accuracy"]
    assert accuracy[1 + 1 + 2].endswith("(0 %)")  # the floor's own column
    for i, model in enumerate(built.models):
        value = built.stat("iris", model, "tstr_accuracy").mean
        top = built.stat("iris", model, "trtr_accuracy").mean
        assert accuracy[2 + i] == f"{value:.3f} ({100 * (value - floor) / (top - floor):.0f} %)"
    assert "column pair trends" in " ".join(rows)
    page = report.html_page(built)
    assert "from the floor to the real data" in page and "naive Bayes (reference)" in page
    assert "of the way from the floor" in page
