"""The run report: hand-built models for the words, tables and plots (pure, deterministic), and real results
recorded in a real warehouse for the path users take."""

import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from jobs import ARTIFACTS, cli, history_runs

from ganblr_bench.analysis import report, runs, trends
from ganblr_bench.analysis.report import Depth, Finding, HistoryKey, Job, Point, Report, Stat, StatKey
from ganblr_bench.present import document, plots
from ganblr_bench.present import report as rendered
from ganblr_bench.settings import Thresholds
from ganblr_bench.states import RunKind, Stack, Status, Verdict
from ganblr_bench.warehouse import store, views

STARTED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def run_facts(**changes) -> runs.RunFacts:
    fields = dict(
        run_id="scheduled__2026-12-01T02:00:00+00:00",
        kind=RunKind.SCHEDULED,
        started_at=STARTED,
        finished_at=STARTED + timedelta(minutes=30),
        triggered_by=None,
        params={"datasets": ["adult", "car"], "seeds": [0, 1], "epochs": 10},
        backend="docker",
        git_sha="a" * 40,
        image_ref="ganblr-bench:inputs-1",
        image_digest="sha256:" + "1" * 64,
        image_inputs_hash="1",
        image_build_s=0.0,
        image_build_cached=True,
        host_name="bench-1",
        host_cpus=2,
        host_memory_bytes=24 * 2**30,
        jobs=8,
        ok_jobs=8,
    )
    return runs.RunFacts(**(fields | changes))


def hand_built(stats: dict, depth: dict | None = None, history: dict | None = None, **changes) -> Report:
    """A report built by hand: ``stats`` maps (dataset, model, metric) to the seeds' values."""
    datasets = sorted({d for d, _, _ in stats})
    models = [m for m in ("ganblr", "ganblr++", "independent", "naive-bayes") if any(m == k[1] for k in stats)]
    jobs = [
        Job(f"{m}-{d}-s{s}", m, d, s, Stack.LOCKED, Status.OK, None, f"/r/{m}-{d}-s{s}")
        for d in datasets
        for m in models
        for s in (0, 1)
    ]
    fields = dict(
        run=run_facts(),
        datasets=datasets,
        stacks=[Stack.LOCKED],
        models=models,
        stats={StatKey(d, m, Stack.LOCKED, k): Stat.of(v) for (d, m, k), v in stats.items()},
        jobs=jobs,
        findings=[],
        versions={Stack.LOCKED: {"ganblr": "0.1.3"}},
        thresholds=Thresholds(),
        history=history or {},
        depth=depth if depth is not None else {(d, m): Depth(5, 5) for d in datasets for m in models},
    )
    return Report(**(fields | changes))


TWO_MODELS = {
    ("adult", "ganblr", "execution_s"): [10.0, 10.2],
    ("adult", "ganblr++", "execution_s"): [30.0, 31.0],
    ("adult", "ganblr", "peak_memory_bytes"): [1.05 * 2**30, 1.05 * 2**30],
    ("adult", "ganblr++", "peak_memory_bytes"): [0.5 * 2**30, 0.5 * 2**30],
    ("adult", "ganblr", "tstr_accuracy"): [0.80, 0.82],
    ("adult", "ganblr++", "tstr_accuracy"): [0.70, 0.71],
    ("adult", "ganblr", "trtr_accuracy"): [0.85, 0.85],
    ("adult", "ganblr++", "trtr_accuracy"): [0.85, 0.85],
    ("adult", "independent", "tstr_accuracy"): [0.60, 0.60],
    ("adult", "independent", "trtr_accuracy"): [0.85, 0.85],
}


def test_the_words_state_the_differences_from_the_numbers_in_units_people_read():
    built = hand_built(TWO_MODELS)
    words = " ".join(
        b
        for block in rendered.sections(built, with_plots=False)
        if isinstance(block, document.Bullets)
        for b in block.items
    )
    assert "GANBLR has the lowest execution time (10.1 ± 0.1 s" not in words  # one fact, one unit: the mean
    assert "GANBLR has the lowest execution time (10.1 s); GANBLR++ 30.5 s, 3.02× that." in words
    assert "GANBLR++ has the lowest peak memory (512 MiB); GANBLR 1.05 GiB, 2.10× that." in words
    assert "GANBLR is more accurate on TSTR than GANBLR++ by 0.105" in words and "2 standard errors" in words
    assert "covers 84 % of the way from the floor" in words  # (0.81 - 0.60) / (0.85 - 0.60)
    assert "of the train-on-real accuracy" not in words  # the same fact is said once


def test_a_model_below_the_floor_is_said_to_be_so_in_words():
    stats = dict(TWO_MODELS) | {("adult", "ganblr++", "tstr_accuracy"): [0.40, 0.40]}
    built = hand_built(stats)
    assert report.share_of_the_way(built, "adult", "ganblr++", "tstr_accuracy") == pytest.approx(-0.8)
    _, ladder = rendered._ladder(built, "adult")
    assert "0.400 (below the floor)" in ladder.rows[0] and "0.600 (the floor)" in ladder.rows[0]
    assert all("%" not in str(c) or "of the way" in str(c) for c in ladder.rows[0][2:])


