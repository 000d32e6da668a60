"""Runs side by side: the runs index, a comparison of two recorded runs with what changed, in every format."""

import csv
import io
import json

import psycopg
import pytest
from jobs import cli, history_runs

from ganblr_bench import compare, formats, store

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_runs(warehouse, run_folder, tmp_path):
    """Run A: a copy of the real run (the test says so) twice as fast, on another commit, image, numpy and
    epochs; run B: the real run."""
    (a,) = history_runs(run_folder, tmp_path, 1, scale=0.5)
    run = json.loads((a / "run.json").read_text())
    run["git_sha"] = "a" * 40
    run["params"] = {"datasets": ["iris", "car"], "epochs": 5}
    run["image"]["digest"] = "sha256:" + "1" * 64
    (a / "run.json").write_text(json.dumps(run))
    for path in a.glob("*/result.json"):
        result = json.loads(path.read_text())
        result["environment"]["versions"]["numpy"] = "1.26.4"
        path.write_text(json.dumps(result))
    store.record_paths([a, run_folder], warehouse, tmp_path / "spool")
    return warehouse


def test_a_comparison_says_what_moved_beyond_noise_and_what_changed_between_the_runs(two_runs):
    with psycopg.connect(two_runs) as conn:
        found = compare.compare(conn, "hist-0", "run-1")
        current_numpy = conn.execute(
            "SELECT versions->>'numpy' FROM analytics.job_results WHERE run_id = 'run-1' AND status = 'ok' LIMIT 1"
        ).fetchone()[0]
    slower = {(c.model, c.dataset): c for c in found.changes if c.metric == "execution_s"}
    for model in ("ganblr", "ganblr++"):
        change = slower[(model, "iris")]
        assert change.verdict == "worse" and change.beyond_noise and change.seeds == (2, 2)
        assert change.relative == pytest.approx(change.b / change.a - 1) and change.relative > 0.8
    same = [c for c in found.changes if c.metric == "tstr_accuracy"]
    assert same and all(c.verdict == "same" and not c.beyond_noise for c in same)  # copied scores: unchanged
    changed = "\n".join(found.changed)
    assert f"git: {'a' * 10} -> -" in changed
    assert "image: sha256:111111111111 -> sha256:000000000000 (same inputs, rebuilt)" in changed
    assert f"package numpy: 1.26.4 -> {current_numpy}" in changed
    assert "parameter epochs: 5 -> null" in changed
    assert "host" not in changed  # same host facts: not listed


def test_a_tiny_change_is_not_beyond_noise_and_one_seed_rests_on_the_practical_thresholds():
    assert compare.judge("execution_s", [20.0, 20.2], [20.1, 20.3])[1:] == ("worse", False)  # +0.5 %
    relative, verdict, beyond = compare.judge("execution_s", [20.0, 30.0], [28.0, 31.0])  # +18 %, seeds spread 5
    assert relative == pytest.approx(0.18) and verdict == "worse" and not beyond  # within 2 standard errors
    assert compare.judge("execution_s", [20.0], [30.0]) == (0.5, "worse", True)  # one seed: practical only
    assert compare.judge("tstr_accuracy", [0.80], [0.90])[1:] == ("better", True)
    assert compare.judge("tstr_accuracy", [], [0.90])[1] == "new"


def test_the_cli_prints_runs_and_the_comparison_in_every_format(two_runs):
    env = {"GANBLR_BENCH_DSN": two_runs}
    runs = json.loads(cli(["runs", "--format", "json"], **env).stdout)
    assert [r["run_id"] for r in runs] == ["run-1", "hist-0"]  # newest first
    assert runs[0]["failed_jobs"] == 1 and runs[0]["status"] == "needs a look" and runs[1]["jobs"] == 5

    table = cli(["compare", "hist-0", "run-1"], **env)
    assert table.returncode == 0, table.stderr
    assert "what changed from A to B:" in table.stdout and "package numpy: 1.26.4 ->" in table.stdout
    assert "worse (beyond noise)" in table.stdout and "same" not in table.stdout.split("figures:")[1]
    data = json.loads(cli(["compare", "hist-0", "run-1", "--format", "json"], **env).stdout)
    assert data["a"] == "hist-0" and any(f["metric"] == "execution_s" and f["beyond_noise"] for f in data["figures"])
    rows = list(csv.DictReader(io.StringIO(cli(["compare", "hist-0", "run-1", "--format", "csv"], **env).stdout)))
    assert rows and set(rows[0]) == {"dataset", "model", "figure", "a", "b", "change", "verdict"}
    md = cli(["compare", "hist-0", "run-1", "--format", "md", "--all"], **env).stdout
    assert "| dataset | model | figure | a | b | change | verdict |" in md and "- git:" in md
    results = json.loads(cli(["results", "--run", "run-1", "--format", "json"], **env).stdout)
    assert {"dataset", "stack", "figure", "unit", "ganblr", "ganblrpp"} <= set(results[0])
    wrong = cli(["compare", "hist-0", "no-such-run"], **env)
    assert wrong.returncode == 2 and "no run 'no-such-run'" in wrong.stderr and "ganblr-bench runs" in wrong.stderr


def test_formats_render_the_same_rows_four_ways_and_refuse_an_unknown_one():
    rows = [{"a": 1.23456, "b": None, "c": "x|y"}]
    assert formats.render(rows, "table").splitlines() == ["a      b  c", "1.235  -  x|y"]
    assert formats.render(rows, "csv") == "a,b,c\n1.235,-,x|y"
    assert formats.render(rows, "md").splitlines()[2] == "| 1.235 | - | x\\|y |"
    assert json.loads(formats.render(rows, "json")) == rows
    with pytest.raises(ValueError, match="choose one of table, json, csv, md"):
        formats.render(rows, "xml")


def test_the_pages_list_the_runs_and_show_a_comparison_with_its_causes(two_runs):
    with psycopg.connect(two_runs) as conn:
        index = compare.index_html(compare.index(conn))
        page = compare.comparison_html(compare.compare(conn, "hist-0", "run-1"))
        assert compare.previous_comparable(conn, "run-1") == "hist-0"
        assert compare.previous_comparable(conn, "hist-0") is None
    assert 'href="runs/run-1"' in index and 'href="compare?a=hist-0&amp;b=run-1"' in index
    assert "needs a look" in index and "<form" in index
    assert "What changed from A to B" in page and "package numpy: 1.26.4" in page
    assert "changed beyond noise" in page and "worse (beyond noise)" in page
