"""The warehouse's schema: numbered SQL migrations, applied once each, checked by checksum.

SQL lives in ``migrations/NNNN_name.sql``; ``upgrade`` applies those a database lacks,
all or nothing, serialised by an advisory lock, and refuses a database that a newer
ganblr-bench migrated or whose applied migrations were edited since.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ganblr_bench import settings
from ganblr_bench.errors import MigrationError

MIGRATION_LOCK = 0x6762_6265_6E63_68  # pg_advisory_xact_lock key: "gbbench"
READER_ROLE = "ganblr_bench_reader"
_MIGRATION = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    folder = resources.files("ganblr_bench.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text()))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations must be numbered 0001, 0002, ... without gaps: {[m.name for m in found]}")
    return found


def _series_and_run_keys(conn: Any) -> None:
    """Migration 0007's data: every job's series key (series.backfill), every run's folder name, and the series
    key of the findings the detector stored before."""
    from ganblr_bench import layout
    from ganblr_bench.warehouse import series

    series.backfill(conn)
    conn.execute(series.REFRESH_POINTS.replace("run_id = ANY(%(runs)s) AND ", ""))  # every run's points
    runs = [(layout.run_key(run_id), run_id) for (run_id,) in conn.execute("SELECT run_id FROM bench.runs")]
    with conn.cursor() as cur:
        cur.executemany("UPDATE bench.runs SET run_key = %s WHERE run_id = %s", runs)
    conn.execute(
        """
        UPDATE bench.findings f SET series_key = j.series_key
        FROM (SELECT DISTINCT ON (run_id, model, dataset, stack) run_id, model, dataset, stack, series_key
              FROM bench.job_results WHERE final ORDER BY run_id, model, dataset, stack, series_key) j
        WHERE j.run_id = f.run_id AND j.model = f.model AND j.dataset = f.dataset AND j.stack = f.stack
          AND NOT EXISTS (SELECT 1 FROM bench.findings o WHERE o.run_id = f.run_id AND o.model = f.model
                          AND o.dataset = f.dataset AND o.metric = f.metric AND o.stack = f.stack
                          AND o.series_key = j.series_key)
        """
    )


AFTER = {7: _series_and_run_keys}  # migration version -> what it needs done in code, in the same transaction


def upgrade(conn: Any) -> list[str]:
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
            raise MigrationError(
                f"the database is at schema version {newest} ({applied[newest][0]}), newer than this ganblr-bench "
                f"knows ({len(known)}): upgrade ganblr-bench before using this database"
            )
        for m in known:
            if m.version in applied:
                if applied[m.version][1] != m.checksum:
                    raise MigrationError(
                        f"migration {m.name} was changed after it was applied; add a new migration instead"
                    )
                continue
            conn.execute(m.sql)
            if m.version in AFTER:  # data a migration's SQL cannot compute: the same code as at record time
                AFTER[m.version](conn)
            conn.execute(
                "INSERT INTO bench.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (m.version, m.name, m.checksum),
            )
            applied_now.append(m.name)
        password = settings.READER_PASSWORD.get()
        if password:
            from psycopg import sql

            verifier = scram_verifier(password)  # DDL text (and server logs) hold the verifier, not the password
            conn.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(READER_ROLE), sql.Literal(verifier))
            )
    return applied_now


def require_current(conn: Any) -> None:
    """Refuse to write into a schema that is not this ganblr-bench's: recording never migrates."""
    version, known = schema_version(conn), len(migrations())
    if version != known:
        raise MigrationError(
            f"the metrics database is at schema version {version}, this ganblr-bench writes version {known}: "
            + (
                "run 'ganblr-bench db upgrade' (a deploy step, with a role that may change the schema)"
                if version < known
                else "upgrade ganblr-bench before writing to this database"
            )
        )


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802/7677): the password itself is never sent."""

    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    b64 = [base64.b64encode(b).decode() for b in (salt, stored_key, server_key)]
    return f"SCRAM-SHA-256${iterations}:{b64[0]}${b64[1]}:{b64[2]}"


def schema_version(conn: Any) -> int:
    row = conn.execute("SELECT to_regclass('bench.schema_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM bench.schema_migrations").fetchone()[0])
