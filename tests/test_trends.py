"""The regression detector: synthetic histories with known answers, then against the warehouse."""

import json
import random

import psycopg
import pytest
from jobs import history_runs

from ganblr_bench.analysis import trends
from ganblr_bench.warehouse import store


def noisy(mean, spread, n, seed=0):
    rng = random.Random(seed)
    return [rng.gauss(mean, spread) for _ in range(n)]


def test_a_step_up_in_time_is_a_regression():
    found = trends.judge("execution_s", noisy(20.0, 0.5, 10), 26.0)
    assert found.verdict == "regression" and found.z_score > 3 and found.relative_change > 0.25
    assert found.baseline_runs == 10 and found.better == "lower"


def test_a_large_share_of_a_tiny_time_is_noise_not_a_regression():
    steady = [0.0096 + 0.00003 * (i % 2) for i in range(10)]  # a 10 ms sample phase, very steady
    assert trends.judge("sample_s", steady, 0.0109) is None  # 13 % worse, z = 13, but 1.3 ms
    assert trends.judge("sample_s", [9.6 + 0.03 * (i % 2) for i in range(10)], 10.9).verdict == "regression"


def test_noise_alone_is_not_flagged():
    history = noisy(20.0, 0.5, 40, seed=1)
    flagged = [trends.judge("execution_s", history[i - 10 : i], history[i]) for i in range(10, 40)]
    assert flagged == [None] * 30


def test_too_short_a_history_is_not_judged():
    assert trends.judge("execution_s", [20.0, 20.1, 19.9, 20.0], 60.0) is None  # 4 < min_history 5


def test_a_change_in_the_good_direction_is_an_improvement_not_a_regression():
    assert trends.judge("execution_s", noisy(20.0, 0.5, 10), 12.0).verdict == "improvement"
    assert trends.judge("tstr_accuracy", noisy(0.80, 0.005, 10), 0.90).verdict == "improvement"
    assert trends.judge("tstr_accuracy", noisy(0.80, 0.005, 10), 0.70).verdict == "regression"


def test_both_thresholds_must_be_passed():
    flat = [20.0] * 10
    assert trends.judge("execution_s", flat, 21.0) is None  # z huge (spread floored at 1 %), +5 % only
    assert trends.judge("execution_s", noisy(20.0, 4.0, 10, seed=2), 23.0) is None  # +15 % but within noise
    custom = trends.Thresholds(min_relative_change={"execution_s": 0.04})
    assert trends.judge("execution_s", flat, 21.0, custom).verdict == "regression"


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="min_history"):
        trends.Thresholds(window=3, min_history=5)


def test_detect_stores_a_slowed_run_as_a_regression_and_ignores_a_steady_one(warehouse, run_folder, tmp_path):
    spool = tmp_path / "spool"
    store.record_paths(history_runs(run_folder, tmp_path, 6, scale=0.5), warehouse, spool)  # history twice as fast
    store.record_paths([run_folder], warehouse, spool)
    with psycopg.connect(warehouse) as conn:
        found = trends.detect(conn, "run-1")
        regressions = [d for d in found if d.finding.verdict == "regression"]
        assert {(d.model, d.dataset, d.finding.metric) for d in regressions} >= {
            ("ganblr", "iris", "execution_s"),
            ("ganblr++", "iris", "execution_s"),
        }
        assert "ganblr on iris: execution_s" in "\n".join(map(str, regressions))
        rows = conn.execute(
            "SELECT model, metric, verdict, baseline_runs FROM analytics.regressions "
            "WHERE run_id = 'run-1' AND metric = 'execution_s' ORDER BY model"
        ).fetchall()
        assert rows == [("ganblr", "execution_s", "regression", 6), ("ganblr++", "execution_s", "regression", 6)]
        assert trends.detect(conn, "hist-5") == []  # a steady run against its own past: nothing
        assert len(trends.detect(conn, "run-1")) == len(found)  # re-detection replaces, never doubles
        assert conn.execute("SELECT count(*) FROM bench.findings WHERE run_id = 'run-1'").fetchone()[0] == len(found)


def test_a_fall_in_fidelity_is_watched_and_context_figures_are_not(warehouse, run_folder, tmp_path):
    """Seeded history (the test says so): earlier runs whose column pair trends were 0.99, and whose host
    load was 0; the real run's fidelity is far below, and its load far above: only the fidelity alerts."""
    spool = tmp_path / "spool"
    seeded = history_runs(run_folder, tmp_path, 6, scale=1.0, quality={"column_pair_trends": 0.99})
    for folder in seeded:
        for path in folder.glob("*/result.json"):
            data = json.loads(path.read_text())
            if data["status"] == "ok":
                data["environment"]["host_load_1m"] = [0.0, 0.0]
                path.write_text(json.dumps(data))
    store.record_paths(seeded, warehouse, spool)
    store.record_paths([run_folder], warehouse, spool)
    with psycopg.connect(warehouse) as conn:
        found = {(d.model, d.finding.metric, d.finding.verdict) for d in trends.detect(conn, "run-1")}
    assert ("ganblr", "column_pair_trends", "regression") in found
    assert ("ganblr++", "column_pair_trends", "regression") in found
    assert not {f for f in found if f[1] in ("host_load_1m", "peer_jobs", "startup_cpu_s")}


def test_one_outlier_night_hides_the_next_regression_from_the_mean_baseline_but_not_from_the_median():
    history = noisy(20.0, 0.5, 10, seed=4)
    history[-3] = 32.0  # a noisy neighbour one night: +60 %
    slowed = 24.5  # then a lasting +22 %
    assert trends.judge("execution_s", history, slowed, trends.Thresholds(baseline="mean")) is None  # sd inflated
    found = trends.judge("execution_s", history, slowed, trends.Thresholds(baseline="median"))
    assert found.verdict == "regression" and trends.Thresholds().baseline == "median"  # the default


def test_the_median_baseline_is_the_median_and_the_scaled_mad():
    centre, spread = trends.centre_and_spread([1.0, 2.0, 3.0, 4.0, 100.0], "median")
    assert centre == 3.0 and spread == pytest.approx(1.4826 * 1.0)
    assert trends.centre_and_spread([1.0, 2.0, 3.0], "mean") == (2.0, 1.0)
    with pytest.raises(ValueError, match="Input should be .median. or .mean."):
        trends.Thresholds(baseline="mode")
