"""A run's report for people: one list of sections (``sections``), written as HTML and as Markdown.

The words are here, the numbers are the analysis' (``analysis/report.py``): each fact is said once, in one
unit people read (1.05 GiB, 4 min 12 s), with one percentage per fact. ``write`` saves ``report.html``
(self-contained: plots embedded) and ``report.md`` (plots beside it) in one folder.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path
from urllib.parse import quote

from ganblr_bench import figures, generator_catalog, layout
from ganblr_bench.analysis import report as analysis
from ganblr_bench.analysis.compare import Comparison, Movement, Noise
from ganblr_bench.analysis.report import Finding, Report
from ganblr_bench.generator_catalog import FLOOR, UNDER_TEST, label
from ganblr_bench.present import comparison, document, plots
from ganblr_bench.present.document import Banner, Block, Bullets, Code, Heading, Image, Link, Paragraph, Table, Tone
from ganblr_bench.present.pages import page
from ganblr_bench.states import RunKind, Stack, Status, Verdict

FOOTNOTE = (
    "Figures: means over a run's ok seeds ± their sample standard deviation. TSTR: train on synthetic, test on "
    "real; TRTR: train on real, test on real (means over the run's classifiers). The model's memory and CPU "
    "cover fit + sample only. The references are the floor (independent columns) and naive Bayes by counting; "
    "the share of the way is how far a model gets from the floor to the real data."
)


def title(report: Report) -> str:
    """'Nightly run of 2026-12-01 02:00 UTC: car, adult · 3 seeds · 10 epochs', from the run's kind and facts."""
    run = report.run
    kind = {RunKind.SCHEDULED: "Nightly run", RunKind.MANUAL: "Manual run", RunKind.CLI: "Run by hand"}.get(
        run.kind, "Test run"
    )
    seeds = len(run.params.get("seeds") or []) or len({j.seed for j in report.jobs})
    epochs = run.params.get("epochs")
    facts = [", ".join(report.datasets), f"{seeds} seed{'s' if seeds != 1 else ''}"]
    if epochs:
        facts.append(f"{epochs} epoch{'s' if epochs != 1 else ''}")
    by = f" by {run.triggered_by}" if run.triggered_by and run.kind == RunKind.MANUAL else ""
    return f"{kind} of {run.started_at:%Y-%m-%d %H:%M} UTC{by}: " + " · ".join(facts)


def finding_line(f: Finding) -> str:
    """A detector's finding in words: what moved, the new value against the baseline, the change."""
    metric = figures.get(f.metric)
    where = f"{label(f.model)} on {f.dataset}" + ("" if f.stack == Stack.LOCKED else f" ({f.stack} stack)")
    verb, word = ("regressed", "worse") if f.verdict == Verdict.REGRESSION else ("improved", "better")
    return (
        f"{where}: {metric.label} {verb}: {metric.show(f.value)} against a baseline of {metric.show(f.baseline)} "
        f"over {f.runs} runs ({100 * abs(f.relative):.1f} % {word}, {abs(f.z):.1f} spreads)"
    )


def _alerts(report: Report) -> list[Block]:
    problems = [finding_line(f) for f in report.regressions]
    problems += [f"{j.job}: {j.status}: {(j.error or '').strip()}" for j in report.failures]
    unjudged = report.unjudged
    history = ""
    if unjudged:
        least = min(d.earlier for d in unjudged.values())
        needed = next(iter(unjudged.values())).needed
        history = (
            f"not enough history to judge {len(unjudged)} of {len(report.depth)} model-dataset series "
            f"({least} of {needed} runs)"
        )
    if problems:
        return [Banner(Tone.ALERT, "Needs a look", problems + ([history.capitalize()] if history else []))]
    if unjudged and len(unjudged) == len(report.depth):
        return [Banner(Tone.NOTE, f"No failed job; {history}: no regression could be found yet.")]
    return [Banner(Tone.OK, "No regression, no failed job." + (f" ({history.capitalize()}.)" if history else ""))]


