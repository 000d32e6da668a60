"""Recording results in the metrics warehouse, idempotently, with the spool for outages.

Recording is idempotent: a result is identified by the sha256 of its canonical JSON, so recording it again (a
task retry, a replay) is a no-op, while a different result for the same run and job is kept as the next
attempt. A run and its results are written in one transaction. If the database cannot be reached or fails
mid-write, the whole batch goes to the spool (``spool.py``) and is recorded by the next ``record`` or
``replay``: nothing is lost, nothing is doubled.

An outage and a bad result are told apart (``outage``): a result the database refuses for its value or shape
is not an outage, so it is not spooled to fail again forever; it is kept in ``<spool>/rejected/`` with the
reason, named in the outcome, and the rest is recorded. Recording never migrates (the writer needs no DDL
rights): the schema is brought up to date at deploy time (``ganblr-bench db upgrade``), except the embedded
server's, which is ours. Waits are bounded: a lock held elsewhere (a migration, an analyst's long query) makes
the write time out and spool, not hang.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganblr_bench import figures, layout, settings
from ganblr_bench.contract import JobResult, RunInfo, content_sha256, cpu_list
from ganblr_bench.errors import DatabaseError, MigrationError, Spooled, StoreError
from ganblr_bench.layout import Batch, collect
from ganblr_bench.states import Source
from ganblr_bench.warehouse import database, migrate, series, spool


def _waits() -> str:
    """Bounded waits for the writer: a lock held elsewhere times out (and the batch is spooled), never hangs."""
    lock = settings.LOCK_TIMEOUT_S.get()
    return f"-c lock_timeout={int(lock * 1000)}ms -c statement_timeout=300s -c idle_in_transaction_session_timeout=300s"


# ---------------------------------------------------------------- rows, by column name


def _run_row(run: RunInfo) -> dict[str, Any]:
    image, host = run.image, run.host
    return {
        "run_id": run.run_id,
        "kind": run.kind,
        "triggered_by": run.triggered_by,
        "dag_id": run.dag_id,
        "params": json.dumps(run.params),
        "backend": run.backend,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "git_sha": run.git_sha,
        "image_ref": image and image.ref,
        "image_digest": image and image.digest,
        "image_inputs_hash": image and image.inputs_hash,
        "image_build_s": image and image.build_s,
        "image_build_cached": image and image.cached,
        "host_name": host.name,
        "host_cpus": host.cpus,
        "host_memory_bytes": host.memory_bytes,
        "run_key": layout.run_key(run.run_id),
        "release": run.release,
    }


def _image_rows(run: RunInfo) -> list[dict[str, Any]]:
    """One row per image the run's jobs ran in: our stacks' and the variants'."""
    images = [(str(stack), facts) for stack, facts in run.images.items()] + list(run.variants.items())
    return [
        {"run_id": run.run_id, "stack": stack, **facts.model_dump(include=_IMAGE_COLUMNS)} for stack, facts in images
    ]


_IMAGE_COLUMNS = {"models_lock", "ref", "digest", "inputs_hash", "build_s", "cached", "cold", "size_bytes", "conflicts"}


def _upsert_image(row: dict[str, Any]) -> str:
    keep = ", ".join(f"{c} = EXCLUDED.{c}" for c in row if c not in ("run_id", "stack"))
    return _insert("run_images", row, f"ON CONFLICT (run_id, stack) DO UPDATE SET {keep}")


def _job_row(run: RunInfo, attempt: int, r: JobResult, uri: str | None, sha: str) -> dict[str, Any]:
    t, res, d, env = r.timings, r.resources, r.dataset, r.environment
    chosen = series.fields(r.spec, d.checksum if d else None, run.backend, run.host.cpus, None)
    return {
        "run_id": run.run_id,
        "run_started_at": run.started_at,
        "job": r.job,
        "attempt": attempt,
        "model": r.spec.model,
        "dataset": r.spec.dataset,
        "seed": r.spec.seed,
        "stack": r.spec.stack,
        "params": r.spec.params.model_dump_json(),
        "spec": r.spec.model_dump_json(),
        "status": r.status,
        "error": r.error,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        **t.model_dump(),
        **res.model_dump(include=_RESOURCE_COLUMNS),
        "cores": _cpu_list(r.placement.cores if r.placement else env.cores if env else None),
        "placement": r.placement and r.placement.model_dump_json(),
        "versions": json.dumps(env.versions if env else {}),
        "dataset_checksum": d and d.checksum,
        "dataset_files": d and json.dumps(d.files),
        "train_rows": d and d.train_rows,
        "test_rows": d and d.test_rows,
        "synthetic_rows": d and d.synthetic_rows,
        "in_container": env and env.in_container,
        "image": env and env.image,
        "artifact_uri": uri,
        "content_sha256": sha,
        "series_key": series.key(chosen),
        "series": json.dumps(chosen),
        "marginals": json.dumps([m.model_dump() for m in r.marginals]),
    }


