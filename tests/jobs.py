"""Helpers for tests that run real jobs: write a spec, run the CLI, read the result."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from ganblr_bench.contract import QUALITY_METRICS, JobResult
from ganblr_bench.generator_catalog import UNDER_TEST
from ganblr_bench.layout import load_result, load_run

ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts"  # kept for people to look at
SMALL = {"row_limit": 600, "params": {"epochs": 1, "batch_size": 64}}


def write_spec(folder: Path, **spec) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run ``ganblr-bench ARGS`` as a separate process, as users do."""
    return subprocess.run(
        [sys.executable, "-m", "ganblr_bench.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, **env),
    )


def run_cli(spec: Path, out: Path, **env: str) -> tuple[int, str, str]:
    proc = cli(["run", "--spec", str(spec), "--out", str(out)], **env)
    return proc.returncode, proc.stdout, proc.stderr


def assert_complete(result: JobResult, classifiers=("lr", "mlp", "rf", "xgb")) -> None:
    """Every figure of an ok result is present and plausible."""
    assert result.status == "ok", result.error
    t, r = result.timings, result.resources
    for name in ("startup_s", "load_s", "fit_s", "sample_s", "evaluate_s", "execution_s", "wall_s"):
        assert getattr(t, name) > 0, name
    assert t.execution_s == round(t.fit_s + t.sample_s, 4)
    assert t.startup_s < t.wall_s and t.execution_s < t.wall_s
    assert r.peak_memory_bytes > 50 * 2**20 and 0 <= r.cpu_percent <= 100 * r.cpus_available + 5
    if result.spec.model in UNDER_TEST:  # a reference fits and samples in milliseconds: its CPU may read 0
        assert r.cpu_seconds > 0 and r.cpu_percent > 0
    assert list(r.phases) == ["startup", "fit", "sample", "evaluate"] and r.memory_source == "process-peak-rss"
    assert r.peak_memory_bytes == max(r.phases["fit"].peak_memory_bytes, r.phases["sample"].peak_memory_bytes)
    assert r.job_peak_memory_bytes > 0 and r.job_cpu_seconds >= r.cpu_seconds
    assert [s.classifier for s in result.scores] == list(classifiers)
    for s in result.scores:
        assert 0 <= s.tstr_accuracy <= 1 and 0 <= s.trtr_accuracy <= 1
        assert 0 <= s.tstr_macro_f1 <= 1 and 0 <= s.trtr_macro_f1 <= 1 and s.trtr_cached is not None
    assert set(result.quality) == set(QUALITY_METRICS) and 0 < result.quality["column_shapes"] <= 1
    assert result.environment.cores and result.environment.host_load_1m
    assert result.dataset.train_rows > 0 and result.dataset.test_rows > 0 and len(result.dataset.checksum) == 64
    assert result.environment.versions["ganblr"] == "0.1.3"
    assert len(result.marginals) == 3 and all(
        0 <= m.score <= 1 and len(m.real) == len(m.labels) for m in result.marginals
    )
    assert [m.score for m in result.marginals] == sorted(m.score for m in result.marginals)  # the most distorted first


def read(out: Path) -> JobResult:
    return load_result(out / "result.json")


def history_runs(run_folder, root, count, scale, before=None, step=timedelta(days=1), quality=None):
    """Copies of a real run, started ``step`` apart just before ``before`` (default: the run's start), with
    fit and execution times scaled: a history seeded for a test, so that the real run looks slower.
    ``quality``: {figure: value} written into every ok copy (e.g. a better fidelity than the real run's)."""
    folders = []
    run = load_run(run_folder / "run.json")
    before = before or run.started_at
    for i in range(count):
        folder = root / f"hist-{i}"
        shutil.copytree(run_folder, folder)
        data = json.loads((folder / "run.json").read_text())
        data["run_id"] = f"hist-{i}"
        data["started_at"] = (before - step * (count - i)).isoformat()
        (folder / "run.json").write_text(json.dumps(data))
        for path in folder.glob("*/result.json"):
            r = json.loads(path.read_text())
            r["spec"]["run"] = None if r["spec"].get("run") is None else folder.name  # it belongs to its copy
            if r["status"] == "ok":
                for key in ("fit_s", "execution_s"):
                    r["timings"][key] = round(r["timings"][key] * scale * (1 + 0.01 * (i % 3)), 4)
                for key, value in (quality or {}).items():
                    r["quality"][key] = value * (1 + 0.001 * (i % 3))
            path.write_text(json.dumps(r))
        folders.append(folder)
    return folders


def in_chromium(page: str, folder: Path, shot: Path) -> str:
    """What a browser shows of ``page`` (HTML as served after Airflow's login): headless Chromium's DOM, and a
    screenshot kept at ``shot`` for people to look at."""
    folder.mkdir(parents=True, exist_ok=True)
    shot.parent.mkdir(parents=True, exist_ok=True)
    saved = folder / "page.html"
    saved.write_text(page)
    chromium = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={folder / 'profile'}",
        "--window-size=1400,2200",
    ]
    dom = subprocess.run(chromium + ["--dump-dom", saved.as_uri()], capture_output=True, text=True, timeout=120)
    subprocess.run(chromium + [f"--screenshot={shot}", saved.as_uri()], capture_output=True, timeout=120)
    return dom.stdout


def make_csv(path: Path, rows: int = 120, classes: tuple[str, ...] = ("good", "bad")) -> str:
    """A small table with a header, made here (no file of anyone's): two numeric columns, two categorical ones,
    a target that depends on them; returns its sha256."""
    lines = ["height,colour,weight,shape,label"]
    for i in range(rows):
        height = 150 + (i * 37) % 45
        colour = ("red", "green", "blue")[i % 3]
        label = classes[(height > 170) % len(classes)] if i % 7 else classes[0]
        lines.append(f"{height},{colour},{60 + (i * 13) % 31}.5,{('round', 'square')[i % 2]},{label}")
    path.write_text("\n".join(lines) + "\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def register(folder: Path, csv_name: str = "table.csv", **fields: object) -> Path:
    """A registration of ``csv_name`` in ``folder`` (the table made when it is not there): the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / csv_name
    sha = hashlib.sha256(table.read_bytes()).hexdigest() if table.exists() else make_csv(table)
    data = {"name": "mytable", "file": csv_name, "sha256": sha, "target": "label", "source": "made in a test"}
    data.update(fields)
    path = folder / f"{data['name']}.json"
    path.write_text(json.dumps(data))
    return path
