"""The README's first command, as written: the real DAG, process backend, embedded PostgreSQL."""

import os
import re
import subprocess

import pytest
from jobs import ARTIFACTS

from ganblr_bench.warehouse import database

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
ROOT = ARTIFACTS.parents[1]


def test_quickstart_runs_the_dag_and_both_models_land_above_the_floor(tmp_path):
    """The README's command with its default (Breast Cancer, shipped in scikit-learn): the printed ladder
    puts both models at least halfway from the floor to the real data in logistic regression's TSTR."""
    home = tmp_path / "home"
    env = dict(os.environ, GANBLR_BENCH_HOME=str(home))
    try:
        proc = subprocess.run(
            [str(ROOT / "scripts" / "quickstart.sh")], capture_output=True, text=True, env=env, timeout=1500
        )
    finally:
        database.stop_embedded(home / "postgres")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    print("\n".join(lines[-30:]))
    assert "  step plan_run" in lines and any(l.startswith("    ganblrpp-breast-cancer-s1: ok") for l in lines)
    assert any(l.startswith("run manual__") and "every model side by side" in l for l in lines)
    header = next(l for l in lines if l.startswith("figure") and "real data (TRTR)" in l)
    assert "independent (reference: floor)" in header and "naive Bayes (reference)" in header
    accuracy = next(l for l in lines if l.startswith("TSTR accuracy"))
    shares = [int(s) for s in re.findall(r"\((-?\d+) %\)", accuracy)]
    assert len(shares) == 4 and shares[2] == 0  # GANBLR, GANBLR++, the floor itself, naive Bayes
    assert shares[0] >= 50 and shares[1] >= 50, accuracy
    took = int(next(l for l in lines if l.startswith("quickstart: the run took")).split()[-2])
    print(f"quick start: the run took {took} s")
    reports = list((home / "results").glob("*/report/report.html"))
    assert len(reports) == 1 and "from the floor to the real data" in reports[0].read_text()
    results = sorted(p.parent.name for p in (home / "results").glob("*/*/result.json"))
    assert len(results) == 8 and "independent-breast-cancer-s0" in results