def _cpu_list(held: list[int] | None) -> str | None:
    return cpu_list(held) if held else None


def _insert(table: str, row: dict[str, Any], suffix: str = "") -> str:
    columns = ", ".join(row)
    values = ", ".join(f"%({c})s" for c in row)
    return f"INSERT INTO bench.{table} ({columns}) VALUES ({values}) {suffix}"


def _upsert_run(row: dict[str, Any]) -> str:
    keep = ", ".join(f"{c} = coalesce(EXCLUDED.{c}, runs.{c})" for c in row if c != "run_id")
    return _insert("runs", row, f"ON CONFLICT (run_id) DO UPDATE SET {keep}")


_RESOURCE_COLUMNS = {
    "peak_memory_bytes",
    "memory_source",
    "cpu_seconds",
    "cpu_percent",
    "cpus_available",
    "cpu_percent_of_available",
}
_INSERT_SCORE = "INSERT INTO bench.scores (job_result_id, classifier, metric, value) VALUES (%s, %s, %s, %s)"
_SCORE_METRICS = tuple(
    m.key for m in figures.METRICS if m.source is Source.SCORE or m.key in ("tstr_accuracy", "trtr_accuracy")
)
_INSERT_JOB_METRIC = "INSERT INTO bench.job_metrics (job_result_id, metric, unit, value) VALUES (%s, %s, %s, %s)"


def job_metrics(result: JobResult) -> dict[str, float]:
    """The result's figures kept in the general table (figures.py, source 'job'), by key."""
    res, env, placement = result.resources, result.environment, result.placement
    found: dict[str, float | None] = {
        "job_peak_memory_bytes": res.job_peak_memory_bytes,
        "job_cpu_s": res.job_cpu_seconds,
    }
    found.update({str(k): v for k, v in result.quality.items()})
    for phase, usage in res.phases.items():
        found[f"{phase}_cpu_s"] = usage.cpu_s
        found[f"{phase}_peak_memory_bytes"] = usage.peak_memory_bytes
    if placement is not None:
        found |= {"cores": len(placement.cores), "peer_jobs": placement.peers, "core_wait_s": placement.waited_s}
    elif env and env.cores:
        found["cores"] = len(env.cores)
    if env and env.host_load_1m:
        found["host_load_1m"] = env.host_load_1m[-1]
    return {k: float(v) for k, v in found.items() if v is not None}


@dataclass
class Outcome:
    recorded: int = 0
    duplicates: int = 0
    spooled: int = 0
    replayed: int = 0
    rejected: list[str] = field(default_factory=list)
    refused: list[tuple[JobResult, str | None, str]] = field(default_factory=list)  # (result, uri, reason)

    def add(self, other: Outcome) -> None:
        self.recorded += other.recorded
        self.duplicates += other.duplicates
        self.rejected += other.rejected

    def __str__(self) -> str:
        text = f"recorded {self.recorded}, already there {self.duplicates}"
        if self.replayed:
            text += f", replayed from spool {self.replayed}"
        if self.spooled:
            text += f", spooled {self.spooled}"
        if self.rejected:
            text += f", rejected {len(self.rejected)}"
        return text


def refusals() -> tuple[type[BaseException], ...]:
    """Errors that say the value or shape is the problem, not the database: retrying cannot help."""
    import psycopg

    return (
        psycopg.DataError,
        psycopg.IntegrityError,
        psycopg.ProgrammingError,
        psycopg.NotSupportedError,
        TypeError,  # a value psycopg cannot adapt
        ValueError,  # ... or encode
    )


def outages() -> tuple[type[BaseException], ...]:
    """Errors that say the database (not the data) failed: the batch is spooled and recorded later."""
    import psycopg

    return psycopg.OperationalError, psycopg.InterfaceError, psycopg.InternalError, DatabaseError, MigrationError


def reason(err: BaseException) -> str:
    text = str(err).strip()
    return database.redact(text.splitlines()[0] if text else type(err).__name__)


def write_batch(conn: Any, batch: Batch) -> Outcome:
    """Record one run and its results in one transaction; duplicates are skipped.

    Each result is written under a savepoint: one the database refuses is listed in
    ``outcome.refused`` with the reason, and the others are recorded.
    """
    outcome = Outcome()
    with conn.transaction():
        # Serialise writers of the same run, so attempts are numbered without gaps or clashes.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (batch.run.run_id,))
        run_row = _run_row(batch.run)
        conn.execute(_upsert_run(run_row), run_row)
        for image_row in _image_rows(batch.run):
            conn.execute(_upsert_image(image_row), image_row)
        conn.execute(  # a run recorded again with another start keeps its jobs in step
            "UPDATE bench.job_results SET run_started_at = %s WHERE run_id = %s AND run_started_at <> %s",
            (batch.run.started_at, batch.run.run_id, batch.run.started_at),
        )
        for result, uri in batch.results:
            sha = content_sha256(result)
            seen = conn.execute(
                "SELECT coalesce(max(attempt), 0), bool_or(content_sha256 = %s) FROM bench.job_results "
                "WHERE run_id = %s AND job = %s",
                (sha, batch.run.run_id, result.job),
            ).fetchone()
            if seen[1]:
                outcome.duplicates += 1
                continue
            try:
                with conn.transaction():  # a savepoint: a refused result does not take the others down
                    _insert_result(conn, batch.run, seen[0] + 1, result, uri, sha)
            except refusals() as err:
                outcome.refused.append((result, uri, reason(err)))
                outcome.rejected.append(f"{batch.run.run_id}/{result.job}: refused by the database ({reason(err)})")
                continue
            outcome.recorded += 1
        series.refresh_points(conn, [batch.run.run_id])  # in the same transaction: never out of step
    return outcome


