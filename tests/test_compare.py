"""Runs side by side: noise judged from what is known of it, the runs named as people name them, outputs people and
machines can read, and the pages."""

import csv
import io
import json

import pandas as pd
import psycopg
import pytest
from jobs import cli, history_runs

from ganblr_bench import layout
from ganblr_bench.analysis import compare, runs
from ganblr_bench.analysis.compare import Movement, Noise
from ganblr_bench.errors import NotFound
from ganblr_bench.present import comparison, formats
from ganblr_bench.present import runs as runs_page
from ganblr_bench.warehouse import store


def test_noise_comes_from_the_seeds_else_the_history_never_from_a_minimum_change_alone():
    # two seeds a side: two standard errors of the difference
    assert compare.judge("execution_s", [20.0, 20.2], [20.1, 20.3])[1:3] == (Movement.SAME, Noise.SEEDS)  # +0.5 %
    relative, movement, noise, band = compare.judge("execution_s", [20.0, 30.0], [28.0, 31.0])  # +18 %, spread 5
    assert relative == pytest.approx(0.18) and movement == Movement.SAME and band > 4.5  # within the seeds' noise
    assert compare.judge("execution_s", [20.0, 20.1], [30.0, 30.2])[1] == Movement.WORSE
    # one seed a side and no history: the noise is unknown, so nothing is beyond it, however large
    assert compare.judge("execution_s", [20.0], [30.0])[1:] == (Movement.SAME, Noise.UNKNOWN, None)
    # one seed a side with a history whose runs spread by 0.5 s: 2 x sqrt(2) x 0.5 = 1.41 s of noise
    assert compare.judge("execution_s", [20.0], [21.2], history_spread=0.5)[1] == Movement.SAME
    assert compare.judge("execution_s", [20.0], [23.0], history_spread=0.5)[1:3] == (Movement.WORSE, Noise.HISTORY)
    # beyond noise but below the figure's practical minimum: still the same
    assert compare.judge("tstr_accuracy", [0.800, 0.801], [0.810, 0.811])[1] == Movement.SAME  # +1.2 % < 2 %
    assert compare.judge("tstr_accuracy", [0.80, 0.81], [0.90, 0.91])[1] == Movement.BETTER
    # a context figure is never better or worse
    assert compare.judge("host_load_1m", [0.5, 0.6], [1.9, 2.0])[1] == Movement.CHANGED
    assert compare.judge("tstr_accuracy", [], [0.90])[1] == Movement.NEW
    assert compare.judge("image_build_s", [0.0], [95.0])[1] == Movement.CACHED


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
        assert change.movement == Movement.WORSE and change.noise == Noise.SEEDS and (change.a.n, change.b.n) == (2, 2)
        assert change.relative == pytest.approx(change.b.mean / change.a.mean - 1) and change.relative > 0.8
        assert change.regressed  # a watched figure, worse beyond noise
    same = [c for c in found.changes if c.metric == "tstr_accuracy"]
    assert same and all(c.movement == Movement.SAME for c in same)  # copied scores: unchanged
    lines = "\n".join(c.line() for c in found.changed)
    assert f"git: {'a' * 10} -> -" in lines
    assert "image: sha256:111111111111 -> sha256:000000000000 (same inputs, rebuilt)" in lines
    assert f"package numpy: 1.26.4 -> {current_numpy}" in lines
    assert "parameter epochs: 5 -> -" in lines
    assert "host" not in lines  # same host facts: not listed
    numpy = next(c for c in found.changed if c.kind == "package" and c.name == "numpy")
    assert (numpy.a, numpy.b) == ("1.26.4", current_numpy)  # structured, not prose
    assert dict((m, (b, w)) for m, b, w, _ in found.summary())["ganblr"][1] >= 1


def test_runs_are_found_by_id_prefix_folder_name_latest_and_previous(two_runs):
    with psycopg.connect(two_runs) as conn:
        assert runs.resolve(conn, "run-1") == "run-1" and runs.resolve(conn, "latest") == "run-1"
        assert runs.resolve(conn, "previous") == "hist-0" and runs.resolve(conn, "hist") == "hist-0"
        assert runs.previous_comparable(conn, "hist-0") is None
        with pytest.raises(NotFound, match="no run 'nope'"):
            runs.resolve(conn, "nope")
        conn.execute("UPDATE bench.runs SET run_id = run_id")  # nothing to rename: ids are kept as recorded
    with psycopg.connect(two_runs) as conn:
        conn.execute(
            "INSERT INTO bench.runs (run_id, kind, started_at, run_key) VALUES "
            "('manual__2026-01-01T00:00:00+00:00', 'manual', now(), %s), ('manual__2026-01-02T00:00:00+00:00', 'manual', now(), %s)",
            (layout.run_key("manual__2026-01-01T00:00:00+00:00"), layout.run_key("manual__2026-01-02T00:00:00+00:00")),
        )
        assert runs.resolve(
            conn, "manual__2026-01-01T00_00_00_00_00-" + _hash("manual__2026-01-01T00:00:00+00:00")
        ) == ("manual__2026-01-01T00:00:00+00:00")
        with pytest.raises(NotFound, match="ambiguous: 2 runs match"):
            runs.resolve(conn, "manual__2026")