def test_without_enough_history_the_report_says_it_judged_nothing():
    depth = {("adult", m): Depth(2, 5) for m in ("ganblr", "ganblr++", "independent")}
    body = rendered.html_body(hand_built(TWO_MODELS, depth=depth))
    assert "No regression, no failed job." not in body  # a green banner would claim what was never judged
    assert (
        '<div class="note">' in body and "not enough history to judge 3 of 3 model-dataset series (2 of 5 runs)" in body
    )
    partly = dict(depth) | {("adult", "ganblr"): Depth(5, 5)}
    body = rendered.html_body(hand_built(TWO_MODELS, depth=partly))
    assert '<div class="ok">' in body and "Not enough history to judge 2 of 3" in body


def test_a_regression_and_a_failed_job_need_a_look():
    finding = Finding(
        "ganblr", "adult", Stack.LOCKED, "execution_s", 30.0, 10.0, 0.2, 10, 100.0, 2.0, Verdict.REGRESSION
    )
    built = hand_built(TWO_MODELS, findings=[finding])
    built.jobs[0] = Job("ganblr-adult-s0", "ganblr", "adult", 0, Stack.LOCKED, Status.OOM, "killed for memory", None)
    body = rendered.html_body(built)
    alert = body.split('<div class="alert">', 1)[1].split("</div>", 1)[0]
    assert (
        "GANBLR on adult: execution (fit + sample) regressed: 30.0 s against a baseline of 10.0 s over 10 runs" in alert
    )
    assert "(200.0 % worse, 100.0 spreads)" in alert and "ganblr-adult-s0: oom: killed for memory" in alert


def test_the_title_says_what_kind_of_run_when_and_with_what():
    assert rendered.title(hand_built(TWO_MODELS)) == "Nightly run of 2026-12-01 02:00 UTC: adult · 2 seeds · 10 epochs"
    manual = hand_built(TWO_MODELS, run=run_facts(kind=RunKind.MANUAL, triggered_by="ada", params={"seeds": [0]}))
    assert rendered.title(manual) == "Manual run of 2026-12-01 02:00 UTC by ada: adult · 1 seed"


def test_the_leaderboard_ranks_models_per_dataset_ties_share_and_means_across_datasets():
    stats = {
        ("adult", "ganblr", "tstr_accuracy"): [0.80],
        ("adult", "ganblr++", "tstr_accuracy"): [0.70],
        ("adult", "naive-bayes", "tstr_accuracy"): [0.80],
        ("car", "ganblr", "tstr_accuracy"): [0.60],
        ("car", "ganblr++", "tstr_accuracy"): [0.90],
        ("car", "naive-bayes", "tstr_accuracy"): [0.75],
    }
    board = {s.model: s for s in report.leaderboard(hand_built(stats), "tstr_accuracy")}
    assert board["ganblr"].ranks == {"adult": 1.5, "car": 3.0} and board["naive-bayes"].ranks == {
        "adult": 1.5,
        "car": 2.0,
    }
    assert board["ganblr++"].mean_rank == 2.0 and board["naive-bayes"].mean_rank == 1.75
    assert [s.model for s in report.leaderboard(hand_built(stats), "tstr_accuracy")][0] == "naive-bayes"
    md = rendered.document.markdown(rendered.sections(hand_built(stats), with_plots=False))[0]
    assert "## Leaderboard" in md and "| naive Bayes (reference) | 0.800 (1.5) | 0.750 (2) | 1.75 |" in md


def test_html_and_markdown_walk_the_same_sections():
    blocks = rendered.sections(hand_built(TWO_MODELS), with_plots=False)
    html = document.html(blocks)
    md, _ = document.markdown(blocks)
    headings = [b.text for b in blocks if isinstance(b, document.Heading)]
    assert re.findall(r"<h\d>(.*?)</h\d>", html) == headings
    assert [line.lstrip("#").strip() for line in md.splitlines() if line.startswith("#")] == headings
    assert "Reproduce" in headings and "airflow dags trigger ganblr_benchmark --conf" in md
    assert '<td class="n">' in html and "<td>execution (fit + sample)</td>" in html  # text left, numbers right


def _history(n_figures: tuple[str, ...], models=("ganblr", "ganblr++", "independent", "naive-bayes", "extra")) -> dict:
    return {
        HistoryKey("adult", m, k): [Point(STARTED - timedelta(days=5 - i), 10.0 + i + j, f"r{i}") for i in range(5)]
        for j, m in enumerate(models)
        for k in n_figures
    }


