"""The ``ganblr-bench`` command: the container's entrypoint and the tool people type. Dispatch only: each
command parses its arguments and calls the core.

Exit codes (``errors.ExitCode``, the same for every command): 0 done; 1 the job ran and failed, a regression was
found, or a result was rejected; 2 bad input (a file, a setting, an argument, an unknown run), found before any
expensive work started; 3 the database failed and the results were spooled. Every ``errors.BenchError`` is one
line on stderr with its exit code, never a traceback. Commands that read the warehouse say on stderr which
database they read, and never create an embedded database by reading.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ganblr_bench import __version__, settings
from ganblr_bench.errors import BenchError, ContractError, ExitCode, NotFound, SettingsError, Spooled
from ganblr_bench.present import formats
from ganblr_bench.states import Stack

RUN_HELP = "a run: its id, a unique prefix of it, its folder name, latest or previous"


def _say(text: str) -> None:
    print(f"ganblr-bench: {text}", file=sys.stderr)


def _reader() -> Any:
    """A connection to the warehouse for reading, having said which one (and never made a new one)."""
    from ganblr_bench.warehouse import database

    target = database.read_dsn()
    _say(f"reading {database.redact(target)}")
    return database.connect(target)


# ---------------------------------------------------------------- jobs and data


def _run(args: argparse.Namespace) -> int:
    from ganblr_bench.job import usage

    started = usage.process_start_time()
    from ganblr_bench import layout
    from ganblr_bench.job import runner

    spec = layout.load_spec(args.spec)
    out = writable_folder(args.out, "--out")
    result = runner.run(spec, out, process_started=started)
    print(runner.summary(result), flush=True)
    return ExitCode.OK if result.status == "ok" else ExitCode.FAILED


def writable_folder(path: Path, flag: str) -> Path:
    """``path`` as a folder this process can write into (made if missing), or a clear error naming the flag."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".ganblr-bench-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise SettingsError(f"{flag} {path}: cannot write there ({err.strerror})") from None
    return path


def _data(args: argparse.Namespace) -> int:
    from ganblr_bench import dataset_catalog, dataset_files, dataset_registration

    found = dataset_registration.scan()
    if found.problems:  # where an engineer checks a registration: the first that is refused, in one line
        raise ContractError(next(iter(found.problems.values())))
    mine = found.entries
    if args.action == "list":

        def row(info: dataset_catalog.DatasetInfo, source: str) -> dict[str, Any]:
            return {
                "name": info.name,
                "title": info.title,
                "features": len(info.columns) - 1,
                "numeric": len(info.numeric),
                "split": "official" if info.official_split else "seeded",
                "source": source,
            }

        rows = [row(i, f"package {i.package}" if i.package else "UCI") for i in dataset_catalog.REGISTRY.values()]
        # the registered ones checked against their files, as a run would check them
        rows += [row(dataset_registration.check(e).info(), f"registered ({e.path})") for e in mine.values()]
        print(formats.render(rows, args.format))
        return ExitCode.OK
    for name in args.names or [*dataset_catalog.REGISTRY, *mine]:
        fetched = (
            dataset_files.fetch(name) if name in dataset_catalog.REGISTRY else dataset_registration.fill_cache(name)
        )
        for role, file in (fetched.files if fetched else {}).items():
            print(f"{name} {role}: {file.path}")
    return ExitCode.OK


def _presets(args: argparse.Namespace) -> int:
    from ganblr_bench import params

    rows = [
        {"name": name, "params": preset.params, "description": preset.description}
        for name, preset in params.presets().items()
    ]
    print(formats.render(rows, args.format))
    return ExitCode.OK


def _generators(args: argparse.Namespace) -> int:
    from ganblr_bench import generator_catalog

    found = generator_catalog.DISCOVERED
    if found.problems:  # where an engineer checks a package: the first that is left out, in one line
        raise ContractError(found.problems[0])
    rows = [
        {
            "name": g.name,
            "label": g.label,
            "role": str(g.role),
            "input": str(g.input),
            "stack": g.stack,
            "implements": g.implements or "",
            "source": g.source,
        }
        for g in found.generators.values()
    ]
    print(formats.render(rows, args.format))
    return ExitCode.OK


