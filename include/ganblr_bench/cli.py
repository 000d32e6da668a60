"""The ``ganblr-bench`` command: the container's entrypoint and the tool people type.

Exit codes: 0 done; 1 the job ran and failed (its result.json says why); 2 bad input,
found before any expensive work started.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__, catalog
from .contract import ContractError, json_schemas, load_spec


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
            print(f"{info.name:12} {info.title:36} {len(info.columns) - 1:3} features, {len(info.numeric):2} numeric, "
                  f"{kind}, {source}")
        return 0
    from . import datasets

    for name in args.names or list(catalog.REGISTRY):
        for role, path in datasets.fetch(name).items():
            print(f"{name} {role}: {path}")
    return 0


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
        from .datasets import DatasetError

        if isinstance(err, DatasetError):
            print(f"ganblr-bench: {err}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