def _hash(run_id: str) -> str:
    import hashlib

    return hashlib.sha256(run_id.encode()).hexdigest()[:8]


def test_the_cli_prints_people_and_machines_what_each_can_read_and_gates_ci(two_runs):
    env = {"GANBLR_BENCH_DSN": two_runs}
    listed = json.loads(cli(["runs", "--format", "json"], **env).stdout)
    assert [r["run_id"] for r in listed] == ["run-1", "hist-0"]  # newest first
    assert listed[0]["failed_jobs"] == 1 and listed[0]["status"] == "needs a look" and listed[1]["jobs"] == 5

    table = cli(["compare"], **env)  # no arguments: the latest run against the previous comparable one
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith("A: hist-0") and "package numpy: 1.26.4 ->" in table.stdout
    assert "worse" in table.stdout and " same" not in table.stdout.split("beyond noise")[-1]
    assert "GANBLR: " in table.stdout and "worse" in table.stdout.split("GANBLR: ", 1)[1].splitlines()[0]
    gate = cli(["compare", "previous", "latest", "--fail-on-regression"], **env)
    assert gate.returncode == 1  # execution regressed beyond the seeds' noise: a CI job fails here

    data = json.loads(cli(["compare", "hist-0", "run-1", "--format", "json", "--all"], **env).stdout)
    assert (
        data["a"]["run_id"] == "hist-0" and data["b"]["params"] == {"datasets": ["iris", "car"]} | data["b"]["params"]
    )
    figure = next(f for f in data["figures"] if f["metric"] == "execution_s" and f["model"] == "ganblr")
    assert figure["a_n"] == 2 and isinstance(figure["a_mean"], float) and figure["movement"] == "worse"
    assert {"kind": "package", "name": "numpy"}.items() <= next(
        c for c in data["what_changed"] if c["name"] == "numpy"
    ).items()

    text = cli(["compare", "hist-0", "run-1", "--format", "csv", "--all"], **env).stdout
    frame = pd.read_csv(io.StringIO(text))
    assert frame["a_mean"].dtype == float and frame["a_n"].dtype == "int64" and frame["beyond_noise"].dtype == bool
    assert frame.loc[frame.metric == "execution_s", "unit"].iloc[0] == "s"  # raw seconds, not "10.80 s"
    assert "\r" not in text and set(csv.DictReader(io.StringIO(text)).fieldnames) >= {"relative_change", "noise_from"}

    md = cli(["compare", "hist-0", "run-1", "--format", "md", "--all"], **env).stdout
    assert "| dataset | model | figure | A | B | change | verdict |" in md and "- git:" in md

    results = cli(["results", "--run", "run-1", "--format", "csv"], **env).stdout
    frame = pd.read_csv(io.StringIO(results))
    assert list(frame.columns) == ["run_id", "dataset", "stack", "model", "metric", "unit", "mean", "sd", "n"]
    assert frame["mean"].dtype == float and frame.loc[frame.metric == "peak_memory_bytes", "mean"].iloc[0] > 2**20
    exported = cli(["results", "--csv", "runs"], **env).stdout
    params = pd.read_csv(io.StringIO(exported))["params"].iloc[0]
    assert json.loads(params) and "\r" not in exported  # JSON, not a Python dict; LF

    wrong = cli(["compare", "hist-0", "no-such-run"], **env)
    assert wrong.returncode == 2 and "no run 'no-such-run'" in wrong.stderr and "ganblr-bench runs" in wrong.stderr
    assert cli(["runs", "--limit", "-1"], **env).returncode == 2


def test_formats_render_rows_for_people_and_raw_for_machines():
    rows = [{"a": 1.23456789, "b": None, "c": "x|y", "d": {"k": [1]}}]
    assert formats.render(rows, "table").splitlines() == ["a      b  c    d", '1.235  -  x|y  {"k": [1]}']
    assert formats.render(rows, "csv") == 'a,b,c,d\n1.23456789,,x|y,"{""k"": [1]}"'
    assert formats.render(rows, "md").splitlines()[2] == '| 1.235 | - | x\\|y | {"k": [1]} |'
    assert json.loads(formats.render(rows, "json")) == rows
    with pytest.raises(ValueError, match="choose one of table, json, csv, md"):
        formats.render(rows, "xml")


def test_the_pages_list_the_runs_with_checkboxes_and_show_a_comparison_with_its_causes(two_runs):
    with psycopg.connect(two_runs) as conn:
        index = runs_page.html(runs.index(conn))
        page = comparison.html(compare.compare(conn, "hist-0", "run-1"))
    assert 'href="runs/run-1"' in index and 'href="compare?a=hist-0&amp;b=run-1"' in index
    assert 'type="checkbox" name="a" value="hist-0" checked' in index and 'name="b" value="run-1" checked' in index
    assert "needs a look" in index and '<form action="compare">' in index
    assert "What changed from A to B" in page and "package numpy: 1.26.4" in page
    assert "beyond noise" in page and '<td class="alert">worse</td>' in page and '<a href="runs/hist-0">' in page