def _changed(report: Report) -> list[Block]:
    """What changed since the baseline's last run, and where this run starts a series (and why)."""
    starts = [s.line() for s in report.starts if s.before_run is not None]
    if not report.previous and not starts:
        return []
    items = [c.line() for c in report.changed] or ["nothing recorded changed"]
    title = f"What changed since run {report.previous}" if report.previous else "Series that start with this run"
    return [Heading(title), Bullets((items if report.previous else []) + starts)]


def _comparisons(report: Report, dataset: str) -> list[str]:
    """The models under test set against each other, in words, from the numbers."""
    out: list[str] = []
    tested = [m for m in report.models if m in UNDER_TEST]
    if len(tested) < 2:
        return out
    for what, key in (
        ("execution time", "execution_s"),
        ("startup time", "startup_s"),
        ("peak memory", "peak_memory_bytes"),
    ):
        metric = figures.get(key)
        have = sorted((s.mean, m) for m in tested if (s := report.stat(dataset, m, key)).mean)
        if len(have) < 2:
            continue
        (low, best), others = have[0], have[1:]
        if all(v / low < 1.05 for v, _ in others):
            out.append(
                f"{what.capitalize()} is about the same: "
                + ", ".join(f"{label(m)} {metric.show(v)}" for v, m in have)
                + "."
            )
            continue
        rest = "; ".join(f"{label(m)} {metric.show(v)}, {v / low:.2f}× that" for v, m in others)
        out.append(f"{label(best)} has the lowest {what} ({metric.show(low)}); {rest}.")
    scored = sorted(
        ((s, m) for m in tested if (s := report.stat(dataset, m, "tstr_accuracy")).mean is not None),
        key=lambda p: -(p[0].mean or 0),
    )
    if len(scored) >= 2:
        (a, first), (b, second) = scored[0], scored[1]
        text = f"{label(first)} is more accurate on TSTR than {label(second)} by {a.mean - b.mean:.3f} ({a.mean:.3f} vs {b.mean:.3f})"  # type: ignore[operator]
        if a.sd is None or b.sd is None:
            text += "; with one seed a side the seed-to-seed spread is unknown."
        else:
            se = math.sqrt(a.sd**2 / a.n + b.sd**2 / b.n)
            beyond = a.mean - b.mean > 2 * se  # type: ignore[operator]
            text += (
                f", more than the seeds' spread allows (2 standard errors: {2 * se:.3f})."
                if beyond
                else f", within the seeds' spread (2 standard errors: {2 * se:.3f}): not a real difference."
            )
        out.append(text)
    return out


def _share(share: float | None) -> str:
    if share is None:
        return ""
    return "below the floor" if round(100 * share) < 0 else f"{100 * share:.0f} % of the way"


def _ladder(report: Report, dataset: str) -> tuple[list[str], Table | None]:
    keys = analysis.ladder_metrics(report, dataset)
    if not keys or report.stat(dataset, FLOOR, keys[0]).mean is None:
        return [], None
    words = []
    floor = report.stat(dataset, FLOOR, "tstr_accuracy").mean
    for model in [m for m in report.models if m in UNDER_TEST]:
        share = analysis.share_of_the_way(report, dataset, model, "tstr_accuracy")
        if share is None or floor is None:
            continue
        top = analysis.ceiling(report, dataset, model, "tstr_accuracy")
        where = "is below the floor" if round(100 * share) < 0 else f"covers {100 * share:.0f} % of the way"
        words.append(
            f"{label(model)}'s synthetic data {where} from the floor (independent columns, TSTR {floor:.3f}) to the "
            f"real data (TRTR {top:.3f}) on TSTR accuracy."
        )
    rows: list[list[document.Cell]] = []
    for key in keys:
        metric = figures.get(key)
        row: list[document.Cell] = [metric.label, metric.show(analysis.ceiling(report, dataset, FLOOR, key))]
        for model in report.models:
            value = report.stat(dataset, model, key).mean
            where = _share(analysis.share_of_the_way(report, dataset, model, key)) if model != FLOOR else "the floor"
            row.append(metric.show(value) + (f" ({where})" if where and value is not None else ""))
        rows.append(row)
    return words, Table(["figure", "real data (TRTR)"] + [label(m) for m in report.models], rows)


