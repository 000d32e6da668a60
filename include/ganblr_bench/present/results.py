"""A run's figures as rows: wide for people (a column per model, units people read), long for machines (one
row per dataset, stack, model and figure: mean, sd and n over the seeds, in the stored unit)."""

from __future__ import annotations

from typing import Any

from ganblr_bench import figures
from ganblr_bench.analysis.report import Report
from ganblr_bench.generator_catalog import label


def _pairs(report: Report) -> list[tuple[str, Any]]:
    return [(d, s) for d in report.datasets for s in report.stacks]


def people_rows(report: Report) -> list[dict[str, str]]:
    rows = []
    for dataset, stack in _pairs(report):
        name = dataset if stack == report.stacks[0] else f"{dataset} ({stack})"
        for key in figures.COMPARED:
            metric = figures.get(key)
            if all(report.stat(dataset, m, key, stack).mean is None for m in report.models):
                continue
            row = {"dataset": name, "figure": metric.label}
            for model in report.models:
                stat = report.stat(dataset, model, key, stack)
                row[label(model)] = metric.show(stat.mean, stat.sd)
            rows.append(row)
    return rows


def machine_rows(report: Report) -> list[dict[str, Any]]:
    rows = []
    for dataset, stack in _pairs(report):
        for model in report.models:
            for key in figures.COMPARED:
                stat = report.stat(dataset, model, key, stack)
                if stat.n == 0:
                    continue
                rows.append(
                    {
                        "run_id": report.run.run_id,
                        "dataset": dataset,
                        "stack": str(stack),
                        "model": model,
                        "metric": key,
                        "unit": figures.get(key).unit,
                        "mean": stat.mean,
                        "sd": stat.sd,
                        "n": stat.n,
                    }
                )
    return rows
