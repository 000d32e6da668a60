"""Retention: a realistic results tree (runs of many ages, failures resolved and not, a run not recorded, one still
running, the TRTR cache, task logs) and a real image set; the policy deletes exactly what it says and keeps the rest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from jobs import cli

from ganblr_bench.run import retention
from ganblr_bench.warehouse import store

POLICY = retention.Policy(keep_days=30, keep_runs=2, problem_days=120, folder_days=300, trtr_days=20, log_days=10)
NOW = datetime.now(UTC)


def a_run(
    run_folder: Path, results: Path, name: str, age_days: int, failed: tuple[str, ...] = (), finished=True
) -> Path:
    """Seeded (the test says so): a copy of the real run, started ``age_days`` ago, with ``failed`` jobs failed."""
    folder = results / name
    shutil.copytree(run_folder, folder)
    shutil.rmtree(folder / "ganblr-car-s1")  # the fixture's failure: each run here fails only as told
    run = json.loads((folder / "run.json").read_text())
    started = NOW - timedelta(days=age_days)
    run.update(
        run_id=name,
        started_at=started.isoformat(),
        finished_at=(started + timedelta(minutes=30)).isoformat() if finished else None,
    )
    (folder / "run.json").write_text(json.dumps(run))
    for path in folder.glob("*/result.json"):
        data = json.loads(path.read_text())
        data["spec"]["run"] = None
        if data["job"] in failed:
            data.update(status="failed", error="RuntimeError: a model crash", scores=[], timings={}, quality={})
        path.write_text(json.dumps(data))
    return folder


@pytest.fixture
def tree(warehouse, run_folder, tmp_path):
    results, reports, logs = tmp_path / "results", tmp_path / "reports", tmp_path / "logs"
    results.mkdir()
    runs = {
        "r400": (400, ()),
        "r320": (320, ()),
        "r200": (200, ("ganblrpp-iris-s1",)),  # resolved: later runs' GANBLR++ on iris all ok
        "r150": (150, ("ganblr-iris-s1",)),  # never resolved (GANBLR fails every later night), but past 120 days
        "r100": (100, ("ganblr-iris-s1",)),  # unresolved and younger than 120 days: kept
        "r45": (45, ("ganblr-iris-s1",)),
        "r20": (20, ("ganblr-iris-s1",)),
        "r2": (2, ("ganblr-iris-s1",)),
    }
    folders = {name: a_run(run_folder, results, name, age, failed) for name, (age, failed) in runs.items()}
    folders["running"] = a_run(run_folder, results, "running", 500, finished=False)
    store.record_paths(list(folders.values()), warehouse, tmp_path / "spool")
    a_run(run_folder, results, "unrecorded", 600)  # its record may still be in the spool: never touched
    for name in runs:
        (reports / name).mkdir(parents=True)
        (reports / name / "report.html").write_text("<html>report</html>")
    victim = tmp_path / "victim.csv"
    victim.write_text("precious\n")
    planted = folders["r150"] / "ganblr-iris-s2" / "synthetic.earlier-1.csv"
    planted.symlink_to(victim)
    cache = results / ".trtr-cache"
    cache.mkdir(exist_ok=True)
    for name, age in (("old.json", 40), ("fresh.json", 1)):
        (cache / name).write_text("{}")
        os.utime(cache / name, (time.time() - age * 86400,) * 2)
    (logs / "dag_id=x" / "run_id=old").mkdir(parents=True)
    (logs / "dag_id=x" / "run_id=new").mkdir(parents=True)
    (logs / "dag_id=x" / "run_id=old" / "1.log").write_text("old\n")
    os.utime(logs / "dag_id=x" / "run_id=old" / "1.log", (time.time() - 15 * 86400,) * 2)
    (logs / "dag_id=x" / "run_id=new" / "1.log").write_text("new\n")
    return {"results": results, "reports": reports, "logs": logs, "victim": victim, "planted": planted}


def test_the_policy_deletes_what_it_says_and_keeps_the_rest(warehouse, tree):
    results, reports, logs = tree["results"], tree["reports"], tree["logs"]
    with psycopg.connect(warehouse) as conn:
        todo = retention.plan(conn, results, reports, POLICY, NOW, logs_root=logs)
    gone = {
        (str(i.kind), Path(i.target).relative_to(i.root).parts[0] if i.kind != "run folder" else Path(i.target).name)
        for i in todo.delete
    }
    assert {name for kind, name in gone if kind == "run folder"} == {"r400", "r320"}
    assert {name for kind, name in gone if kind == "report"} == {"r400", "r320"}
    artefact_runs = {Path(i.target).parents[1].name for i in todo.delete if i.kind == "artefacts"}
    assert artefact_runs == {"r200", "r150"}
    kept = {Path(i.target).name: i.reason for i in todo.keep}
    assert kept["r100"].startswith("holds a failure or regression, unresolved") and kept["r2"].startswith(
        "younger than"
    )
    assert kept["r20"].startswith("younger than") and kept["r45"].startswith("one of the last 2 runs") is False
    assert kept["unrecorded"] == "not recorded yet" and kept["running"] == "running"
    assert {Path(i.target).name for i in todo.delete if i.kind == "TRTR cache entry"} == {"old.json"}
    assert {Path(i.target).parent.name for i in todo.delete if i.kind == "task log"} == {"run_id=old"}

    dry = cli(
        ["prune"],
        GANBLR_BENCH_DSN=warehouse,
        GANBLR_BENCH_RESULTS=str(results),
        GANBLR_BENCH_REPORTS=str(reports),
        GANBLR_BENCH_KEEP_DAYS="30",
        GANBLR_BENCH_KEEP_RUNS="2",
        GANBLR_BENCH_KEEP_PROBLEM_DAYS="120",
        GANBLR_BENCH_KEEP_FOLDER_DAYS="300",
        GANBLR_BENCH_TRTR_CACHE_DAYS="20",
    )
    assert dry.returncode == 0 and "dry run: nothing deleted" in dry.stdout and (results / "r400").is_dir()

    freed, problems = retention.apply(todo)
    assert problems == [] and freed == todo.freed() > 0
    assert not (results / "r400").exists() and not (reports / "r400").exists() and (reports / "r200").exists()
    assert (results / "r200" / "ganblr-iris-s2" / "result.json").is_file()  # the record's source stays
    assert not (results / "r200" / "ganblr-iris-s2" / "synthetic.csv").exists()
    assert (results / "r100" / "ganblr-iris-s2" / "synthetic.csv").is_file()
    assert (results / "unrecorded" / "ganblr-iris-s2" / "synthetic.csv").is_file()
    assert (
        not tree["planted"].is_symlink() and tree["victim"].read_text() == "precious\n"
    )  # the link went, not its target
    assert not (logs / "dag_id=x" / "run_id=old").exists() and (logs / "dag_id=x" / "run_id=new" / "1.log").exists()
    with psycopg.connect(warehouse) as conn:  # metrics are kept forever
        assert conn.execute("SELECT count(*) FROM bench.runs").fetchone()[0] == 9
    with psycopg.connect(warehouse) as conn:
        again = retention.plan(conn, results, reports, POLICY, NOW, logs_root=logs)
    assert again.delete == []  # applied: nothing more to do


def _image(tag: str, stack: str, base: str) -> str:
    built = subprocess.run(
        [
            "docker",
            "build",
            "-q",
            "-t",
            tag,
            "--label",
            TEST_LABEL,
            "--label",
            f"io.ganblr-bench.stack={stack}",
            "--label",
            f"made={tag}",
            "-",
        ],
        input=f"FROM {base}\n",
        capture_output=True,
        text=True,
        check=True,
    )
    return built.stdout.strip()


# The suite's own images (the real bench image) carry the real label; these carry a label of their own, so the
# test prunes its set only, by the same policy and code.
TEST_LABEL = "io.ganblr-bench.test=retention"


@pytest.mark.docker
def test_old_images_of_our_repository_go_and_recent_or_used_ones_stay(warehouse, tree):
    import docker

    client = docker.APIClient()
    base = subprocess.run(
        ["sed", "-n", "s/^ARG BASE_IMAGE=//p", str(Path(__file__).resolve().parents[1] / "Dockerfile")],
        capture_output=True,
        text=True,
    ).stdout.split()[0]
    subprocess.run(["docker", "tag", base, "someone-else:keep"], check=True)  # not ours: never touched
    ids = {}
    for i in range(5):
        ids[f"locked-{i}"] = _image(f"ganblr-bench-retention:locked-{i}", "locked", base)
        time.sleep(1.1)  # distinct creation times
    ids["latest-0"] = _image("ganblr-bench-retention:latest-0", "latest", base)
    with psycopg.connect(warehouse) as conn:  # a recent run used the oldest locked image
        conn.execute("UPDATE bench.runs SET image_ref = %s WHERE run_id = 'r2'", ("ganblr-bench-retention:locked-0",))
    try:
        with psycopg.connect(warehouse) as conn:
            todo = retention.plan(
                conn, tree["results"], tree["reports"], POLICY, NOW, docker=client, image_label=TEST_LABEL
            )
        ours = {i.target for i in todo.delete if i.kind == "image" and "dangling" not in i.reason}
        assert ours == {ids["locked-1"]}  # newest 3 locked kept, locked-0 used by a recent run, the latest one kept
        retention.apply(todo, client)
        tags = {t for image in client.images() for t in image.get("RepoTags") or []}
        assert "ganblr-bench-retention:locked-1" not in tags and "someone-else:keep" in tags
        assert {
            "ganblr-bench-retention:locked-0",
            "ganblr-bench-retention:locked-4",
            "ganblr-bench-retention:latest-0",
        } <= tags
    finally:
        for image in client.images(filters={"label": TEST_LABEL}):
            client.remove_image(image["Id"], force=True)
        client.remove_image("someone-else:keep")