def _figures_table(report: Report, dataset: str) -> Table:
    build = figures.get("image_build_s").show(report.run.image_build_s)
    if report.run.image_build_cached:
        build = "cached (0 s)"
    rows: list[list[str]] = [["image build (the run's)"] + [build] * len(report.models)]
    for metric in analysis.SHOWN:
        rows.append([metric.label] + [_stat_text(report.stat(dataset, m, metric.key), metric) for m in report.models])
    rows.append(["ok seeds / jobs"] + ["{1} / {0}".format(*report.count(dataset, m)) for m in report.models])
    return Table(["figure"] + [label(m) for m in report.models], rows)


def _stat_text(stat: analysis.Stat, metric: figures.Metric) -> str:
    return metric.show(stat.mean, stat.sd)


def _leaderboard(report: Report) -> list[Block]:
    if len(report.models) < 2:
        return []
    blocks: list[Block] = [
        Heading("Leaderboard"),
        Paragraph(
            "Each model's rank among the run's models on every dataset (1 = best; ties share a rank), and its mean "
            "rank across the datasets, as SDGym ranks synthesizers."
        ),
    ]
    for key in analysis.LEADERBOARD:
        metric = figures.get(key)
        standings = analysis.leaderboard(report, key)
        if all(s.mean_rank is None for s in standings):
            continue
        rows: list[list[document.Cell]] = []
        for s in standings:
            cells: list[document.Cell] = [label(s.model)]
            for d in report.datasets:
                value = s.values.get(d)
                cells.append("-" if value is None else f"{metric.show(value)} ({s.ranks[d]:g})")
            cells.append("-" if s.mean_rank is None else f"{s.mean_rank:.2f}")
            rows.append(cells)
        blocks += [Heading(metric.label, 3), Table(["model", *report.datasets, "mean rank"], rows)]
    return blocks


def _canary(report: Report) -> list[Block]:
    """Per stack beside the locked one (the canary, a candidate build): what differs, and every figure judged
    against the locked jobs of the same run by the noise rules of two runs."""
    blocks: list[Block] = []
    for other, found in report.against.items():
        blocks += _stack_section(report, other, found)
    return blocks


