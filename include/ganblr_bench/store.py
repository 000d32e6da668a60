"""The metrics warehouse: migrations, recording results, the spool, reading the views.

Recording is idempotent: a result is identified by the sha256 of its canonical JSON, so
recording it again (a task retry, a replay) is a no-op, while a different result for the
same run and job is kept as the next attempt. A run and its results are written in one
transaction. If the database cannot be reached or fails mid-write, the whole batch goes
to a spool folder and is recorded by the next ``record`` or ``replay``: nothing is lost,
nothing is doubled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import database
from .contract import (
    RESULT_FILE, RUN_FILE, ContractError, JobResult, RunInfo, load_result, load_run, parse_result, parse_run,
    write_json_atomic,
)

MIGRATION_LOCK = 0x6762_6265_6E63_68  # pg_advisory_xact_lock key: "gbbench"
READER_ROLE = "ganblr_bench_reader"
READER_PASSWORD_ENV = "GANBLR_BENCH_READER_PASSWORD"
SPOOL_ENV = "GANBLR_BENCH_SPOOL"
_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class StoreError(RuntimeError):
    """A warehouse problem with a message that says what to do."""


class Spooled(StoreError):
    """The database failed; the results are safe in the spool and will be recorded later."""


# ---------------------------------------------------------------- migrations

@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    folder = resources.files("ganblr_bench") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text()))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise StoreError(f"migrations must be numbered 0001, 0002, ... without gaps: {[m.name for m in found]}")
    return found


def upgrade(conn) -> list[str]:
    """Apply the migrations this database lacks; return their names.

    Safe to run twice and from two processes at once (an advisory lock serialises them),
    all or nothing (one transaction), and it refuses a database from a newer ganblr-bench
    or one whose applied migrations were edited since.
    """
    known = migrations()
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {v: (n, c) for v, n, c in conn.execute("SELECT version, name, checksum FROM bench.schema_migrations")}
        newest = max(applied, default=0)
        if newest > len(known):
            raise StoreError(
                f"the database is at schema version {newest} ({applied[newest][0]}), newer than this ganblr-bench "
                f"knows ({len(known)}): upgrade ganblr-bench before using this database"
            )
        for m in known:
            if m.version in applied:
                if applied[m.version][1] != m.checksum:
                    raise StoreError(f"migration {m.name} was changed after it was applied; add a new migration instead")
                continue
            conn.execute(m.sql)
            conn.execute("INSERT INTO bench.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                         (m.version, m.name, m.checksum))
            applied_now.append(m.name)
        password = os.environ.get(READER_PASSWORD_ENV)
        if password:
            from psycopg import sql

            conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(READER_ROLE),
                                                                            sql.Literal(password)))
    return applied_now


def schema_version(conn) -> int:
    row = conn.execute("SELECT to_regclass('bench.schema_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    return conn.execute("SELECT coalesce(max(version), 0) FROM bench.schema_migrations").fetchone()[0]


# ---------------------------------------------------------------- collecting result files

@dataclass
class Batch:
    """One run and the results to record with it."""

    run: RunInfo
    results: list[tuple[JobResult, str | None]] = field(default_factory=list)  # (result, artifact folder)

    def payload(self) -> dict[str, Any]:
        return {"spool_version": 1, "run": self.run.model_dump(mode="json"),
                "results": [{"result": r.model_dump(mode="json"), "artifact_uri": uri} for r, uri in self.results]}

    @classmethod
    def from_payload(cls, data: dict[str, Any], source: str) -> Batch:
        return cls(parse_run(data["run"], f"{source}: run"),
                   [(parse_result(item["result"], f"{source}: result"), item["artifact_uri"]) for item in data["results"]])


def content_sha256(result: JobResult) -> str:
    """sha256 of the canonical JSON (sorted keys): the same result hashes the same after any round trip."""
    canonical = json.dumps(result.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def collect(path: Path) -> tuple[Batch | None, list[str]]:
    """Read a run folder (run.json + */result.json) or a job folder (result.json).

    Returns the batch of valid results and one message per rejected file, naming the file
    and the field; a rejected file does not stop the others.
    """
    path = Path(path)
    rejected: list[str] = []
    if (path / RUN_FILE).exists():
        run_file, result_files = path / RUN_FILE, sorted(path.glob(f"*/{RESULT_FILE}"))
    elif (path / RESULT_FILE).exists():
        run_file, result_files = path.parent / RUN_FILE, [path / RESULT_FILE]
    else:
        return None, [f"{path}: neither {RUN_FILE} nor {RESULT_FILE} found"]
    results = []
    for file in result_files:
        try:
            results.append((load_result(file), str(file.parent.resolve())))
        except ContractError as err:
            rejected.append(str(err))
    if run_file.exists():
        try:
            run = load_run(run_file)
        except ContractError as err:
            return None, rejected + [str(err)]
    elif results:
        # A job run by hand: a run of its own, named after its content so re-recording is a no-op.
        first = results[0][0]
        run = RunInfo(run_id=f"cli-{content_sha256(first)[:16]}", kind="cli", started_at=first.started_at,
                      finished_at=first.finished_at)
    else:
        return None, rejected
    return Batch(run, results), rejected


# ---------------------------------------------------------------- writing

_RUN_COLUMNS = ("run_id", "kind", "triggered_by", "dag_id", "params", "backend", "started_at", "finished_at", "git_sha",
                "image_ref", "image_digest", "image_inputs_hash", "image_build_s", "image_build_cached", "host_name",
                "host_cpus", "host_memory_bytes")


def _run_row(run: RunInfo) -> tuple:
    image, host = run.image, run.host
    return (run.run_id, run.kind, run.triggered_by, run.dag_id, json.dumps(run.params), run.backend, run.started_at,
            run.finished_at, run.git_sha, image and image.ref, image and image.digest, image and image.inputs_hash,
            image and image.build_s, image and image.cached, host.name, host.cpus, host.memory_bytes)


_JOB_COLUMNS = ("run_id", "job", "attempt", "model", "dataset", "seed", "params", "spec", "status", "error",
                "started_at", "finished_at", "startup_s", "load_s", "fit_s", "sample_s", "evaluate_s", "execution_s",
                "wall_s", "peak_memory_bytes", "memory_source", "cpu_seconds", "cpu_percent", "cpus_available",
                "cpu_percent_of_available", "versions", "dataset_checksum", "dataset_files", "train_rows", "test_rows",
                "synthetic_rows", "in_container", "image", "artifact_uri", "content_sha256")


def _job_row(run_id: str, attempt: int, r: JobResult, uri: str | None, sha: str) -> tuple:
    t, res, d, env = r.timings, r.resources, r.dataset, r.environment
    return (run_id, r.job, attempt, r.spec.model, r.spec.dataset, r.spec.seed, r.spec.params.model_dump_json(),
            r.spec.model_dump_json(), r.status, r.error, r.started_at, r.finished_at, t.startup_s, t.load_s, t.fit_s,
            t.sample_s, t.evaluate_s, t.execution_s, t.wall_s, res.peak_memory_bytes, res.memory_source,
            res.cpu_seconds, res.cpu_percent, res.cpus_available, res.cpu_percent_of_available,
            json.dumps(env.versions if env else {}), d and d.checksum, d and json.dumps(d.files),
            d and d.train_rows, d and d.test_rows, d and d.synthetic_rows, env and env.in_container,
            env and env.image, uri, sha)


def _insert(table: str, columns: tuple[str, ...], suffix: str = "") -> str:
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO bench.{table} ({', '.join(columns)}) VALUES ({marks}) {suffix}"


_UPSERT_RUN = _insert("runs", _RUN_COLUMNS, "ON CONFLICT (run_id) DO UPDATE SET " + ", ".join(
    f"{c} = coalesce(EXCLUDED.{c}, runs.{c})" for c in _RUN_COLUMNS[1:]))
_INSERT_JOB = _insert("job_results", _JOB_COLUMNS, "RETURNING job_result_id")
_INSERT_SCORE = "INSERT INTO bench.scores (job_result_id, classifier, metric, value) VALUES (%s, %s, %s, %s)"


@dataclass
class Outcome:
    recorded: int = 0
    duplicates: int = 0
    spooled: int = 0
    replayed: int = 0
    rejected: list[str] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.recorded += other.recorded
        self.duplicates += other.duplicates

    def __str__(self) -> str:
        text = f"recorded {self.recorded}, already there {self.duplicates}"
        if self.replayed:
            text += f", replayed from spool {self.replayed}"
        if self.spooled:
            text += f", spooled {self.spooled}"
        if self.rejected:
            text += f", rejected {len(self.rejected)}"
        return text


def write_batch(conn, batch: Batch) -> Outcome:
    """Record one run and its results in one transaction; duplicates are skipped."""
    outcome = Outcome()
    with conn.transaction():
        # Serialise writers of the same run, so attempts are numbered without gaps or clashes.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (batch.run.run_id,))
        conn.execute(_UPSERT_RUN, _run_row(batch.run))
        for result, uri in batch.results:
            sha = content_sha256(result)
            seen = conn.execute(
                "SELECT coalesce(max(attempt), 0), bool_or(content_sha256 = %s) FROM bench.job_results "
                "WHERE run_id = %s AND job = %s", (sha, batch.run.run_id, result.job)).fetchone()
            if seen[1]:
                outcome.duplicates += 1
                continue
            job_id = conn.execute(_INSERT_JOB, _job_row(batch.run.run_id, seen[0] + 1, result, uri, sha)).fetchone()[0]
            scores = [(job_id, s.classifier, metric, getattr(s, metric)) for s in result.scores
                      for metric in ("tstr_accuracy", "trtr_accuracy") if getattr(s, metric) is not None]
            if scores:
                with conn.cursor() as cur:
                    cur.executemany(_INSERT_SCORE, scores)
            outcome.recorded += 1
    return outcome


# ---------------------------------------------------------------- spool

def spool_dir() -> Path:
    return Path(os.environ.get(SPOOL_ENV) or database.home() / "spool")


def spool(batch: Batch, folder: Path | None = None) -> Path:
    folder = folder or spool_dir()
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(batch.payload(), sort_keys=True)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", batch.run.run_id)[:120]
    path = folder / f"{name}--{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    write_json_atomic(path, text)
    return path


def replay(conn, folder: Path | None = None) -> Outcome:
    """Record every spooled batch, oldest first, deleting each file once it is in."""
    outcome = Outcome()
    folder = folder or spool_dir()
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime) if folder.exists() else []:
        try:
            batch = Batch.from_payload(json.loads(path.read_text()), str(path))
        except (ContractError, KeyError, json.JSONDecodeError) as err:
            outcome.rejected.append(f"{path}: unreadable spool file, left in place ({err})")
            continue
        done = write_batch(conn, batch)
        outcome.add(done)
        outcome.replayed += len(batch.results)
        path.unlink()
    return outcome


def record(batches: list[Batch], dsn: str | None = None, folder: Path | None = None) -> Outcome:
    """Bring the schema up to date, replay the spool, then record ``batches``.

    On any database failure the batches not yet committed are spooled and Spooled is raised.
    """
    import psycopg

    outcome = Outcome()
    done = 0
    try:
        with database.connect(dsn) as conn:
            upgrade(conn)
            replayed = replay(conn, folder)
            outcome.add(replayed)
            outcome.replayed, outcome.rejected = replayed.replayed, replayed.rejected
            for batch in batches:
                outcome.add(write_batch(conn, batch))
                done += 1
    except (psycopg.Error, database.DatabaseError, StoreError) as err:
        pending = batches[done:]  # a failed batch's transaction rolled back: spool all of it
        paths = [spool(b, folder) for b in pending]
        outcome.spooled = sum(len(b.results) for b in pending)
        reason = database.redact(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
        raise Spooled(
            f"database failed ({reason}); {outcome.spooled} result(s) spooled to {paths[0].parent if paths else '-'}: "
            f"the next 'ganblr-bench db record' or 'db replay' records them"
        ) from None
    return outcome


def record_paths(paths: list[Path], dsn: str | None = None, folder: Path | None = None) -> Outcome:
    batches, rejected = [], []
    for path in paths:
        batch, problems = collect(path)
        rejected += problems
        if batch is not None and (batch.results or not problems):
            batches.append(batch)
    outcome = record(batches, dsn, folder)
    outcome.rejected += rejected
    return outcome


# ---------------------------------------------------------------- reading the views

def views(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics' ORDER BY 1")]


def read_view(conn, view: str, where: str = "", params: tuple = (), order: str = "") -> tuple[list[str], list[tuple]]:
    """Rows of an analytics view (names checked against the catalogue, never pasted from input)."""
    from psycopg import sql

    if view not in views(conn):
        raise StoreError(f"no view analytics.{view}; views: {', '.join(views(conn))}")
    query = sql.SQL("SELECT * FROM analytics.{}").format(sql.Identifier(view))
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(where)
    if order:
        query += sql.SQL(" ORDER BY ") + sql.SQL(order)
    with conn.cursor() as cur:
        cur.execute(query, params)
        return [d.name for d in cur.description], cur.fetchall()


def latest_run_id(conn) -> str | None:
    row = conn.execute("SELECT run_id FROM analytics.runs ORDER BY started_at DESC, run_id DESC LIMIT 1").fetchone()
    return row[0] if row else None
