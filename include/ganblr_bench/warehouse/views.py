"""Reading the analysts' interface: the documented views in schema ``analytics``.

The CLI, the report, the detector and the Benchmarks page read the warehouse through
these functions only; view names are checked against the catalogue, never pasted in.
"""

from __future__ import annotations

from typing import Any

from ganblr_bench.errors import NotFound


def names(conn: Any) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics' ORDER BY 1"
        )
    ]


def read(
    conn: Any, view: str, where: str = "", params: tuple[Any, ...] = (), order: str = ""
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of analytics.VIEW (``where`` and ``order`` are ours, never user input)."""
    from psycopg import sql

    known = names(conn)
    if view not in known:
        raise NotFound(f"no view analytics.{view}; views: {', '.join(known)}")
    query = sql.SQL("SELECT * FROM analytics.{}").format(sql.Identifier(view))
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(where)
    if order:
        query += sql.SQL(" ORDER BY ") + sql.SQL(order)
    with conn.cursor() as cur:
        cur.execute(query, params)
        return [d.name for d in cur.description], cur.fetchall()


def rows(conn: Any, query: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
    """The rows of one of our queries over the views, as dicts."""
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [d.name for d in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def latest_run_id(conn: Any) -> str | None:
    row = conn.execute("SELECT run_id FROM analytics.runs ORDER BY started_at DESC, run_id DESC LIMIT 1").fetchone()
    return str(row[0]) if row else None


def figures(conn: Any, run_id: str) -> dict[tuple[str, str, str, str], list[float]]:
    """(dataset, model, stack, metric) -> the values of the run's ok jobs (one per seed), from metric_history."""
    found: dict[tuple[str, str, str, str], list[float]] = {}
    for dataset, model, stack, metric, value in conn.execute(
        "SELECT dataset, model, stack, metric, value FROM analytics.metric_history WHERE run_id = %s "
        "ORDER BY dataset, model, stack, metric, seed",
        (run_id,),
    ):
        found.setdefault((dataset, model, stack, metric), []).append(float(value))
    return found