def _stack_section(report: Report, other: Stack, found: Comparison) -> list[Block]:
    changes = [(c.name, c.a, c.b) for c in found.changed if c.kind == "package"]
    blocks: list[Block] = [
        Heading(f"Locked vs {other} stack"),
        Bullets(
            ([f"candidate: {report.run.params.get('candidate')}"] if other == Stack.CANDIDATE else [])
            + ([f"{p}: {a or '-'} → {b or '-'}" for p, a, b in changes] or ["no package version differs"])
        ),
    ]
    moved = ", ".join(f"{p} {a} → {b}" for p, a, b in changes) or "no package version differs"
    judged = {(c.dataset, c.model, c.metric): c for c in found.changes}
    models = [m for m in report.models if not generator_catalog.has_own_stack(m)]  # ours ran on both stacks
    for dataset in report.datasets:
        lines = []
        for model in models:
            total, ok = report.count(dataset, model, other)
            if total and not ok:
                errors = sorted(
                    {
                        (j.error or "").strip()
                        for j in report.failures
                        if (j.dataset, j.model, j.stack) == (dataset, model, other)
                    }
                )
                lines.append(f"{label(model)} broke on the {other} stack ({moved}): {'; '.join(errors)}")
                continue
            for metric in analysis.SHOWN:
                c = judged.get((dataset, model, metric.key))
                if c is None or c.relative is None or abs(c.relative) < metric.min_relative_change:
                    continue
                shown = f"{100 * c.relative:+.1f} % on the {other} stack ({metric.show(c.a.mean)} → {metric.show(c.b.mean)})"
                if c.beyond_noise:
                    verb = {Movement.WORSE: "got worse", Movement.BETTER: "got better"}.get(c.movement, "moved")
                    lines.append(f"{label(model)}'s {metric.label} {verb}, beyond noise: {shown}, with {moved}.")
                elif c.noise == Noise.UNKNOWN:
                    lines.append(f"{label(model)}'s {metric.label} moved {shown}; noise unknown (one seed a side).")
        header = ["figure"] + [f"{label(m)} {h}" for m in models for h in ("locked", str(other), "change", "verdict")]
        rows: list[list[document.Cell]] = []
        for metric in analysis.SHOWN:
            row: list[document.Cell] = [metric.label]
            for model in models:
                c = judged.get((dataset, model, metric.key))
                row += [
                    _stat_text(report.stat(dataset, model, metric.key, Stack.LOCKED), metric),
                    _stat_text(report.stat(dataset, model, metric.key, other), metric),
                    "-" if c is None or c.relative is None else f"{100 * c.relative:+.1f} %",
                    "-" if c is None else comparison.verdict(c),
                ]
            rows.append(row)
        blocks += [
            Heading(dataset, 3),
            Bullets(lines or [f"no figure moved beyond noise on the {other} stack"]),
            Table(header, rows),
        ]
    return blocks


def _implementations(report: Report) -> list[Block]:
    """Each model beside another implementation of it in the run (Katabatic's GANBLR beside tulip-lab's): the
    same datasets, seeds and knobs, every figure of the other judged against the model's by the noise rules of
    two runs."""
    blocks: list[Block] = []
    for (a, b), found in report.implementations.items():
        judged = {(c.dataset, c.metric): c for c in found.changes}
        blocks += [
            Heading(f"{label(a)} vs {label(b)}"),
            Paragraph(
                f"Two implementations of one model on the same datasets, seeds and settings, each in the image of "
                f"its own stack; a change is {label(b)}'s against {label(a)}'s, beyond noise only where it passes "
                "two standard errors of the seeds (one seed a side: noise unknown)."
            ),
        ]
        for dataset in report.datasets:
            rows: list[list[document.Cell]] = []
            lines = []
            for metric in analysis.SHOWN:
                c = judged.get((dataset, metric.key))
                if c is None:
                    continue
                rows.append(
                    [
                        metric.label,
                        _stat_text(report.stat(dataset, a, metric.key), metric),
                        _stat_text(report.stat(dataset, b, metric.key), metric),
                        comparison.change_text(c),
                        comparison.verdict(c),
                    ]
                )
                if c.beyond_noise:
                    lines.append(
                        f"{metric.label}: {label(b)} {metric.show(c.b.mean)} against {label(a)} "
                        f"{metric.show(c.a.mean)} ({100 * (c.relative or 0.0):+.1f} %, {comparison.verdict(c)})."
                    )
            if rows:
                blocks += [
                    Heading(dataset, 3),
                    Bullets(lines or ["no figure differs beyond noise"]),
                    Table(["figure", label(a), label(b), "change", "verdict"], rows),
                ]
    return blocks


def _gb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e9:.2f} GB"


def _this_build(i: analysis.RunImage) -> str:
    if not i.build_s:
        return "tag found"
    return f"{i.build_s:.1f} s" + (" (cold)" if i.cold else " (layer cache)")


