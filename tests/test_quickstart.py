"""The README's first command: a real Airflow on the embedded PostgreSQL runs the real DAG once, the branches side by
side on cores of their own (process backend), then stops. Sized small here (a few epochs; the README's figures come
from the default, measured by benchmarks/bench_quickstart.py)."""

import json
import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from jobs import ARTIFACTS

from ganblr_bench import layout
from ganblr_bench.warehouse import database

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
ROOT = ARTIFACTS.parents[1]
SMALL = {"seeds": [0], "epochs": 2, "model_overrides": {"ganblr++": {"epochs": 3}}}


def test_the_quickstart_runs_the_branches_side_by_side_and_says_where_everything_is(tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, GANBLR_BENCH_HOME=str(home), GANBLR_BENCH_HEARTBEAT_S="2")
    try:
        proc = subprocess.run(
            [str(ROOT / "scripts" / "quickstart.sh"), json.dumps(SMALL)],
            capture_output=True,
            text=True,
            env=env,
            timeout=1500,
        )
    finally:
        database.stop_embedded(home / "postgres")
    (ARTIFACTS / "quickstart.txt").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = proc.stdout
    lines = out.splitlines()
    print("\n".join(lines[-45:]))
    for step in (
        "1/4 the model stack's virtualenv",
        "2/4 Airflow's virtualenv",
        "3/4 an embedded PostgreSQL",
        "4/4 the ganblr_benchmark DAG",
    ):
        assert f"quickstart: {step}" in out, step
    assert re.search(r"quickstart:     \.venv is \S+", out) and "your parameters" in out  # sizes; the merge said
    assert '"model_overrides": {"ganblr++": {"epochs": 3}}' in out and '"datasets": ["breast-cancer"]' in out
    assert any(re.match(r"quickstart: job [1-4] of 4: ganblrpp-breast-cancer-s0 started", line) for line in lines)
    assert re.search(r"quickstart:     ganblr-breast-cancer-s\d: heartbeat: fit, \d+ s, memory \d+ MiB", out)
    assert "quickstart: the run succeeded after" in out
    spans = {}
    for line in lines:  # the timeline: when each job ran
        found = re.match(r"  (\S+)\s+(\d+) s \|[ #]+\|\s+(\d+) s", line)
        if found:
            spans[found.group(1)] = (int(found.group(2)), int(found.group(3)))
    assert len(spans) == 4
    overlapping = [
        (a, b) for a in spans for b in spans if a < b and spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]
    ]
    assert overlapping, spans  # the branches ran side by side

    results = [
        r.model_copy(update={"placement": layout.load_placement(p.parent / layout.PLACEMENT_FILE)})
        for p in (home / "results").glob("*/*/result.json")
        for r in [layout.load_result(p)]
    ]
    assert len(results) == 4 and all(r.status == "ok" for r in results)
    for a in results:  # on cores of their own: jobs that overlapped in time never shared a core
        for b in results:
            if a.job < b.job and a.started_at < b.finished_at and b.started_at < a.finished_at:
                assert not set(a.placement.cores) & set(b.placement.cores), (a.job, b.job)
    report = next(line.split(": ", 2)[2] for line in lines if line.startswith("quickstart: the report: "))
    assert "from the floor to the real data" in Path(report).read_text() and report.startswith(str(home / "reports"))
    assert "ganblr-bench compare --all" in out and f"{ROOT}/.venv/bin/ganblr-bench" in out
    header = next(line for line in lines if line.startswith("figure") and "real data (TRTR)" in line)
    assert "independent (reference: floor)" in header and "naive Bayes (reference)" in header
    assert "(the floor)" in next(line for line in lines if line.startswith("TSTR accuracy"))
    assert datetime.fromisoformat(min(r.started_at for r in results).isoformat())  # dated, recorded