def _insert_result(conn: Any, run: RunInfo, attempt: int, result: JobResult, uri: str | None, sha: str) -> None:
    row = _job_row(run, attempt, result, uri, sha)
    conn.execute(  # the new attempt is the job's final one
        "UPDATE bench.job_results SET final = false WHERE run_id = %s AND job = %s AND final", (run.run_id, result.job)
    )
    job_id = conn.execute(_insert("job_results", row, "RETURNING job_result_id"), row).fetchone()[0]
    scores = [
        (job_id, s.classifier, metric, getattr(s, metric))
        for s in result.scores
        for metric in _SCORE_METRICS
        if getattr(s, metric) is not None
    ]
    rows = [(job_id, key, figures.get(key).unit, value) for key, value in job_metrics(result).items()]
    with conn.cursor() as cur:
        if scores:
            cur.executemany(_INSERT_SCORE, scores)
        if rows:
            cur.executemany(_INSERT_JOB_METRIC, rows)


def write_keeping_refused(conn: Any, batch: Batch, folder: Path) -> Outcome:
    """write_batch, then keep the results the database refused in <spool>/rejected/."""
    done = write_batch(conn, batch)
    done.rejected += spool.quarantine_results(batch.run, done.refused, folder)
    return done


def replay(conn: Any, folder: Path | None = None) -> Outcome:
    """Record every spooled batch, oldest first, deleting each file once it is in.

    A file that cannot be read as a batch, or whose run the database refuses, moves to <spool>/rejected/ and is
    named in ``rejected``; the other files are still replayed. Safe beside another replay (files are claimed).
    """
    outcome = Outcome()
    folder = folder or spool.spool_dir()
    for path, batch, unreadable in spool.pending(folder):
        if batch is None:
            outcome.rejected.append(spool.quarantine_file(path, unreadable or "unreadable"))
            continue
        try:
            outcome.add(write_keeping_refused(conn, batch, folder))
        except refusals() as err:
            outcome.rejected.append(spool.quarantine_file(path, f"the database refused its run ({reason(err)})"))
            continue
        outcome.replayed += len(batch.results)
        path.unlink(missing_ok=True)
    return outcome


def record(batches: list[Batch], dsn: str | None = None, folder: Path | None = None) -> Outcome:
    """Replay the spool, then record ``batches`` (the schema must be current: ``migrate.require_current``).

    On a database failure the batches not yet committed are spooled and Spooled is raised;
    results the database refuses are kept in <spool>/rejected/ and named in ``rejected``.
    """
    folder = folder or spool.spool_dir()
    outcome = Outcome()
    done = 0
    try:
        with database.connect(dsn, autocommit=True, options=_waits()) as conn:
            migrate.require_current(conn)
            replayed = replay(conn, folder)
            outcome.add(replayed)
            outcome.replayed = replayed.replayed
            for batch in batches:
                try:
                    outcome.add(write_keeping_refused(conn, batch, folder))
                except refusals() as err:  # the run itself is refused: keep all of it aside
                    outcome.rejected.append(f"{batch.run.run_id}: the database refused the run ({reason(err)})")
                    refused = [(r, uri, reason(err)) for r, uri in batch.results]
                    outcome.rejected += spool.quarantine_results(batch.run, refused, folder)
                done += 1
    except outages() as err:
        pending = batches[done:]  # a failed batch's transaction rolled back: spool all of it
        try:
            paths = [spool.spool(b, folder) for b in pending]
        except OSError as disk:  # e.g. the spool's disk is full: say so; the run folders still hold every result
            raise StoreError(
                f"database failed ({reason(err)}) and the spool {folder} could not be written ({disk.strerror}): "
                f"nothing was recorded; the results stay in their run folders, 'ganblr-bench db record FOLDER' "
                f"records them"
            ) from None
        outcome.spooled = sum(len(b.results) for b in pending)
        raise Spooled(
            f"database failed ({reason(err)}); {outcome.spooled} result(s) spooled to {paths[0].parent if paths else '-'}: "
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