def _one_image_or_several(report: Report) -> list[Block]:
    """The seed's question, answered from this run: the images its jobs ran in, what each costs, and why a
    variant could not share ours (the resolver's words, from its lock)."""
    if not report.images:
        return []
    rows: list[list[document.Cell]] = [
        [
            i.stack,
            i.models_lock or "-",
            ", ".join(label(m) for m in sorted(i.models, key=generator_catalog.order)) or "-",
            _gb(i.size_bytes),
            _this_build(i),
            "-" if i.cold_build_s is None else f"{i.cold_build_s:.1f} s" + (" (this run)" if i.cold else ""),
            str(i.jobs),
            "-" if i.startup_s is None else f"{i.startup_s:.2f} s",
            i.ref,
        ]
        for i in report.images
    ]
    variants = [i for i in report.images if i.variant]
    main = next((i for i in report.images if i.stack == Stack.LOCKED), None)
    if not variants:
        words = [f"One image: every generator of this run shares the {report.images[0].stack} stack."]
    else:
        words = [
            f"{len(variants) + 1} model stacks, so {len(variants) + 1} images: "
            + "; ".join(
                f"the {v.stack} stack ({', '.join(label(m) for m in v.models) or 'no job'}) conflicts with ours on "
                f"{len(v.conflicts)} pin(s)"
                + (
                    f", and costs {_gb(v.size_bytes)} beside our {_gb(main.size_bytes)}"
                    if main and v.size_bytes and main.size_bytes
                    else ""
                )
                for v in variants
            )
            + "."
        ]
    words.append(
        "A cold build installs the whole stack (a new host, a changed lock, a pruned layer cache): what a new host "
        "pays; a build from the layer cache reruns only what changed. benchmarks/bench_stacks.py measures cold builds."
    )
    blocks: list[Block] = [
        Heading("One image or several"),
        Bullets(words),
        Table(
            [
                "stack",
                "lock",
                "generators",
                "size",
                "this run's build",
                "cold build",
                "jobs",
                "startup (median)",
                "image",
            ],
            rows,
            numeric=[False, False, False, True, False, True, True, True, False],
        ),
    ]
    for v in variants:
        if v.conflicts:
            blocks += [
                Heading(f"Why the {v.stack} stack cannot share our image (the resolver's words)", 3),
                Bullets(v.conflicts),
            ]
    return blocks


def _artifact(run_id: str, job: str, name: str) -> str:
    """Where the Benchmarks page serves one of a job's files (behind Airflow's login)."""
    return f"/ganblr-bench/runs/{quote(run_id, safe='')}/jobs/{quote(job, safe='')}/{name}"


def _jobs(report: Report) -> list[Block]:
    variant = {i.ref: i.stack for i in report.images if i.variant}  # a variant's jobs: its stack, not ours
    rows: list[list[document.Cell]] = []
    for j in sorted(report.jobs, key=lambda j: (j.dataset, generator_catalog.order(j.model), j.seed, j.stack)):
        links = [
            Link(name, _artifact(report.run.run_id, j.job, name)) for name in (layout.RESULT_FILE, layout.SPEC_FILE)
        ]
        if j.status == Status.OK:
            links.append(Link(layout.SYNTHETIC_FILE, _artifact(report.run.run_id, j.job, layout.SYNTHETIC_FILE)))
        rows.append(
            [
                j.job,
                label(j.model),
                j.dataset,
                str(j.seed),
                variant.get(j.image or "", str(j.stack)),
                str(j.status),
                *links,
                *([""] * (3 - len(links))),
                j.artifact_uri or "-",
            ]
        )
    return [
        Heading("Jobs"),
        Table(
            ["job", "model", "dataset", "seed", "stack", "status", "result", "spec", "sample", "folder"],
            rows,
            numeric=[False, False, False, True, False, False, False, False, False, False],
        ),
    ]


