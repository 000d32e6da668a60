"""Backing the warehouse up and restoring it, with PostgreSQL's own tools (custom format, compressed).

``backup`` runs ``pg_dump --format custom``; ``restore`` turns the archive back into SQL with ``pg_restore`` and
feeds it to ``psql`` in one transaction, so a failed restore leaves the target as it was. The tools are the
embedded PostgreSQL's (release 18): pg_dump reads every older server, and lines an older server does not know
(``SET transaction_timeout``, PostgreSQL 17) are left out of what it is fed. A restore goes into an empty
database only (one with no runs), unless ``replace`` is asked for: a backup never silently lands on a warehouse
that holds other history. Both work on the embedded server too.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganblr_bench.errors import DatabaseError, SettingsError
from ganblr_bench.warehouse import database


@dataclass(frozen=True)
class Backup:
    path: Path
    bytes: int
    runs: int
    job_results: int


def _runs(conn: Any) -> tuple[int, int]:
    if not conn.execute("SELECT to_regclass('bench.runs') IS NOT NULL").fetchone()[0]:
        return 0, 0
    runs = conn.execute("SELECT count(*) FROM bench.runs").fetchone()[0]
    jobs = conn.execute("SELECT count(*) FROM bench.job_results").fetchone()[0]
    return int(runs), int(jobs)


_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
}


def _env(dsn: str) -> dict[str, str]:
    """The DSN as libpq's environment variables: no password on a command line other users can read."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    unknown = sorted(set(parts) - set(_ENV))
    if unknown:
        raise SettingsError(f"the database DSN has parameters the backup tools cannot take: {', '.join(unknown)}")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return clean | {_ENV[k]: str(v) for k, v in parts.items() if v is not None}


def _run(command: list[str], what: str, dsn: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, env=_env(dsn), **kwargs)
    if done.returncode != 0:
        detail = database.redact(
            (done.stderr or done.stdout).strip().splitlines()[-1] if (done.stderr or done.stdout).strip() else ""
        )
        raise DatabaseError(f"{what} failed (exit {done.returncode}): {detail}")
    return done


def backup(dsn: str, path: Path) -> Backup:
    """Dump the warehouse at ``dsn`` to ``path`` (custom format); an existing file is replaced only whole."""
    path = Path(path)
    if path.is_dir():
        raise SettingsError(f"db backup {path}: is a folder; give the file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SettingsError(f"db backup {path}: cannot write there ({err.strerror})") from None
    with database.connect(dsn) as conn:
        runs, jobs = _runs(conn)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        _run(
            [str(database.tool("pg_dump")), "--format", "custom", "--no-owner", "--file", str(partial)], "pg_dump", dsn
        )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(path, path.stat().st_size, runs, jobs)


def restore(dsn: str, path: Path, replace: bool = False) -> Backup:
    """Restore a backup into the (empty, unless ``replace``) database at ``dsn``, all or nothing."""
    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"db restore {path}: no such file")
    with database.connect(dsn) as conn:
        runs, _ = _runs(conn)
        version = int(conn.execute("SHOW server_version_num").fetchone()[0])
    if runs and not replace:
        raise SettingsError(
            f"db restore: the target database already holds {runs} run(s); restore into an empty one, or add "
            f"--replace to drop what it holds first"
        )
    restore_args = ["--no-owner", "--no-privileges", "--file", "-"] + (["--clean", "--if-exists"] if replace else [])
    sql = _run([str(database.tool("pg_restore")), *restore_args, str(path)], "pg_restore", dsn).stdout
    if version < 170000:  # a setting PostgreSQL 17 introduced: an older server refuses it
        sql = "\n".join(line for line in sql.splitlines() if not line.startswith("SET transaction_timeout"))
    _run(
        [str(database.tool("psql")), "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
        "psql (restore)",
        dsn,
        input=sql,
    )
    with database.connect(dsn) as conn:
        runs, jobs = _runs(conn)
    return Backup(path, path.stat().st_size, runs, jobs)


def keep_newest(folder: Path, keep: int, pattern: str = "ganblr_bench-*.dump") -> list[Path]:
    """Delete all but the ``keep`` newest backups in ``folder``; return those deleted."""
    found = sorted(Path(folder).glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in found[keep:]:
        old.unlink()
    return found[keep:]