# ---------------------------------------------------------------- the warehouse


def _db(args: argparse.Namespace) -> int:
    from ganblr_bench.warehouse import database, migrate, spool, store

    if args.action == "stop-embedded":
        print("embedded PostgreSQL stopped" if database.stop_embedded() else "embedded PostgreSQL was not running")
        return ExitCode.OK
    if args.action in ("backup", "restore"):
        if len(args.paths) != 1:
            raise SettingsError(f"db {args.action}: give one file")
        args.file = args.paths[0]
        return _backup(args) if args.action == "backup" else _restore(args)
    if args.action in ("record", "replay"):
        if args.action == "record" and not args.paths:
            raise ContractError("db record: give at least one run or job result folder")
        try:
            outcome = store.record_paths(args.paths) if args.paths else store.record([])
        except Spooled as err:
            _say(str(err))
            return ExitCode.SPOOLED
        for problem in outcome.rejected:
            _say(f"rejected {problem}")
        print(outcome)
        return ExitCode.FAILED if outcome.rejected else ExitCode.OK
    if args.action == "status":
        target = database.read_dsn()
    else:
        target = database.dsn()
    with database.connect(target) as conn:
        if args.action == "upgrade":
            applied = migrate.upgrade(conn)
            print(f"applied {', '.join(applied)}" if applied else "schema already up to date")
        version = migrate.schema_version(conn)
        runs = conn.execute("SELECT count(*) FROM bench.runs").fetchone()[0] if version else 0
    print(
        f"database {database.redact(target)}: schema version {version} of {len(migrate.migrations())}, "
        f"{runs} run(s); spool {spool.spool_dir()}: {spool.files()} file(s)"
    )
    return ExitCode.OK


def _backup(args: argparse.Namespace) -> int:
    from ganblr_bench.warehouse import backup, database

    target = database.read_dsn()
    _say(f"reading {database.redact(target)}")
    done = backup.backup(target, args.file)
    print(f"backed up {done.runs} run(s), {done.job_results} job result(s) to {done.path} ({done.bytes} bytes)")
    return ExitCode.OK


def _restore(args: argparse.Namespace) -> int:
    from ganblr_bench.warehouse import backup, database

    target = database.dsn()
    _say(f"restoring into {database.redact(target)}")
    done = backup.restore(target, args.file, replace=args.replace)
    print(f"restored {done.runs} run(s), {done.job_results} job result(s) from {done.path}")
    return ExitCode.OK


def _prune(args: argparse.Namespace) -> int:
    from ganblr_bench.run import retention

    conf = settings.load(Path.cwd())
    policy = retention.Policy.configured()
    logs = args.logs or settings.AIRFLOW_LOGS.get()
    docker = None
    if args.images:
        import docker as sdk

        docker = sdk.APIClient(base_url=conf.docker_url)  # type: ignore[attr-defined]
    with _reader() as conn:
        todo = retention.plan(conn, conf.results_root, conf.reports_root, policy, logs_root=logs, docker=docker)
    rows = [
        {"action": "delete", "kind": str(i.kind), "target": i.target, "bytes": i.bytes, "reason": i.reason}
        for i in todo.delete
    ]
    rows += [
        {"action": "keep", "kind": str(i.kind), "target": i.target, "bytes": i.bytes, "reason": i.reason}
        for i in todo.keep
    ]
    if args.format != "table":
        print(formats.render(rows, args.format))
    else:
        for row in rows:
            print(f"{row['action']:6} {row['kind']:16} {row['bytes']:>12}  {row['target']}  ({row['reason']})")
        print(f"{len(todo.delete)} item(s) to delete, {todo.freed()} bytes; {len(todo.keep)} kept")
    if not args.apply:
        if args.format == "table":
            print("dry run: nothing deleted (--apply deletes)")
        return ExitCode.OK
    freed, problems = retention.apply(todo, docker)
    for line in problems:
        _say(f"not deleted: {line}")
    print(f"deleted {len(todo.delete) - len(problems)} item(s), freed {freed} bytes")
    return ExitCode.FAILED if problems else ExitCode.OK