def _reproduce(report: Report) -> list[Block]:
    run = report.run
    params = {k: v for k, v in run.params.items() if v not in (None, {}, [])}
    conf = json.dumps(params, sort_keys=True)
    facts = [
        ("run", run.run_id),
        ("kind", str(run.kind)),
        ("started", f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("image", f"{run.image_ref or '-'} {run.image_digest or ''}".strip()),
        ("git", run.git_sha or "-"),
        ("host", f"{run.host_name or '-'}, {run.host_cpus or '-'} CPUs"),
        ("stacks", ", ".join(report.stacks) or "-"),
    ] + sorted(report.versions.get(report.stack, {}).items())
    return [
        Heading("Reproduce"),
        Paragraph("The same run again (same parameters, seeds and image inputs), triggered by hand:"),
        Code(f"airflow dags trigger ganblr_benchmark --conf {shlex.quote(conf)}"),
        Paragraph("One job of it, on this machine (its spec is in the job's folder):"),
        Code("ganblr-bench run --spec <job folder>/spec.json --out <new folder>"),
        Table(["fact", "value"], [[k, v] for k, v in facts], numeric=[False, False]),
    ]


def sections(report: Report, with_plots: bool = True) -> list[Block]:
    """The report, top to bottom: what needs a look, what changed, the leaderboard, each dataset, the canary,
    the jobs, how to reproduce it."""
    blocks: list[Block] = [Heading(title(report), 1), *_alerts(report)]
    if report.improvements:
        blocks.append(Banner(Tone.OK, "Improvements", [finding_line(f) for f in report.improvements]))
    blocks += _changed(report)
    blocks += _leaderboard(report)
    for dataset in report.datasets:
        suffix = "" if report.stack == Stack.LOCKED else f" ({report.stack} stack)"
        words, ladder = _ladder(report, dataset)
        blocks += [
            Heading(dataset + suffix),
            Bullets(_comparisons(report, dataset) + words),
            _figures_table(report, dataset),
        ]
        if ladder is not None:
            blocks += [Heading(f"{dataset}: from the floor to the real data", 3), ladder]
        if with_plots:
            blocks.append(Image(f"trends-{dataset}.png", plots.trends(report, dataset), f"trends of {dataset}"))
            shapes = plots.marginals(report, dataset)
            if shapes is not None:
                blocks += [
                    Heading(f"{dataset}: where the samples differ most from the real data", 3),
                    Paragraph(
                        "Each model's three columns whose synthetic shares are furthest from the real training rows' "
                        "(numeric columns as GANBLR's bins, spelt out as intervals; bins.json beside a job's "
                        "synthetic.csv decodes its labels)."
                    ),
                    Image(f"marginals-{dataset}.png", shapes, f"marginals of {dataset}"),
                ]
    blocks += _canary(report)
    blocks += _implementations(report)
    blocks += _one_image_or_several(report)
    blocks += _jobs(report)
    blocks += _reproduce(report)
    blocks.append(Paragraph(FOOTNOTE))
    return blocks


def html_body(report: Report) -> str:
    return document.html(sections(report))


def html_page(report: Report) -> str:
    return page(f"ganblr-bench: {title(report)}", html_body(report))


def write(report: Report, folder: Path) -> dict[str, Path]:
    """report.html (self-contained) and report.md with its plots beside it, in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blocks = sections(report)
    text, images = document.markdown(blocks)
    for name, png in images.items():
        (folder / name).write_bytes(png)
    paths = {"html": folder / "report.html", "markdown": folder / "report.md"}
    layout.write_text_atomic(paths["html"], page(f"ganblr-bench: {title(report)}", document.html(blocks)))
    layout.write_text_atomic(paths["markdown"], text)
    return paths


def ladder_text(report: Report, dataset: str) -> list[str]:
    """The floor-to-real-data table as aligned text lines (the CLI and the quick start print it)."""
    _, table = _ladder(report, dataset)
    if table is None:
        return []
    rows = [table.header] + [[c.text if isinstance(c, Link) else c for c in r] for r in table.rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
