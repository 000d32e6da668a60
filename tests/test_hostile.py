"""The hostile-input suite: files a job can touch, spool files and settings, as an attacker or a bad night would
leave them. Real files, real links, a real FIFO, a real read-only mount, the real embedded PostgreSQL and the real
CLI as a separate process. Each test adds its row to the table printed at the end of the run (input, outcome,
rows before -> after), and every test ends by recording a good run: no bad input stops a healthy database from
accepting good results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from jobs import cli, run_cli, write_spec

from ganblr_bench import layout
from ganblr_bench.analysis import compare
from ganblr_bench.errors import ContractError
from ganblr_bench.warehouse import spool as spool_files
from ganblr_bench.warehouse import store

GOOD = ("ganblr-iris-s1", "ganblr-iris-s2", "ganblrpp-iris-s1", "ganblrpp-iris-s2", "ganblr-car-s1")


def rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM bench.job_results").fetchone()[0])


def recorded_jobs(dsn: str) -> list[tuple[str, int]]:
    with psycopg.connect(dsn) as conn:
        return [tuple(r) for r in conn.execute("SELECT job, attempt FROM bench.job_results ORDER BY job, attempt")]


def copy_run(run_folder: Path, root: Path, name: str = "run-1") -> Path:
    copy = root / name
    shutil.copytree(run_folder, copy)
    return copy


def rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def still_healthy(dsn: str, run_folder: Path, tmp_path: Path) -> None:
    """After the hostile input: a good run (under another id) is recorded whole."""
    good = copy_run(run_folder, tmp_path / "after", "good-after")
    rewrite(good / "run.json", lambda d: d.update(run_id="good-after"))
    for path in good.glob("*/result.json"):
        rewrite(path, lambda d: d["spec"].update(run=None))
    outcome = store.record_paths([good], dsn, tmp_path / "spool-after")
    assert outcome.recorded == len(GOOD) and outcome.rejected == []


def db_record(dsn: str, tmp_path: Path, *paths: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ganblr_bench.cli", "db", "record", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ | {"GANBLR_BENCH_DSN": dsn, "GANBLR_BENCH_SPOOL": str(tmp_path / "spool")} | env,
    )


def one_line_no_traceback(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("ganblr-bench: reading ")]
    assert proc.returncode == code and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return lines[0]


# ---------------------------------------------------------------- links and special files


def test_a_result_that_is_a_link_to_a_file_outside_the_run_is_not_followed(
    warehouse, run_folder, tmp_path, hostile_row
):
    run = copy_run(run_folder, tmp_path)
    outside = tmp_path / "outside.json"
    shutil.copy(run / "ganblr-iris-s1" / "result.json", outside)
    (run / "ganblr-iris-s1" / "result.json").unlink()
    (run / "ganblr-iris-s1" / "result.json").symlink_to(outside)
    outcome = store.record_paths([run], warehouse, tmp_path / "spool")
    assert any("ganblr-iris-s1/result.json: is a link" in r for r in outcome.rejected)
    assert "ganblr-iris-s1" not in [j for j, _ in recorded_jobs(warehouse)] and outcome.recorded == 4
    hostile_row("result.json a link to a file outside the run", "rejected by name, not followed", (0, rows(warehouse)))
    still_healthy(warehouse, run_folder, tmp_path)


def test_a_job_folder_that_is_a_link_to_a_folder_elsewhere_is_not_recorded(
    warehouse, run_folder, tmp_path, hostile_row
):
    run = copy_run(run_folder, tmp_path)
    elsewhere = tmp_path / "elsewhere" / "ganblr-iris-s9"
    shutil.copytree(run / "ganblr-iris-s1", elsewhere)
    rewrite(elsewhere / "result.json", lambda d: (d.update(job="ganblr-iris-s9"), d["spec"].update(seed=9)))
    (run / "ganblr-iris-s9").symlink_to(elsewhere, target_is_directory=True)
    outcome = store.record_paths([run], warehouse, tmp_path / "spool")
    assert any("ganblr-iris-s9: a link to a folder elsewhere" in r for r in outcome.rejected)
    with psycopg.connect(warehouse) as conn:
        uris = [r[0] for r in conn.execute("SELECT artifact_uri FROM bench.job_results")]
    assert all(u.startswith(str(run.resolve())) for u in uris) and len(uris) == 5
    hostile_row("a job folder that is a link elsewhere", "rejected, artifact_uri never outside", (0, rows(warehouse)))
    still_healthy(warehouse, run_folder, tmp_path)


def test_a_fifo_named_result_json_does_not_hang_recording(warehouse, run_folder, tmp_path, hostile_row):
    run = copy_run(run_folder, tmp_path)
    (run / "ganblr-iris-s1" / "result.json").unlink()
    os.mkfifo(run / "ganblr-iris-s1" / "result.json")
    os.mkfifo(run / "ganblr-iris-s2" / "placement.json")
    proc = db_record(warehouse, tmp_path, run, timeout=60)  # a hang would time out here
    assert proc.returncode == 1 and "not a regular file (a FIFO" in proc.stderr
    assert rows(warehouse) == 3  # s1 refused; s2 refused for its placement; the other three recorded
    hostile_row("a FIFO as result.json and as placement.json", "rejected at once, no hang", (0, rows(warehouse)))
    still_healthy(warehouse, run_folder, tmp_path)


def test_the_runner_never_writes_through_a_link_planted_in_its_output_folder(tmp_path, hostile_row):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.csv"
    victim.write_text("precious\n")
    (out / "synthetic.csv").symlink_to(victim)
    (out / "result.json").symlink_to(tmp_path / "victim-result.json")
    spec = write_spec(tmp_path / "in", model="independent", dataset="iris", seed=0, classifiers=["lr"])
    code, _, err = run_cli(spec, out)
    assert code == 0, err
    assert victim.read_text() == "precious\n" and not (tmp_path / "victim-result.json").exists()
    assert not (out / "synthetic.csv").is_symlink() and (out / "synthetic.earlier-1.csv").is_symlink()
    assert layout.load_result(out / "result.json").status == "ok"
    hostile_row("links planted as synthetic.csv and result.json", "moved aside; written fresh", (0, 0))


# ---------------------------------------------------------------- results that lie about themselves


def test_a_result_that_says_it_is_another_job_is_rejected_and_takes_no_place(
    warehouse, run_folder, tmp_path, hostile_row
):
    run = copy_run(run_folder, tmp_path)
    rewrite(run / "ganblr-iris-s2" / "result.json", lambda d: d.update(job="ganblr-iris-s1"))
    outcome = store.record_paths([run], warehouse, tmp_path / "spool")
    assert any("says it is job 'ganblr-iris-s1', in folder 'ganblr-iris-s2'" in r for r in outcome.rejected)
    assert ("ganblr-iris-s1", 2) not in recorded_jobs(warehouse) and ("ganblr-iris-s1", 1) in recorded_jobs(warehouse)
    hostile_row("result in folder s2 says it is job s1", "rejected, naming both; s1 once", (0, rows(warehouse)))
    still_healthy(warehouse, run_folder, tmp_path)


@pytest.mark.parametrize("job", ["../../etc/passwd", "ganblr-iris-s1\n", "ganblr iris"])
def test_job_names_that_are_not_names_are_refused(warehouse, run_folder, tmp_path, hostile_row, job):
    run = copy_run(run_folder, tmp_path)
    rewrite(run / "ganblr-iris-s1" / "result.json", lambda d: d.update(job=job))
    outcome = store.record_paths([run], warehouse, tmp_path / "spool")
    assert any("job: must be 1-128 letters, digits" in r for r in outcome.rejected) and outcome.recorded == 4
    hostile_row(f"job name {job!r}", "rejected: not a name", (0, rows(warehouse)))


def test_a_result_of_another_run_is_not_recorded_into_this_one(warehouse, run_folder, tmp_path, hostile_row):
    run = copy_run(run_folder, tmp_path)
    rewrite(run / "ganblr-iris-s1" / "result.json", lambda d: d["spec"].update(run="some-other-run"))
    outcome = store.record_paths([run], warehouse, tmp_path / "spool")
    assert any("belongs to run 'some-other-run', in run folder 'run-1'" in r for r in outcome.rejected)
    hostile_row("a result naming another run", "rejected, naming both runs", (0, rows(warehouse)))


# ---------------------------------------------------------------- values the database or JSON cannot hold


@pytest.mark.parametrize(
    "label, change, words",
    [
        ("NaN in a timing", lambda d: d["timings"].update(fit_s=float("nan")), "not a number JSON can hold"),
        (
            "Infinity in a score",
            lambda d: d["scores"][0].update(tstr_accuracy=float("inf")),
            "not a number JSON can hold",
        ),
        ("a start in year 1", lambda d: d.update(started_at="0001-01-01T00:00:00+00:00"), "outside 2000-2100"),
        ("a lone surrogate in a text", lambda d: d["environment"].update(hostname="\udcff"), "lone surrogate"),
        ("a NUL in a text", lambda d: d["environment"].update(hostname="a\x00b"), "NUL character"),
        ("a 70,000-character text", lambda d: d["environment"].update(hostname="x" * 70_000), "more than 65536"),
        (
            "an artifact path leaving the folder",
            lambda d: d["artifacts"].update(synthetic="../../x"),
            "not a path inside",
        ),
    ],
)
def test_values_postgresql_or_json_cannot_hold_are_refused_at_the_door(
    warehouse, run_folder, tmp_path, hostile_row, label, change, words
):
    run = copy_run(run_folder, tmp_path)
    path = run / "ganblr-iris-s1" / "result.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=True))  # NaN, Infinity and \udcff as Python's json writes them
    proc = db_record(warehouse, tmp_path, run)
    assert proc.returncode == 1 and words in proc.stderr and len(proc.stderr) < 2000, proc.stderr[-2000:]
    assert rows(warehouse) == 4  # the good jobs of the same run are recorded
    results = cli(["results", "--run", "run-1", "--format", "json"], GANBLR_BENCH_DSN=warehouse)
    json.loads(results.stdout)  # standard JSON, whatever the files held
    hostile_row(label, "rejected at the door; the rest recorded", (0, rows(warehouse)))
    still_healthy(warehouse, run_folder, tmp_path)


@pytest.mark.parametrize(
    "label, text, words",
    [
        ("a 50 MB value", '{"job": "' + "x" * (50 << 20) + '"}', "more than the 4194304 a result.json may have"),
        ("JSON nested 100,000 deep", "[" * 100_000 + "]" * 100_000, "nested deeper than 32 levels"),
        ("a key twice", '{"job": "a", "job": "b"}', "key 'job' appears twice"),
    ],
)
def test_huge_deep_or_ambiguous_json_is_refused_with_a_short_message(
    warehouse, run_folder, tmp_path, hostile_row, label, text, words
):
    run = copy_run(run_folder, tmp_path)
    (run / "ganblr-iris-s1" / "result.json").write_text(text)
    proc = db_record(warehouse, tmp_path, run)
    assert proc.returncode == 1 and words in proc.stderr and len(proc.stderr) < 2000 and "Traceback" not in proc.stderr
    assert rows(warehouse) == 4
    hostile_row(label, "rejected with a short message", (0, rows(warehouse)))


# ---------------------------------------------------------------- a spool that always recovers


def test_a_spooled_batch_the_database_refuses_for_its_shape_is_quarantined_and_the_rest_go_in(
    warehouse, run_folder, tmp_path, hostile_row
):
    spool = tmp_path / "spool"
    batch, _ = layout.collect(run_folder)
    path = spool_files.spool(batch, spool)
    rewrite(path, lambda d: d["results"][0].update(artifact_uri={"not": "a path"}))
    nested = spool / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000)
    (spool / "rejected").write_text("a file where the rejected folder goes")
    good = copy_run(run_folder, tmp_path, "run-2")
    rewrite(good / "run.json", lambda d: d.update(run_id="run-2"))
    for p in good.glob("*/result.json"):
        rewrite(p, lambda d: d["spec"].update(run=None))
    outcome = store.record_paths([good], warehouse, spool)  # not exit 3, not spooled behind the bad files
    assert outcome.recorded == 5 and outcome.spooled == 0
    assert sorted(p.name for p in (spool / "rejected").glob("*.json")) == sorted([path.name, "nested.json"])
    assert (spool / "rejected.not-a-folder-1").read_text().startswith("a file")
    assert list(spool.glob("*.json")) == []
    hostile_row(
        "spool: a bad shape, 100,000 deep, 'rejected' a file", "quarantined; later results in", (0, rows(warehouse))
    )


def test_replays_running_at_once_record_everything_once_and_never_crash(warehouse, run_folder, tmp_path, hostile_row):
    spool = tmp_path / "spool"
    for i in range(6):
        folder = copy_run(run_folder, tmp_path / f"c{i}", f"conc-{i}")
        rewrite(folder / "run.json", lambda d, i=i: d.update(run_id=f"conc-{i}"))
        batch, _ = layout.collect(folder)
        spool_files.spool(batch, spool)
    env = os.environ | {"GANBLR_BENCH_DSN": warehouse, "GANBLR_BENCH_SPOOL": str(spool)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ganblr_bench.cli", "db", "replay"], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert rows(warehouse) == 6 * 5 and list(spool.glob("*.json")) == []
    hostile_row("three db replay processes at once", "each batch once, no crash", (0, rows(warehouse)))


# ---------------------------------------------------------------- settings and arguments


@pytest.mark.parametrize(
    "args, env, words",
    [
        (
            ["db", "replay"],
            {"GANBLR_BENCH_LOCK_TIMEOUT_S": "nan"},
            "GANBLR_BENCH_LOCK_TIMEOUT_S='nan': give a number of seconds",
        ),
        (
            ["db", "replay"],
            {"GANBLR_BENCH_LOCK_TIMEOUT_S": "-5"},
            "GANBLR_BENCH_LOCK_TIMEOUT_S='-5': give a number of seconds",
        ),
        (["detect"], {"GANBLR_BENCH_THRESHOLDS": "{window"}, "GANBLR_BENCH_THRESHOLDS='{window': not JSON"),
        (["detect"], {"GANBLR_BENCH_THRESHOLDS": '{"window": 0}'}, "GANBLR_BENCH_THRESHOLDS='{\"window\": 0}': window"),
        (["runs", "--limit", "-1"], {}, "argument --limit: -1: give a number from 1 to 10000"),
        (["detect", "--run", "no-such-run"], {}, "no run 'no-such-run' in the warehouse"),
        (["results", "--run", "no-such-run"], {}, "no run 'no-such-run' in the warehouse"),
        (["view", "runs; DROP TABLE bench.runs"], {}, "no view analytics.runs; DROP TABLE bench.runs"),
    ],
)
def test_bad_settings_and_arguments_are_one_line_with_exit_2(warehouse, hostile_row, args, env, words):
    proc = cli(args, GANBLR_BENCH_DSN=warehouse, **env)
    line = one_line_no_traceback(proc)
    assert words in line, line
    hostile_row(f"{' '.join(args)} {' '.join(f'{k}={v}' for k, v in env.items())}".strip(), "exit 2, one line", (0, 0))


def test_a_home_that_is_a_file_and_a_read_only_out_folder_are_one_line_errors(tmp_path, hostile_row):
    home = tmp_path / "home"
    home.write_text("not a folder")
    line = one_line_no_traceback(cli(["db", "status"], GANBLR_BENCH_HOME=str(home), GANBLR_BENCH_DSN=""))
    assert "GANBLR_BENCH_HOME=" in line and "is a file, not a folder" in line
    readonly = tmp_path / "ro"
    readonly.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(readonly)], check=True)
    try:
        spec = write_spec(tmp_path / "in", model="independent", dataset="iris", seed=0)
        proc = cli(["run", "--spec", str(spec), "--out", str(readonly / "job")])
    finally:
        subprocess.run(["umount", str(readonly)], check=True)
    assert "--out" in one_line_no_traceback(proc) and "Read-only file system" in proc.stderr
    hostile_row("GANBLR_BENCH_HOME a file; run --out on a read-only mount", "exit 2, one line", (0, 0))


def test_reading_from_the_wrong_folder_never_creates_an_empty_database(tmp_path, hostile_row):
    proc = cli(["runs"], GANBLR_BENCH_HOME=str(tmp_path / "elsewhere"), GANBLR_BENCH_DSN="")
    assert "no metrics database here" in one_line_no_traceback(proc) and not (tmp_path / "elsewhere").exists()
    hostile_row("runs from a folder with no database", "exit 2 naming where it looked; nothing made", (0, 0))


# ---------------------------------------------------------------- values handed to other programs


def test_an_option_shaped_commit_never_reaches_git(tmp_path, run_folder, hostile_row):
    run = copy_run(run_folder, tmp_path)
    target = tmp_path / "written-by-git"
    rewrite(run / "run.json", lambda d: d.update(git_sha=f"--output={target}"))
    batch, rejected = layout.collect(run)
    assert batch is None and any("git_sha" in r and "not a commit (40 hex digits)" in r for r in rejected)
    assert compare._commits(Path.cwd(), f"--output={target}", "a" * 40) == ""
    assert not target.exists()
    with pytest.raises(ContractError):
        layout.load_run(run / "run.json")
    hostile_row("git_sha '--output=PATH' in run.json", "run.json refused; git never called", (0, 0))