def _health(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from ganblr_bench.analysis import health

    max_age = timedelta(seconds=args.max_age or settings.HEALTH_MAX_AGE.get())
    facts = None
    url = settings.AIRFLOW_URL.get()
    if url:
        facts = health.airflow_facts_from_api(url, _airflow_token(url), settings.POOL.get())
    with _reader() as conn:
        found = health.check(conn, max_age, facts)
    print(formats.to_json(found.as_json()) if args.format == "json" else found.line())
    return ExitCode.OK if found.healthy else ExitCode.FAILED


def _airflow_token(url: str) -> str:
    """A token for Airflow's REST API, for the user the settings name."""
    import json
    import urllib.error
    import urllib.request

    body = json.dumps({"username": settings.AIRFLOW_USER.get(), "password": settings.AIRFLOW_PASSWORD.get() or ""})
    request = urllib.request.Request(
        f"{url.rstrip('/')}/auth/token", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return str(json.load(response)["access_token"])
    except (urllib.error.URLError, OSError, KeyError, ValueError) as err:
        raise SettingsError(f"{settings.AIRFLOW_URL.name}={url}: no token from Airflow ({err})") from None


def _view(args: argparse.Namespace) -> int:
    from ganblr_bench.warehouse import views

    with _reader() as conn:
        columns, rows = views.read(conn, args.view)
    print(formats.render([dict(zip(columns, r, strict=True)) for r in rows], args.format))
    return ExitCode.OK


def _results(args: argparse.Namespace) -> int:
    if args.csv:  # the analysts' export of a view, kept under its old name
        args.view, args.format = args.csv, "csv" if args.format == "table" else args.format
        return _view(args)
    from ganblr_bench.analysis import report, runs
    from ganblr_bench.present import report as rendered
    from ganblr_bench.present import results

    thresholds = settings.THRESHOLDS.get()
    with _reader() as conn:
        run_id = runs.resolve(conn, args.run)
        built = report.build(conn, run_id, thresholds=thresholds)
    if not built.stats:
        raise NotFound(f"run {run_id} has no ok job: 'ganblr-bench compare' or the report says why")
    if args.format in ("json", "csv"):
        print(formats.render(results.machine_rows(built), args.format))
        return ExitCode.OK
    print(f"{rendered.title(built)}: every model side by side (means over ok seeds)")
    print(formats.render(results.people_rows(built), args.format))
    for dataset in built.datasets:
        lines = rendered.ladder_text(built, dataset)
        if lines:
            print(
                f"\n{dataset}: from the floor (independent columns) to the real data (TRTR), and the share of the way"
            )
            print("\n".join(lines))
    return ExitCode.OK


def _report(args: argparse.Namespace) -> int:
    from ganblr_bench.analysis import report, runs
    from ganblr_bench.present import report as rendered

    thresholds, out = settings.THRESHOLDS.get(), writable_folder(args.out, "--out")
    with _reader() as conn:
        run_id = runs.resolve(conn, args.run)
        built = report.build(conn, run_id, last_runs=args.last, thresholds=thresholds)
    paths = rendered.write(built, out)
    print(f"report of run {run_id}: {paths['html']} and {paths['markdown']}")
    return ExitCode.OK


def _detect(args: argparse.Namespace) -> int:
    from ganblr_bench.analysis import runs, trends
    from ganblr_bench.states import Verdict
    from ganblr_bench.warehouse import migrate

    thresholds = settings.THRESHOLDS.get()  # as the pipeline judges, not the defaults; a bad one fails first
    with _reader() as conn:
        migrate.require_current(conn)
        run_id = runs.resolve(conn, args.run)
        found = trends.detect(conn, run_id, thresholds)
    regressions = [d for d in found if d.finding.verdict == Verdict.REGRESSION]
    if args.format != "table":
        rows = [
            {"run_id": run_id, "model": d.model, "dataset": d.dataset, "stack": str(d.stack)}
            | {k: (str(v) if k in ("verdict", "better") else v) for k, v in vars(d.finding).items()}
            for d in found
        ]
        print(formats.render(rows, args.format))
    else:
        for d in found:  # regressions first
            print(f"{d.finding.verdict}: {d}")
        print(f"run {run_id}: {len(regressions)} regression(s), {len(found) - len(regressions)} improvement(s)")
    return ExitCode.FAILED if regressions else ExitCode.OK


def _runs(args: argparse.Namespace) -> int:
    from ganblr_bench.analysis import runs
    from ganblr_bench.present import runs as rendered

    with _reader() as conn:
        index = runs.index(conn, runs.check_limit(args.limit))
    if args.format == "html":
        print(rendered.html(index))
        return ExitCode.OK
    if not index and args.format == "table":
        print("no runs recorded yet")
        return ExitCode.OK
    print(formats.render(rendered.rows(index), args.format))
    return ExitCode.OK


def _compare(args: argparse.Namespace) -> int:
    from ganblr_bench.analysis import compare, runs
    from ganblr_bench.present import comparison

    thresholds = settings.THRESHOLDS.get()
    with _reader() as conn:
        if args.models:
            if args.run_a and args.run_b or args.stack:
                raise ContractError("compare --models: name one run (one model's jobs against the other's)")
            run = runs.resolve(conn, args.run_a or args.run_b or "latest")
            found = compare.compare_models(conn, run, args.models[0], args.models[1], thresholds)
            if not any(c.b.n for c in found.changes):
                raise NotFound(f"run {run} has no ok jobs of both {args.models[0]} and {args.models[1]}")
        elif args.stack:
            if args.run_a and args.run_b:
                raise ContractError("compare --stack: name one run (its locked jobs against its other stack's)")
            run = runs.resolve(conn, args.run_a or args.run_b or "latest")
            found = compare.compare_stacks(conn, run, Stack(args.stack), thresholds=thresholds)
            if not any(c.b.n for c in found.changes):
                raise NotFound(f"run {run} has no {args.stack} jobs: trigger it with the {args.stack} stack")
        else:
            b = runs.resolve(conn, args.run_b or "latest")
            a = runs.resolve(conn, args.run_a) if args.run_a else runs.previous_comparable(conn, b)
            if a is None:
                raise NotFound(f"no earlier run shares a job configuration with {b}: name the run to compare it with")
            found = compare.compare(conn, a, b, repo=Path.cwd(), thresholds=thresholds)
    only = not args.all
    if args.format == "json":
        print(formats.to_json(comparison.as_json(found, only)))
    elif args.format == "csv":
        print(formats.render(comparison.machine_rows(found, only), "csv"))
    elif args.format == "html":
        print(comparison.html(found, only, args.sort))
    elif args.format == "md":
        print(comparison.markdown(found, only, args.sort))
    else:
        a, b = found.side("A"), found.side("B")
        if found.stacks or found.models:
            print(f"run: {found.a.run_id} ({found.a.started_at:%Y-%m-%d %H:%M}, {found.a.kind}): {a} against {b}")
        else:
            print(f"A: {found.a.run_id} ({found.a.started_at:%Y-%m-%d %H:%M}, {found.a.kind})")
            print(f"B: {found.b.run_id} ({found.b.started_at:%Y-%m-%d %H:%M}, {found.b.kind})")
        print(
            f"\nwhat changed from {a} to {b}:" if found.changed else f"\nwhat changed from {a} to {b}: nothing recorded"
        )
        for change in found.changed:
            print(f"  {change.line()}")
        print(f"\n{comparison.headline(found)}")
        for line in comparison.summary_lines(found):
            print(f"  {line}")
        rows = comparison.people_rows(found, only, args.sort)
        print(
            "\n" + (formats.render(rows, "table") if rows else "(no figure moved beyond noise; --all shows them all)")
        )
    return ExitCode.FAILED if args.fail_on_regression and found.regressions else ExitCode.OK


def _schema(args: argparse.Namespace) -> int:
    from ganblr_bench.contract import json_schemas

    print(formats.to_json(json_schemas()))
    return ExitCode.OK


def _completion(args: argparse.Namespace) -> int:
    print(bash_completion(parser()))
    return ExitCode.OK


def bash_completion(p: argparse.ArgumentParser) -> str:
    """A bash completion script for every subcommand and its options (``source <(ganblr-bench completion)``)."""
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    cases = []
    for name, child in sub.choices.items():
        words = [o for a in child._actions for o in a.option_strings if o not in ("-h",)]
        words += [c for a in child._actions if a.choices and not a.option_strings for c in a.choices]
        cases.append(f'    {name}) opts="{" ".join(words)}" ;;')
    return "\n".join(
        [
            "# ganblr-bench completion for bash: source <(ganblr-bench completion)",
            "_ganblr_bench() {",
            '  local cur=${COMP_WORDS[COMP_CWORD]} opts=""',
            '  if [ "$COMP_CWORD" -eq 1 ]; then',
            f'    COMPREPLY=($(compgen -W "{" ".join(sub.choices)} --help --version" -- "$cur")); return',
            "  fi",
            '  case "${COMP_WORDS[1]}" in',
            *cases,
            "  esac",
            '  COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
            '  [ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))',
            "}",
            "complete -F _ganblr_bench ganblr-bench",
        ]
    )


# ---------------------------------------------------------------- the parser


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{value}: give a number from 1 to 10000")
    return value


def _duration(text: str) -> float:
    try:
        return settings.duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r}: {err}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line and exit 2, as every other bad input
        self.exit(int(ExitCode.BAD_INPUT), f"{self.prog}: {message} (see --help)\n")


def _command(sub: Any, name: str, summary: str, example: str, func: Any) -> argparse.ArgumentParser:
    child: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    child.set_defaults(func=func)
    return child


def _format(child: argparse.ArgumentParser, extra: tuple[str, ...] = ()) -> None:
    child.add_argument(
        "--format",
        choices=formats.FORMATS + extra,
        default="table",
        help="table and md for people; csv and json for machines (raw numbers in base units)"
        + (", html for a page" if extra else ""),
    )


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ganblr-bench",
        description="Scheduled, containerised, trend-tracked benchmarks of GANBLR and GANBLR++. Exit codes: 0 done, "
        "1 a job failed / a regression was found / a result was rejected, 2 bad input, 3 results spooled.",
    )
    p.add_argument("--version", action="version", version=f"ganblr-bench {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = _command(
        sub,
        "run",
        "run one benchmark job from a job spec",
        "ganblr-bench run --spec spec.json --out results/adult-1",
        _run,
    )
    run.add_argument("--spec", type=Path, required=True, help="job spec JSON (docs/contract.md)")
    run.add_argument("--out", type=Path, required=True, help="folder for result.json and the synthetic sample")

    data = _command(
        sub, "data", "list the datasets, or fetch them into the cache", "ganblr-bench data fetch adult", _data
    )
    data.add_argument("action", choices=("list", "fetch"))
    data.add_argument("names", nargs="*", help="datasets to fetch (default: all)")
    _format(data)

    presets = _command(
        sub,
        "presets",
        "list the run presets: what each runs ('preset' in a trigger's parameters)",
        "ganblr-bench presets --format json",
        _presets,
    )
    _format(presets)

    generators = _command(
        sub,
        "generators",
        "list the generators a run can ask for: built in, and those installed packages declare (entry points)",
        "ganblr-bench generators --format json",
        _generators,
    )
    _format(generators)

    db = _command(
        sub,
        "db",
        "the metrics database: upgrade, record, replay, status, backup, restore, stop-embedded",
        "ganblr-bench db backup /backups/ganblr_bench-$(date +%F).dump",
        _db,
    )
    db.add_argument("action", choices=("upgrade", "record", "replay", "status", "backup", "restore", "stop-embedded"))
    db.add_argument(
        "paths", nargs="*", type=Path, help="record: run or job folders; backup, restore: the file (custom format)"
    )
    db.add_argument("--replace", action="store_true", help="restore: drop what the target database holds first")

    prune = _command(
        sub,
        "prune",
        "what the retention policy deletes (a dry run; --apply deletes it)",
        "ganblr-bench prune --images --apply",
        _prune,
    )
    prune.add_argument("--apply", action="store_true", help="delete what the plan lists")
    prune.add_argument("--images", action="store_true", help="also our own old images on the Docker engine")
    prune.add_argument("--logs", type=Path, help="Airflow's task log folder (default GANBLR_BENCH_AIRFLOW_LOGS)")
    _format(prune)

    health = _command(
        sub,
        "health",
        "is the nightly alive? exit 0 healthy, 1 stale or failing, one line saying why",
        "ganblr-bench health --max-age 26h",
        _health,
    )
    health.add_argument(
        "--max-age",
        type=_duration,
        help="a successful nightly run must be younger than this: 26h, 90m, 2d (default 26h)",
    )
    health.add_argument("--format", choices=("table", "json"), default="table")

    results = _command(
        sub,
        "results",
        "every model side by side for a run (default: the latest)",
        "ganblr-bench results --run latest --format csv > figures.csv",
        _results,
    )
    results.add_argument("--run", default="latest", help=RUN_HELP)
    results.add_argument("--csv", metavar="VIEW", help="print analytics.VIEW as CSV (the same as 'view VIEW')")
    _format(results)

    view = _command(
        sub,
        "view",
        "print one of the analysts' views (analytics.VIEW)",
        "ganblr-bench view metric_history --format csv > history.csv",
        _view,
    )
    view.add_argument("view", metavar="VIEW", help="e.g. runs, job_results, metric_history, regressions")
    _format(view)

    runs = _command(
        sub,
        "runs",
        "the runs, newest first: kind, trigger, jobs, failures, regressions",
        "ganblr-bench runs --limit 10",
        _runs,
    )
    runs.add_argument("--limit", type=_limit, default=30, help="how many runs (1-10000, default 30)")
    _format(runs, ("html",))

    cmp = _command(
        sub,
        "compare",
        "run A against run B: every figure beyond noise, and what changed between them",
        "ganblr-bench compare previous latest --fail-on-regression",
        _compare,
    )
    cmp.add_argument("run_a", metavar="RUN_A", nargs="?", help=RUN_HELP + " (default: the run before B)")
    cmp.add_argument("run_b", metavar="RUN_B", nargs="?", help=RUN_HELP + " (default: latest)")
    shown = cmp.add_mutually_exclusive_group()
    shown.add_argument("--all", action="store_true", help="also the figures that did not move beyond noise")
    shown.add_argument("--only-changed", action="store_true", help="only the figures beyond noise (the default)")
    cmp.add_argument(
        "--sort", choices=("name", "change"), default="name", help="by dataset and model, or largest change first"
    )
    cmp.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 when a watched figure got worse beyond noise"
    )
    cmp.add_argument(
        "--stack",
        choices=[str(s) for s in Stack if s != Stack.LOCKED],
        help="one run's locked jobs against its jobs on this stack (a candidate build, or the canary)",
    )
    cmp.add_argument(
        "--models",
        nargs=2,
        metavar=("MODEL_A", "MODEL_B"),
        help="one run's jobs of MODEL_A against MODEL_B's: two implementations of a model (ganblr katabatic-ganblr)",
    )
    _format(cmp, ("html",))

    rep = _command(
        sub,
        "report",
        "write a run's report (HTML and Markdown)",
        "ganblr-bench report --run latest --out var/report",
        _report,
    )
    rep.add_argument("--run", default="latest", help=RUN_HELP)
    rep.add_argument("--out", type=Path, required=True, help="folder for report.html, report.md and the plots")
    rep.add_argument("--last", type=_limit, default=20, help="runs shown in the trend plots")

    det = _command(
        sub,
        "detect",
        "judge a run against its history (exit 1 if a figure regressed)",
        "ganblr-bench detect --run latest",
        _detect,
    )
    det.add_argument("--run", default="latest", help=RUN_HELP)
    _format(det)

    _command(
        sub,
        "schema",
        "print the JSON Schemas of the job spec, the result and the run facts",
        "ganblr-bench schema > schemas.json",
        _schema,
    )
    _command(sub, "completion", "print a bash completion script", "source <(ganblr-bench completion)", _completion)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BenchError as err:
        _say(("invalid input: " if isinstance(err, ContractError) else "") + str(err))
        return int(err.exit_code)


if __name__ == "__main__":
    sys.exit(main())
