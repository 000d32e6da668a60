"""The metrics warehouse against a real PostgreSQL server, with real result files."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest

from ganblr_bench import figures, settings
from ganblr_bench.layout import load_result
from ganblr_bench.warehouse import database, migrate, store, views

DOC = (Path(__file__).resolve().parents[1] / "docs" / "warehouse.md").read_text()


def count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def upgraded(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        migrate.upgrade(conn)
    return dsn


def test_recording_round_trip_matches_the_result_files(warehouse, run_folder):
    outcome = store.record_paths([run_folder], warehouse, folder=run_folder.parent / "spool-rt")
    assert (outcome.recorded, outcome.duplicates, outcome.rejected) == (5, 0, [])
    with psycopg.connect(warehouse) as conn:
        for file in run_folder.glob("*/result.json"):
            r = load_result(file)
            row = conn.execute(
                "SELECT status, fit_s, execution_s, peak_memory_bytes, cpu_percent, dataset_checksum, "
                "versions->>'ganblr', attempt FROM bench.job_results WHERE job = %s",
                (r.job,),
            ).fetchone()
            assert row == (
                r.status,
                r.timings.fit_s,
                r.timings.execution_s,
                r.resources.peak_memory_bytes,
                r.resources.cpu_percent,
                r.dataset and r.dataset.checksum,
                "0.1.3",
                1,
            )
            scores = dict(
                ((c, m), v)
                for c, m, v in conn.execute(
                    "SELECT classifier, metric, value FROM bench.scores JOIN bench.job_results USING (job_result_id) "
                    "WHERE job = %s",
                    (r.job,),
                )
            )
            assert scores == {
                (s.classifier, m): getattr(s, m)
                for s in r.scores
                for m in ("tstr_accuracy", "trtr_accuracy", "tstr_macro_f1", "trtr_macro_f1")  # iris: no AUC
            }
            figures = dict(
                conn.execute(
                    "SELECT metric, value FROM bench.job_metrics JOIN bench.job_results USING (job_result_id) "
                    "WHERE job = %s",
                    (r.job,),
                ).fetchall()
            )
            if r.status == "ok":
                assert figures["fit_peak_memory_bytes"] == r.resources.phases["fit"].peak_memory_bytes
                assert figures["evaluate_cpu_s"] == r.resources.phases["evaluate"].cpu_s
                assert figures["job_peak_memory_bytes"] == r.resources.job_peak_memory_bytes
                assert figures["column_pair_trends"] == r.quality["column_pair_trends"]
                assert figures["host_load_1m"] == r.environment.host_load_1m[-1]
            placed = conn.execute("SELECT cores, placement FROM bench.job_results WHERE job = %s", (r.job,)).fetchone()
            if r.job == "ganblr-iris-s1":  # its leaser's placement.json, recorded with it
                assert placed == ("1", {"cores": [1], "waited_s": 0.5, "peers": 1, "host": "ci", "worker": "worker-1"})
                assert (figures["cores"], figures["peer_jobs"], figures["core_wait_s"]) == (1, 1, 0.5)
            elif r.status == "ok":
                assert placed[0] == ",".join(str(c) for c in r.environment.cores) and placed[1] is None
        run = conn.execute("SELECT kind, image_build_s, image_build_cached, host_cpus FROM bench.runs").fetchone()
        assert run == ("test", 95.5, False, 2)


def test_recording_twice_changes_nothing_and_a_rerun_is_a_new_attempt(warehouse, run_folder, tmp_path):
    spool = tmp_path / "spool"
    store.record_paths([run_folder], warehouse, spool)
    again = store.record_paths([run_folder], warehouse, spool)
    assert (again.recorded, again.duplicates) == (0, 5)
    assert count(warehouse, "bench.job_results") == 5 and count(warehouse, "bench.scores") == 4 * 4 * 4

    rerun = tmp_path / "run-1"
    shutil.copytree(run_folder, rerun)
    result_file = next(rerun.glob("ganblr-iris-s1/result.json"))
    data = json.loads(result_file.read_text())
    data["timings"]["fit_s"] += 1.0
    data["timings"]["execution_s"] = round(data["timings"]["fit_s"] + data["timings"]["sample_s"], 4)
    result_file.write_text(json.dumps(data))
    third = store.record_paths([rerun], warehouse, spool)
    assert (third.recorded, third.duplicates) == (1, 4)
    with psycopg.connect(warehouse) as conn:
        attempts = conn.execute("SELECT attempt FROM bench.job_results WHERE job = 'ganblr-iris-s1' ORDER BY 1")
        assert [a for (a,) in attempts] == [1, 2]
        shown = conn.execute("SELECT attempt, fit_s FROM analytics.job_results WHERE job = 'ganblr-iris-s1'").fetchall()
        assert shown == [(2, data["timings"]["fit_s"])]


def test_an_invalid_result_file_is_rejected_by_name_and_field_and_the_rest_recorded(warehouse, run_folder, tmp_path):
    copy = tmp_path / "run-1"
    shutil.copytree(run_folder, copy)
    bad = copy / "ganblrpp-iris-s2" / "result.json"
    data = json.loads(bad.read_text())
    data["resources"]["peak_memory_bytes"] = "lots"
    bad.write_text(json.dumps(data))
    outcome = store.record_paths([copy], warehouse, tmp_path / "spool")
    assert outcome.recorded == 4
    assert len(outcome.rejected) == 1
    assert str(bad) in outcome.rejected[0] and "resources.peak_memory_bytes" in outcome.rejected[0]


def test_unreachable_database_spools_then_replay_records_exactly_once(warehouse, run_folder, tmp_path):
    spool = tmp_path / "spool"
    nowhere = f"postgresql://bench:s3cret-pw@/ganblr_bench?host={tmp_path / 'no-server'}"
    with pytest.raises(store.Spooled) as err:
        store.record_paths([run_folder], nowhere, spool)
    assert "5 result(s) spooled" in str(err.value) and "s3cret-pw" not in str(err.value)
    assert len(list(spool.glob("*.json"))) == 1
    replayed = store.record([], warehouse, spool)
    assert (replayed.replayed, replayed.recorded) == (5, 5)
    assert list(spool.glob("*.json")) == []
    assert store.record_paths([run_folder], warehouse, spool).duplicates == 5
    assert count(warehouse, "bench.job_results") == 5


def test_server_stopped_mid_write_loses_nothing_and_doubles_nothing(run_folder, tmp_path, fault_row):
    """A real fault: the server shuts down while the recording transaction is half written."""
    pgdata = tmp_path / "pg"
    dsn = upgraded(database.embedded_dsn(pgdata))
    spool = tmp_path / "spool"
    blocker = psycopg.connect(dsn)
    blocker.execute("LOCK TABLE bench.scores IN ACCESS EXCLUSIVE MODE")  # the first score insert waits here
    failure = {}

    def record():
        try:
            store.record_paths([run_folder], dsn, spool)
        except store.Spooled as err:
            failure["error"] = err

    writer = threading.Thread(target=record)
    writer.start()
    with psycopg.connect(dsn, autocommit=True) as watch:
        for _ in range(200):  # until the run and a job row are written and the writer waits on the lock
            waiting = watch.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()
            if waiting[0]:
                break
            time.sleep(0.05)
        assert waiting[0] == 1
    database.stop_embedded(pgdata)
    writer.join(60)
    blocker.close()
    assert "spooled" in str(failure["error"])
    dsn = database.embedded_dsn(pgdata)  # the server comes back
    assert count(dsn, "bench.job_results") == 0  # the half-written transaction left nothing
    outcome = store.record([], dsn, spool)
    assert outcome.recorded == 5 and list(spool.glob("*.json")) == []
    assert store.record([], dsn, spool).recorded == 0
    assert count(dsn, "bench.job_results") == 5 and count(dsn, "bench.runs") == 1
    database.stop_embedded(pgdata)
    fault_row("PostgreSQL stopped in the middle of a write", "spooled, replayed once it is back", (0, 5), "5 once")


def test_reader_role_reads_views_only(warehouse, run_folder, tmp_path, monkeypatch):
    monkeypatch.setenv(settings.READER_PASSWORD.name, "reader-pw")
    with psycopg.connect(warehouse) as conn:  # the deploy step sets the reader's password (as a SCRAM verifier)
        migrate.upgrade(conn)
        stored = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'ganblr_bench_reader'").fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$4096:") and "reader-pw" not in stored
    store.record_paths([run_folder], warehouse, tmp_path / "spool")
    reader_dsn = re.sub(r"postgresql://[^@]*@", "postgresql://ganblr_bench_reader:reader-pw@", warehouse)
    with psycopg.connect(reader_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "ganblr_bench_reader"
        assert conn.execute("SELECT count(*) FROM analytics.job_results").fetchone()[0] == 5
        for statement in (
            "SELECT * FROM bench.runs",
            "SELECT * FROM bench.job_results",
            "INSERT INTO bench.runs (run_id, kind, started_at) VALUES ('x', 'cli', now())",
            "DELETE FROM analytics.runs",
            "CREATE TABLE analytics.mine (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def _documented_columns(view: str) -> list[str]:
    section = DOC.split(f"### analytics.{view}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([a-z_0-9]+)`", line.split("|")[1])
    return names


def test_each_view_has_the_documented_columns_and_values(warehouse, run_folder, tmp_path):
    store.record_paths([run_folder], warehouse, tmp_path / "spool")
    results = [load_result(f) for f in run_folder.glob("*/result.json")]
    ok = [r for r in results if r.status == "ok"]
    with psycopg.connect(warehouse) as conn:
        for view in views.names(conn):
            columns, _ = views.read(conn, view)
            expected = _documented_columns("job_results" if view == "latest_results" else view)
            assert columns == expected, view
        columns, rows = views.read(conn, "model_comparison", "dataset = %s", ("iris",))
        row = dict(zip(columns, rows[0]))
        for model, prefix in (("ganblr", "ganblr"), ("ganblr++", "ganblrpp")):
            mine = [r for r in ok if r.spec.model == model]
            assert row[f"{prefix}_ok_jobs"] == 2
            assert row[f"{prefix}_execution_s"] == pytest.approx(sum(r.timings.execution_s for r in mine) / 2)
            tstr = [sum(s.tstr_accuracy for s in r.scores) / len(r.scores) for r in mine]
            assert row[f"{prefix}_tstr_accuracy"] == pytest.approx(sum(tstr) / 2)
        assert row["image_build_s"] == 95.5
        columns, history = views.read(conn, "metric_history")
        per_job = {}
        for row in history:
            per_job.setdefault((row[0], row[4], row[2]), set()).add(row[5])
        assert len(per_job) == len(ok)
        placed_job = {k for k in figures.BY_KEY if k not in ("tstr_roc_auc", "trtr_roc_auc")}  # iris: 3 classes
        for (_, seed, model), keys in per_job.items():
            expected = placed_job if (model, seed) == ("ganblr", 1) else placed_job - {"peer_jobs", "core_wait_s"}
            assert keys == expected, (model, seed)
        _, failures = views.read(conn, "failures")
        assert [(f[2], f[7]) for f in failures] == [("ganblr-car-s1", "failed")]
        assert "dataset car" in failures[0][8]
        _, latest = views.read(conn, "latest_results")
        assert len(latest) == 5


def test_cli_results_prints_both_models_side_by_side(warehouse, run_folder, tmp_path):
    env = {"GANBLR_BENCH_DSN": warehouse, "GANBLR_BENCH_SPOOL": str(tmp_path / "spool")}
    from jobs import cli

    assert cli(["db", "record", str(run_folder)], **env).returncode == 0
    shown = cli(["results"], **env)
    assert shown.returncode == 0 and shown.stdout.startswith("Test run of ") and "reading postgresql://" in shown.stderr
    line = next(l for l in shown.stdout.splitlines() if "execution (fit + sample)" in l and l.startswith("iris"))
    assert re.search(r"execution \(fit \+ sample\)\s+[0-9.]+ ± [0-9.]+ s\s+[0-9.]+ ± [0-9.]+ s", line), line
    exported = cli(["results", "--csv", "failures"], **env)
    assert exported.stdout.splitlines()[0].startswith("run_id,run_started_at,job")
    wrong = cli(["results", "--csv", "runs; DROP TABLE bench.runs"], **env)
    assert wrong.returncode == 2 and "no view analytics.runs; DROP" in wrong.stderr
