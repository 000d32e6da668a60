"""The README's first command, as written: the real DAG, process backend, embedded PostgreSQL."""

import os
import subprocess

import pytest
from jobs import ARTIFACTS

from ganblr_bench import database

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
ROOT = ARTIFACTS.parents[1]


def test_quickstart_runs_the_dag_and_prints_the_comparison(tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, GANBLR_BENCH_HOME=str(home))
    conf = '{"datasets": ["iris"], "seeds": [0], "epochs": 1, "classifiers": ["lr", "rf"]}'
    try:
        proc = subprocess.run(
            [str(ROOT / "scripts" / "quickstart.sh"), conf], capture_output=True, text=True, env=env, timeout=1200
        )
    finally:
        database.stop_embedded(home / "postgres")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert any(l.startswith("run manual__") and "GANBLR vs GANBLR++" in l for l in lines)
    execution = next(l for l in lines if l.startswith("iris") and "execution (fit + sample)" in l).split()
    assert float(execution[-2]) > 0 and float(execution[-1]) > 0  # both models have figures
    reports = list((home / "results").glob("*/report/report.html"))
    assert len(reports) == 1 and "GANBLR++" in reports[0].read_text()
    results = sorted(p.parent.name for p in (home / "results").glob("*/*/result.json"))
    assert results == ["ganblr-iris-s0", "ganblrpp-iris-s0"]
