"""The fault suite: what a bad night does to the record. Real parts throughout: a real PostgreSQL,
real result files of real jobs, a real full disk (tmpfs), real processes killed for real, a real
Docker client with no engine behind its socket. Each test adds its row to the fault table printed
at the end of the run (fault, outcome recorded, rows before -> after, the other jobs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from jobs import cli, write_spec
from test_store import count

from ganblr_bench import layout, settings
from ganblr_bench.errors import JobFailed
from ganblr_bench.run import containers, postmortem, process
from ganblr_bench.run.plan import plan_run
from ganblr_bench.warehouse import migrate, store
from ganblr_bench.warehouse import spool as spool_files


def rows(dsn: str) -> int:
    return count(dsn, "bench.job_results")


def unreachable(tmp_path: Path) -> str:
    """A DSN whose server does not exist: the database is down."""
    return f"postgresql://bench@/ganblr_bench?host={tmp_path / 'no-server'}"


def copy_run(run_folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / run_folder.name
    shutil.copytree(run_folder, copy)
    return copy


def test_a_poisoned_result_among_good_ones_is_kept_aside_and_the_rest_recorded(
    warehouse, run_folder, tmp_path, fault_row
):
    """A result the contract accepts but PostgreSQL refuses (a row count past its integer column)."""
    run = copy_run(run_folder, tmp_path)
    poisoned = run / "ganblr-iris-s1" / "result.json"
    data = json.loads(poisoned.read_text())
    data["dataset"]["train_rows"] = 2**40
    poisoned.write_text(json.dumps(data))
    spool = tmp_path / "spool"
    outcome = store.record_paths([run], warehouse, spool)
    assert (outcome.recorded, outcome.spooled) == (4, 0)
    assert any("ganblr-iris-s1: refused by the database (integer out of range)" in line for line in outcome.rejected)
    kept = list((spool / spool_files.REJECTED_DIR).glob("*.json"))
    assert len(kept) == 1 and "integer out of range" in json.loads(kept[0].read_text())["reasons"]["ganblr-iris-s1"]
    assert list(spool.glob("*.json")) == []  # not spooled: the next record is not poisoned by it
    again = store.record_paths([run], warehouse, spool)
    assert (again.recorded, again.duplicates, again.spooled) == (0, 4, 0)
    fault_row(
        "poisoned result among good ones",
        "refused one kept in spool/rejected, named",
        (0, rows(warehouse)),
        "4 recorded once",
    )


def test_an_unreadable_spool_file_is_moved_aside_by_name_and_the_others_replayed(
    warehouse, run_folder, tmp_path, fault_row
):
    spool = tmp_path / "spool"
    nowhere = unreachable(tmp_path)
    with pytest.raises(store.Spooled):
        store.record_paths([run_folder], nowhere, spool)
    (spool / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (spool / "list.json").write_text("[1, 2, 3]")
    before = rows(warehouse)
    replayed = cli(["db", "replay"], GANBLR_BENCH_DSN=warehouse, GANBLR_BENCH_SPOOL=str(spool))
    assert replayed.returncode == 1, replayed.stderr
    assert (
        "binary.json: unreadable spool file" in replayed.stderr
        and "list.json: unreadable spool file" in replayed.stderr
    )
    assert "replayed from spool 5" in replayed.stdout
    assert sorted(p.name for p in (spool / spool_files.REJECTED_DIR).glob("*.json")) == ["binary.json", "list.json"]
    assert list(spool.glob("*.json")) == []
    fault_row(
        "unreadable spool files (binary, a JSON list)",
        "moved to spool/rejected, named by db replay",
        (before, rows(warehouse)),
        "5 replayed once",
    )


def test_a_full_spool_disk_says_so_and_loses_nothing(warehouse, run_folder, tmp_path, fault_row):
    """A real full disk: a 4 KiB tmpfs as the spool (one batch is larger), while the database is unreachable."""
    spool = tmp_path / "spool"
    spool.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(spool)], check=True)
    try:
        nowhere = unreachable(tmp_path)
        with pytest.raises(
            store.StoreError,
            match=r"spool .* could not be written \(No space left on device\).*stay in "
            r"their run folders",
        ) as err:
            store.record_paths([run_folder], nowhere, spool)
        assert not isinstance(err.value, store.Spooled)
    finally:
        subprocess.run(["umount", str(spool)], check=True)
    before = rows(warehouse)
    assert store.record_paths([run_folder], warehouse, tmp_path / "spool2").recorded == 5  # the folders held it all
    fault_row(
        "spool disk full while the database is down",
        "error names the disk; run folder intact",
        (before, rows(warehouse)),
        "5 recorded once later",
    )


def test_duplicate_delivery_records_nothing_twice(warehouse, run_folder, tmp_path, fault_row):
    spool = tmp_path / "spool"
    store.record_paths([run_folder], warehouse, spool)
    before = rows(warehouse)
    batch, _ = layout.collect(run_folder)
    spool_files.spool(batch, spool)  # the same batch delivered again, through the spool
    again = store.record_paths([run_folder], warehouse, spool)
    assert (again.recorded, again.replayed, again.duplicates) == (0, 5, 10)
    fault_row("duplicate delivery (a retry and a replay)", "duplicates skipped", (before, rows(warehouse)), "5 once")


def test_a_lock_held_elsewhere_times_out_and_spools_instead_of_hanging(
    warehouse, run_folder, tmp_path, monkeypatch, fault_row
):
    monkeypatch.setenv(settings.LOCK_TIMEOUT_S.name, "1")  # the setting ops would lower, so the test waits 1 s, not 30
    spool = tmp_path / "spool"
    with psycopg.connect(warehouse) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.MIGRATION_LOCK,))  # a migration in progress
        assert store.record_paths([run_folder], warehouse, spool).recorded == 5  # recording never migrates
        holder.execute("LOCK TABLE bench.job_results IN ACCESS EXCLUSIVE MODE")  # an analyst's long lock
        started = time.monotonic()
        rerun = copy_run(run_folder, tmp_path)
        result = rerun / "ganblr-iris-s2" / "result.json"
        data = json.loads(result.read_text())
        data["timings"]["wall_s"] += 1
        result.write_text(json.dumps(data))
        with pytest.raises(store.Spooled, match="lock timeout"):
            store.record_paths([rerun], warehouse, spool)
        assert time.monotonic() - started < 20
    assert store.record([], warehouse, spool).recorded == 1  # the lock is gone: the spooled attempt goes in
    fault_row(
        "locks held elsewhere (migration, table)",
        "no wait on the first; the second spooled after 1 s",
        (0, rows(warehouse)),
        "5 + 1 attempt, once",
    )


def test_an_out_of_date_schema_is_refused_by_the_writer_and_spooled(fresh_db, run_folder, tmp_path, fault_row):
    spool = tmp_path / "spool"
    with pytest.raises(
        store.Spooled,
        match=f"schema version 0, this ganblr-bench writes version {len(migrate.migrations())}: run 'ganblr-bench db upgrade'",
    ):
        store.record_paths([run_folder], fresh_db, spool)
    with psycopg.connect(fresh_db) as conn:
        migrate.upgrade(conn)  # the deploy step
    assert store.record([], fresh_db, spool).recorded == 5
    fault_row("schema behind the writer", "spooled, names 'db upgrade'", (0, rows(fresh_db)), "5 after the upgrade")


def test_a_stale_result_cannot_hide_a_kill(warehouse, tmp_path, mirror, fault_row):
    """Try 1 left an ok result; try 2 is killed for real (SIGKILL) while it fits: the record says killed."""
    planned = plan_run(
        {"models": ["ganblr"], "datasets": ["adult"], "seeds": [0], "epochs": 500, "references": False},
        "stale",
        tmp_path / "results",
    )
    job = Path(planned.folder) / "ganblr-adult-s0"
    (job / "result.json").write_text(json.dumps({"stale": "try 1"}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganblr_bench.cli", "run", "--spec", str(job / "spec.json"), "--out", str(job)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while (job / "result.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -9
    assert layout.missing_results(Path(planned.folder)) == ["ganblr-adult-s0"]  # try 1's result was moved aside
    status, error = postmortem.classify_exit(False, proc.returncode)
    postmortem.complete_missing(Path(planned.folder), "ganblr-adult-s0", status, error)
    store.record_paths([Path(planned.folder)], warehouse, tmp_path / "spool")
    with psycopg.connect(warehouse) as conn:
        recorded = conn.execute("SELECT status, error FROM bench.job_results").fetchall()
    assert recorded == [("timeout", error)] and "stopped from outside (exit code -9)" in error
    assert json.loads((job / "result.superseded-1.json").read_text()) == {"stale": "try 1"}
    fault_row("stale result of try 1 + try 2 killed", "timeout (stopped from outside)", (0, 1), "-")


def test_an_engine_that_does_not_answer_at_settling_still_leaves_every_job_recorded(warehouse, tmp_path, fault_row):
    """A real Docker client whose socket has no engine behind it (the engine stopped)."""
    import docker

    planned = plan_run(
        {"models": ["ganblr", "ganblr++"], "datasets": ["iris"], "seeds": [0], "references": False},
        "engine-down",
        tmp_path / "results",
    )
    folder = Path(planned.folder)
    postmortem.complete_missing(folder, "ganblr-iris-s0", "failed", "stands in for the branch that finished")
    lines = containers.settle_containers(
        lambda: docker.APIClient(base_url=f"unix://{tmp_path / 'no-engine.sock'}", timeout=5), folder, planned.key
    )
    assert lines == [
        "ganblrpp-iris-s0: the job's container could not be inspected: the Docker engine did not "
        "answer (DockerException)"
    ]
    assert store.record_paths([folder], warehouse, tmp_path / "spool").recorded == 2
    fault_row(
        "Docker engine gone when settling",
        "failed, naming the engine",
        (0, rows(warehouse)),
        "the finished branch recorded",
    )


def test_a_process_job_past_its_task_timeout_is_a_timeout_and_not_retried(tmp_path, mirror, fault_row):
    planned = plan_run(
        {"models": ["ganblr"], "datasets": ["adult"], "seeds": [0], "epochs": 500, "references": False},
        "slow",
        tmp_path / "results",
        backend="process",
    )
    job = Path(planned.folder) / "ganblr-adult-s0"
    runner = str(Path(sys.executable).with_name("ganblr-bench"))
    with pytest.raises(JobFailed) as err:
        process.run_process(job, runner, Path(os.environ["GANBLR_BENCH_CACHE"]), timeout_s=8)
    assert err.value.retryable is False
    result = json.loads((job / "result.json").read_text())
    assert result["status"] == "timeout" and "ran past its task's 8 s" in result["error"]
    fault_row("process job past its task timeout", "timeout, no retry", (0, 0), "-")


def test_a_process_job_gets_no_secrets_of_the_scheduler():
    env = process.process_env(
        Path("/cache"),
        {
            "PATH": "/bin",
            "GANBLR_BENCH_DSN": "postgresql://u:secret@db/x",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "secret",
            "OPENBLAS_CORETYPE": "X",
        },
    )
    assert env == {
        "PATH": "/bin",
        "OPENBLAS_CORETYPE": "X",
        "GANBLR_BENCH_CACHE": "/cache",
        "GANBLR_BENCH_OFFLINE": "1",
    }


def test_bad_input_on_the_command_line_exits_2_before_any_work(tmp_path, fault_row):
    (tmp_path / "latin.json").write_bytes('{"model": "ganblr", "dataset": "caf\xe9"}'.encode("latin-1"))
    spec = write_spec(tmp_path / "typed", model="ganblr", dataset="iris", seed="7")
    for path, words in (
        (tmp_path / "latin.json", "not UTF-8 text"),
        (tmp_path, "is a folder"),
        (spec, "seed: Input should be a valid integer"),
    ):
        proc = cli(["run", "--spec", str(path), "--out", str(tmp_path / "out")])
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()
    fault_row("bad spec on the CLI (encoding, folder, type)", "exit 2 naming the problem", (0, 0), "-")