@pytest.mark.parametrize("count", [1, 4, 6, 7])
def test_the_trend_grid_has_axes_for_every_figure_and_the_legend_outside_the_data(count):
    keys = (
        "execution_s",
        "startup_s",
        "peak_memory_bytes",
        "cpu_percent",
        "tstr_accuracy",
        "column_pair_trends",
        "column_shapes",
    )[:count]
    built = hand_built(TWO_MODELS, history=_history(keys))
    built.models = ["ganblr", "ganblr++", "independent", "naive-bayes", "extra"]  # a fifth generator keeps its line
    fig = plots.trend_figure(built, "adult", keys)
    assert len(fig.axes) == count  # no empty panel, none switched off
    for ax in fig.axes:
        assert ax.get_title() and ax.get_ylabel() and ax.get_xticks().size and ax.get_legend() is None
        assert len(ax.get_lines()) == 5
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 5
    assert plots.trends(built, "adult", keys)[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_models_most_distorted_columns_are_drawn_real_beside_synthetic():
    from ganblr_bench.contract import ColumnMarginal

    column = ColumnMarginal(
        column="age", score=0.61, labels=["<= 25", "(25, 37]", "> 37"], real=[0.3, 0.4, 0.3], synthetic=[0.6, 0.3, 0.1]
    )
    built = hand_built(TWO_MODELS, marginals={("adult", "ganblr"): [column, column], ("adult", "ganblr++"): [column]})
    assert plots.marginals(built, "adult")[:8] == b"\x89PNG\r\n\x1a\n" and plots.marginals(built, "car") is None
    titles = [b.text for b in rendered.sections(built) if isinstance(b, document.Heading)]
    assert "adult: where the samples differ most from the real data" in titles


# ---------------------------------------------------------------- real results in a real warehouse


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
    db = dict(zip(columns, rows[0], strict=True))
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
        assert built.stat("iris", model, "execution_s").n == 2 and built.stat("iris", model, "execution_s").sd > 0
    assert built.count("car", "ganblr") == (1, 0) and built.stacks == ["locked"]
    assert built.depth[("iris", "ganblr")] == Depth(6, 5)  # six earlier runs in the series, five needed


def test_html_is_self_contained_and_markdown_has_the_tables_plots_and_job_links(recorded):
    paths = rendered.write(report.build(recorded, "run-1"), ARTIFACTS / "report")
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") == 3  # the trends of car and iris, iris's marginals (car: no ok job)
    assert "iris: where the samples differ most from the real data" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)
    assert "execution (fit + sample) regressed" in page and "ganblr-car-s1: failed" in page
    assert 'href="/ganblr-bench/runs/run-1/jobs/ganblr-iris-s1/synthetic.csv"' in page
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
    assert missing.returncode == 2 and "ganblr-bench: no run 'nope' in the warehouse" in missing.stderr
    assert "Traceback" not in missing.stderr and len(missing.stderr.strip().splitlines()) == 2  # reading ..., the error
    # detect judges with the configured thresholds, as the pipeline does, not with the defaults
    lenient = cli(["detect", "--run", "run-1"], **env, GANBLR_BENCH_THRESHOLDS='{"z_threshold": 100}')
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
    body = rendered.html_body(built)
    alerts = body.split('<div class="alert">', 1)[1].split("</div>", 1)[0]
    assert "improved" not in alerts and "ganblr-car-s1: failed" in alerts  # the failed job still alerts
    improvements = body.split("<b>Improvements</b>", 1)[1].split("</div>", 1)[0]
    assert "execution (fit + sample) improved" in improvements and "% better" in improvements
    assert "worse" not in improvements


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
    changed = [(c.kind, c.name, c.a, c.b) for c in built.against["latest"].changed]
    assert changed == [("package", "numpy", built.versions["locked"]["numpy"], "9.9.9")]
    md = rendered.document.markdown(rendered.sections(built, with_plots=False))[0]
    assert "## Locked vs latest stack" in md and "| figure | GANBLR locked | GANBLR latest | GANBLR change |" in md
    # Two seeds a side: the doubled fit is judged by their noise, as two runs would be.
    assert re.search(
        r"- GANBLR's execution \(fit \+ sample\) got worse, beyond noise: \+[0-9.]+ % on the latest stack .*numpy", md
    )
    execution = next(c for c in built.against["latest"].changes if c.model == "ganblr" and c.metric == "execution_s")
    assert execution.noise == "seeds" and execution.movement == "worse" and execution.b.n == 2
    assert "- GANBLR++ broke on the latest stack (numpy" in md and "has no attribute 'NaN'" in md


def test_every_model_is_placed_between_the_floor_and_the_real_data(warehouse, run_folder, tmp_path):
    """Real reference jobs beside the run's models: the floor is the floor, and each share is
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
    _, ladder = rendered._ladder(built, "iris")
    accuracy = {row[0]: row for row in ladder.rows}["TSTR accuracy"]
    assert accuracy[2 + 2].endswith("(the floor)")
    floor = built.stat("iris", "independent", "tstr_accuracy").mean
    for i, model in enumerate(built.models):
        if model == "independent":
            continue
        value, top = built.stat("iris", model, "tstr_accuracy").mean, built.stat("iris", model, "trtr_accuracy").mean
        share = (value - floor) / (top - floor)
        words = "below the floor" if share < 0 else f"{100 * share:.0f} % of the way"
        assert accuracy[2 + i] == f"{value:.3f} ({words})"
    page = rendered.html_page(built)
    assert "from the floor to the real data" in page and "naive Bayes (reference)" in page
    assert "of the way from the floor" in page or "below the floor" in page
