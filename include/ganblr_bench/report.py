"""The per-run comparison report: GANBLR beside GANBLR++, in words, numbers and trend plots.

``build(conn, run_id)`` reads the warehouse's views; ``write(report, folder)`` saves a
self-contained ``report.html`` (plots embedded as PNG) and ``report.md`` (plots beside it).
The Benchmarks page in Airflow renders the same HTML body. Figures are means over a run's
ok seeds with their sample standard deviation; a difference between the models "exceeds
the seed-to-seed spread" when it is larger than two standard errors of the difference.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from . import compare, metrics, trends, views
from .contract import MODEL_LABELS, MODELS, REFERENCES, UNDER_TEST
from .pages import html_table, page

SHOWN = tuple(metrics.get(k) for k in metrics.COMPARED if not metrics.get(k).per_run)  # per job, in the tables
STACK_ORDER = ("locked", "latest")


@dataclass
class Stat:
    mean: float | None
    stdev: float | None
    n: int

    def show(self, metric: metrics.Metric) -> str:
        return metric.show(self.mean, self.stdev if self.n > 1 else None)


@dataclass
class Report:
    run: dict
    datasets: list[str]
    stacks: list[str]  # the run's stacks, locked first; the first is the one the main tables show
    stats: dict[tuple[str, str, str, str], Stat]  # (dataset, model, stack, metric key) -> stat over ok seeds
    jobs: dict[tuple[str, str, str], tuple[int, int]]  # (dataset, model, stack) -> (jobs, ok jobs)
    findings: list[dict]
    failures: list[dict]
    versions: dict[str, dict[str, str]]  # stack -> package -> version, from the stack's jobs
    # (dataset, model, metric) -> [(run started at, value, run id)], oldest first
    history: dict[tuple[str, str, str], list[tuple]] = field(default_factory=dict)
    regressed: set[tuple[str, str, str, str]] = field(default_factory=set)  # (run id, dataset, model, metric)
    thresholds: trends.Thresholds = field(default_factory=trends.Thresholds)  # the band is the detector's baseline
    previous: str | None = None  # the newest earlier run sharing a job configuration: the baseline's last run
    changed: list[str] = field(default_factory=list)  # what changed since it (compare.what_changed)
    plots: dict[str, bytes] = field(default_factory=dict)  # dataset -> PNG

    @property
    def stack(self) -> str:
        return self.stacks[0] if self.stacks else "locked"

    @property
    def models(self) -> list[str]:
        """The run's models, those under test first, then the references."""
        present = {model for _, model, _ in self.jobs}
        return [m for m in MODELS if m in present]

    def stat(self, dataset: str, model: str, key: str, stack: str | None = None) -> Stat:
        return self.stats.get((dataset, model, stack or self.stack, key), Stat(None, None, 0))


def build(
    conn, run_id: str, last_runs: int = 20, thresholds: trends.Thresholds | None = None, plots: bool = True
) -> Report:
    runs = views.rows(conn, "SELECT * FROM analytics.runs WHERE run_id = %s", (run_id,))
    if not runs:
        raise views.ViewError(f"no run {run_id!r} in the warehouse; 'ganblr-bench results --csv runs' lists them")
    jobs = views.rows(
        conn, "SELECT * FROM analytics.job_results WHERE run_id = %s ORDER BY dataset, model, seed", (run_id,)
    )
    stats, counts, versions = {}, {}, {}
    for job in jobs:
        key = (job["dataset"], job["model"], job["stack"])
        total, ok = counts.get(key, (0, 0))
        counts[key] = (total + 1, ok + (job["status"] == "ok"))
        if job["status"] == "ok" or job["stack"] not in versions:
            versions[job["stack"]] = {k: str(v) for k, v in (job["versions"] or {}).items()}
    for key, values in views.figures(conn, run_id).items():
        stats[key] = stat_of(values)
    stacks = [s for s in STACK_ORDER if any(j["stack"] == s for j in jobs)]
    report = Report(
        run=runs[0],
        datasets=sorted({j["dataset"] for j in jobs}),
        stacks=stacks,
        stats=stats,
        jobs=counts,
        findings=views.rows(
            conn,
            "SELECT * FROM analytics.regressions WHERE run_id = %s ORDER BY verdict, model, dataset, metric",
            (run_id,),
        ),
        failures=views.rows(conn, "SELECT * FROM analytics.failures WHERE run_id = %s ORDER BY job", (run_id,)),
        versions=versions,
        thresholds=thresholds or trends.Thresholds(),
    )
    for point in views.rows(conn, _HISTORY, {"run": run_id, "stack": report.stack, "last": last_runs}):
        report.history.setdefault((point["dataset"], point["model"], point["metric"]), []).append(
            (point["run_started_at"], point["value"], point["run_id"])
        )
    shown_runs = sorted({rid for points in report.history.values() for _, _, rid in points})
    report.regressed = {
        (r["run_id"], r["dataset"], r["model"], r["metric"])
        for r in views.rows(
            conn,
            "SELECT run_id, dataset, model, metric FROM analytics.regressions "
            "WHERE verdict = 'regression' AND stack = %s AND run_id = ANY(%s)",
            (report.stack, shown_runs),
        )
    }
    report.previous = compare.previous_comparable(conn, run_id)
    if report.previous:
        report.changed = compare.what_changed(conn, compare.run_row(conn, report.previous), report.run)
    report.plots = {d: _plot(report, d) for d in report.datasets} if plots else {}
    return report


# Per-run means of each series of the run's jobs (on its main stack), over the last N runs up to this one.
_HISTORY = """
WITH mine AS (SELECT DISTINCT model, dataset, config_hash, stack FROM analytics.job_results
              WHERE run_id = %(run)s AND stack = %(stack)s),
runs AS (
    SELECT run_id, started_at FROM analytics.runs
    WHERE started_at <= (SELECT started_at FROM analytics.runs WHERE run_id = %(run)s)
    ORDER BY started_at DESC LIMIT %(last)s
)
SELECT h.model, h.dataset, h.metric, h.run_id, h.run_started_at, avg(h.value) AS value
FROM analytics.metric_history h JOIN mine USING (model, dataset, config_hash, stack) JOIN runs USING (run_id)
GROUP BY h.model, h.dataset, h.metric, h.run_id, h.run_started_at ORDER BY h.run_started_at
"""


def stat_of(values: list[float]) -> Stat:
    """Mean and sample standard deviation over the seeds (the detector's ``mean`` baseline definition)."""
    if not values:
        return Stat(None, None, 0)
    mean, sd = trends.centre_and_spread(values, "mean")
    return Stat(mean, sd if len(values) > 1 else None, len(values))


# ---------------------------------------------------------------- the words


def _ratio_sentence(what: str, a: Stat, b: Stat, metric: metrics.Metric) -> str | None:
    if a.mean is None or b.mean is None or min(a.mean, b.mean) <= 0:
        return None
    fast, slow = ("GANBLR", "GANBLR++") if a.mean <= b.mean else ("GANBLR++", "GANBLR")
    lo, hi = sorted((a.mean, b.mean))
    unit = metric.shown_unit or metric.unit
    if hi / lo < 1.05:
        return (
            f"{what.capitalize()} is about the same ({a.mean / metric.scale:.3g} vs {b.mean / metric.scale:.3g} "
            f"{unit})."
        )
    return (
        f"{fast} has the lower {what}: {lo / metric.scale:.3g} vs {hi / metric.scale:.3g} {unit} "
        f"({hi / lo:.2f}× for {slow})."
    )


def _accuracy_sentence(a: Stat, b: Stat) -> str | None:
    if a.mean is None or b.mean is None:
        return None
    diff = b.mean - a.mean
    leader = "GANBLR++" if diff > 0 else "GANBLR"
    text = (
        f"{leader} is more accurate on TSTR by {abs(diff):.3f} ({a.mean:.3f} for GANBLR vs {b.mean:.3f} for GANBLR++)"
    )
    if a.n < 2 or b.n < 2 or a.stdev is None or b.stdev is None:
        return text + "; with a single seed per model the seed-to-seed spread is unknown."
    se = math.sqrt(a.stdev**2 / a.n + b.stdev**2 / b.n)
    if abs(diff) > 2 * se:
        return text + f", more than the seed-to-seed spread allows (2 standard errors = {2 * se:.3f})."
    return text + f", within the seed-to-seed spread (2 standard errors = {2 * se:.3f}): not a real difference."


def sentences(report: Report, dataset: str) -> list[str]:
    def pair(key: str) -> tuple[Stat, Stat]:
        return report.stat(dataset, "ganblr", key), report.stat(dataset, "ganblr++", key)

    out = [
        _ratio_sentence(what, *pair(key), metrics.get(key))
        for what, key in (
            ("execution time", "execution_s"),
            ("startup time", "startup_s"),
            ("peak memory", "peak_memory_bytes"),
        )
    ]
    out.append(_accuracy_sentence(*pair("tstr_accuracy")))
    for model in MODELS:
        tstr, trtr = report.stat(dataset, model, "tstr_accuracy"), report.stat(dataset, model, "trtr_accuracy")
        if tstr.mean is not None and trtr.mean:
            out.append(
                f"{MODEL_LABELS[model]}'s synthetic data reaches {100 * tstr.mean / trtr.mean:.0f} % of the "
                f"train-on-real accuracy ({tstr.mean:.3f} vs {trtr.mean:.3f})."
            )
    return [s for s in out if s]


# ---------------------------------------------------------------- locked vs latest (the canary)


def version_changes(report: Report) -> list[tuple[str, str, str]]:
    """(package, locked version, latest version) for every package whose version differs between the stacks."""
    locked, latest = report.versions.get("locked", {}), report.versions.get("latest", {})
    return [
        (p, locked.get(p, "-"), latest.get(p, "-"))
        for p in sorted(set(locked) | set(latest))
        if locked.get(p) != latest.get(p) and p != "ganblr-bench"
    ]


def stack_findings(report: Report, dataset: str) -> list[str]:
    """What the latest stack changed for each model on ``dataset``: broken jobs, and figures that moved."""
    if report.stacks != list(STACK_ORDER):
        return []
    changes = ", ".join(f"{p} {a} → {b}" for p, a, b in version_changes(report)) or "no package version differs"
    lines = []
    for model in report.models:
        label = MODEL_LABELS[model]
        total, ok = report.jobs.get((dataset, model, "latest"), (0, 0))
        if total and not ok:
            errors = sorted(
                {
                    f["error"]
                    for f in report.failures
                    if f["dataset"] == dataset and f["model"] == model and f["stack"] == "latest"
                }
            )
            lines.append(f"{label} broke on the latest stack ({changes}): {'; '.join(errors)}")
            continue
        for metric in SHOWN:
            a, b = report.stat(dataset, model, metric.key, "locked"), report.stat(dataset, model, metric.key, "latest")
            if a.mean and b.mean is not None and abs(b.mean - a.mean) / abs(a.mean) >= metric.min_relative_change:
                lines.append(
                    f"{label}'s {metric.label} moved {100 * (b.mean - a.mean) / abs(a.mean):+.1f} % on the "
                    f"latest stack ({metric.show(a.mean)} → {metric.show(b.mean)}), with {changes}."
                )
    return lines


def _stack_rows(report: Report, dataset: str) -> list[list[str]]:
    rows = []
    for metric in SHOWN:
        row = [metric.label]
        for model in report.models:
            a, b = report.stat(dataset, model, metric.key, "locked"), report.stat(dataset, model, metric.key, "latest")
            change = f"{100 * (b.mean - a.mean) / abs(a.mean):+.1f} %" if a.mean and b.mean is not None else "-"
            row += [a.show(metric), b.show(metric), change]
        rows.append(row)
    return rows


def _stack_header(report: Report) -> list[str]:
    return ["figure"] + [f"{MODEL_LABELS[m]} {h}" for m in report.models for h in ("locked", "latest", "change")]


# ---------------------------------------------------------------- from the floor to TRTR

# Column shapes is not on it: the independent reference keeps every marginal by construction (its ceiling,
# not a floor); column pair trends is, since it keeps none of the relations.
LADDER = ("tstr_accuracy", "tstr_macro_f1", "tstr_roc_auc", "column_pair_trends")
_CEILING = {"tstr_accuracy": "trtr_accuracy", "tstr_macro_f1": "trtr_macro_f1", "tstr_roc_auc": "trtr_roc_auc"}


def _ceiling(report: Report, dataset: str, model: str, key: str) -> float | None:
    """The real data's figure for ``model``: its own TRTR (its feature view's); 1 for fidelity."""
    return report.stat(dataset, model, _CEILING[key]).mean if key in _CEILING else 1.0


def share_of_the_way(report: Report, dataset: str, model: str, key: str) -> float | None:
    """How far ``model`` gets from the floor (the independent reference) to the real data, 0 to 1."""
    value, floor = report.stat(dataset, model, key).mean, report.stat(dataset, "independent", key).mean
    top = _ceiling(report, dataset, model, key)
    if value is None or floor is None or top is None or top - floor <= 1e-9:
        return None
    return (value - floor) / (top - floor)


def ladder_rows(report: Report, dataset: str) -> list[list[str]]:
    """Each quality figure per model, between the floor (the independent reference) and the real data
    (the model's own TRTR, its feature view's; 1 for fidelity), with the share of that way each model covers."""
    rows = []
    for key in LADDER:
        metric = metrics.get(key)
        if all(report.stat(dataset, m, key).mean is None for m in ["independent", *report.models]):
            continue
        row = [metric.label, metric.show(_ceiling(report, dataset, "independent", key))]  # the references' view
        for model in report.models:
            share = share_of_the_way(report, dataset, model, key)
            row.append(
                metric.show(report.stat(dataset, model, key).mean)
                + ("" if share is None else f" ({100 * share:.0f} %)")
            )
        rows.append(row)
    return rows


def ladder_text(report: Report, dataset: str) -> list[str]:
    """The ladder as aligned text lines (the CLI and the quick start print it)."""
    rows = [_ladder_header(report)] + ladder_rows(report, dataset)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]


def _ladder_header(report: Report) -> list[str]:
    return ["figure", "real data (TRTR)"] + [MODEL_LABELS[m] for m in report.models]


def ladder_sentences(report: Report, dataset: str) -> list[str]:
    floor = report.stat(dataset, "independent", "tstr_accuracy").mean
    out = []
    for model in UNDER_TEST:
        share = share_of_the_way(report, dataset, model, "tstr_accuracy")
        if share is None:
            continue
        ceiling = _ceiling(report, dataset, model, "tstr_accuracy")
        out.append(
            f"{MODEL_LABELS[model]} covers {100 * share:.0f} % of the way from the floor "
            f"(independent columns, TSTR {floor:.3f}) to the real data (TRTR {ceiling:.3f})"
            + (": below the floor." if share < 0 else ".")
        )
    return out


# ---------------------------------------------------------------- the plots


def _plot(report: Report, dataset: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 3, figsize=(13, 6.4), constrained_layout=True)
    axes = list(grid.flat)
    axes[-1].axis("off")
    window, kind = report.thresholds.window, report.thresholds.baseline
    marked = False
    for ax, key in zip(axes, metrics.TRENDS):
        metric = metrics.get(key)
        for model, colour in zip(MODELS, ("tab:blue", "tab:orange", "tab:gray", "tab:green")):
            points = report.history.get((dataset, model, key), [])
            if not points:
                continue
            xs = [when for when, _, _ in points]
            ys = [v / metric.scale for _, v, _ in points]
            style = "--" if model in REFERENCES else "-"
            ax.plot(xs, ys, style, marker="o", color=colour, label=MODEL_LABELS[model])
            # The band: the detector's baseline (its kind and window) of the points before each one, ± 2 spreads.
            bands = [trends.centre_and_spread(ys[max(0, i - window) : i], kind) if i else None for i in range(len(ys))]
            shown = [i for i, b in enumerate(bands) if b is not None]
            if shown:
                lo = [bands[i][0] - 2 * bands[i][1] for i in shown]
                hi = [bands[i][0] + 2 * bands[i][1] for i in shown]
                ax.fill_between([xs[i] for i in shown], lo, hi, color=colour, alpha=0.15)
            flagged = [i for i, (_, _, rid) in enumerate(points) if (rid, dataset, model, key) in report.regressed]
            if flagged:
                marked = True
                ax.scatter(
                    [xs[i] for i in flagged],
                    [ys[i] for i in flagged],
                    s=160,
                    facecolors="none",
                    edgecolors="red",
                    linewidths=2,
                    zorder=5,
                    label=None,
                )
        unit = metric.shown_unit or metric.unit
        ax.set_title(metric.label + ("" if unit == "fraction" else f" ({unit})"))
        locator = mdates.AutoDateLocator(minticks=2, maxticks=5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.tick_params(axis="x", labelsize="small")
        when = [w for m in MODELS for w, _, _ in report.history.get((dataset, m, key), [])]
        if when and min(when) == max(when):  # one run so far: a day around it, not the locator's decades
            ax.set_xlim(min(when) - timedelta(hours=12), max(when) + timedelta(hours=12))
        ax.set_xlabel("run started (UTC)")
        ax.grid(alpha=0.3)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(loc="best", fontsize="small")
    centre = "median ± 2 x 1.4826 MAD" if kind == "median" else "mean ± 2 sd"
    fig.suptitle(
        f"{dataset}: last runs; band = {centre} of up to {window} earlier runs"
        + ("; red rings: regressions the detector flagged" if marked else "")
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


# ---------------------------------------------------------------- rendering


def _table_rows(report: Report, dataset: str) -> list[list[str]]:
    build = metrics.get("image_build_s").show(report.run.get("image_build_s"))
    if report.run.get("image_build_cached"):
        build += " (cached)"
    rows = [["image build"] + [build] * len(report.models)]
    for metric in SHOWN:
        rows.append([metric.label] + [report.stat(dataset, m, metric.key).show(metric) for m in report.models])
    rows.append(
        ["ok seeds / jobs"]
        + ["{1} / {0}".format(*report.jobs.get((dataset, m, report.stack), (0, 0))) for m in report.models]
    )
    return rows


def _table_header(report: Report) -> list[str]:
    return ["figure"] + [MODEL_LABELS[m] for m in report.models]


def _finding_line(f: dict) -> str:
    where = f"{f['model']} on {f['dataset']}" + (" (latest stack)" if f["stack"] == "latest" else "")
    verb, word = ("regressed", "worse") if f["verdict"] == "regression" else ("improved", "better")
    return (
        f"{where}: {f['metric']} {verb}: {f['value']:.4g} vs baseline {f['baseline_mean']:.4g} "
        f"({100 * abs(f['relative_change']):.1f} % {word}, z={abs(f['z_score']):.1f})"
    )


def _alert_lines(report: Report) -> list[str]:
    """What needs a look: regressions and failed jobs (improvements are listed apart)."""
    lines = [_finding_line(f) for f in report.findings if f["verdict"] == "regression"]
    return lines + [f"{f['job']}: {f['status']}: {f['error']}" for f in report.failures]


def _improvement_lines(report: Report) -> list[str]:
    return [_finding_line(f) for f in report.findings if f["verdict"] == "improvement"]


def _facts(report: Report) -> list[tuple[str, str]]:
    r = report.run
    facts = [
        ("run", r["run_id"]),
        ("kind", r["kind"]),
        ("started", str(r["started_at"])),
        ("image", f"{r.get('image_ref') or '-'} {r.get('image_digest') or ''}".strip()),
        ("git", r.get("git_sha") or "-"),
        ("host CPUs", str(r.get("host_cpus") or "-")),
        ("stacks", ", ".join(report.stacks) or "-"),
    ]
    return facts + sorted(report.versions.get(report.stack, {}).items())


def _stack_title(report: Report) -> str:
    return "" if report.stack == "locked" else f" ({report.stack} stack)"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return (
        [f"| {' | '.join(header)} |", "|---" + "|---:" * (len(header) - 1) + "|"]
        + [f"| {' | '.join(row)} |" for row in rows]
        + [""]
    )


def markdown(report: Report, image_names: dict[str, str]) -> str:
    out = [f"# GANBLR vs GANBLR++: run {report.run['run_id']}", ""]
    findings, better = _alert_lines(report), _improvement_lines(report)
    out += ["## Alerts", ""] + ([f"- {line}" for line in findings] or ["- none: no regression, no failed job"]) + [""]
    if better:
        out += ["## Improvements", ""] + [f"- {line}" for line in better] + [""]
    if report.previous:
        out += [f"## What changed since run {report.previous}", ""]
        out += [f"- {line}" for line in report.changed] or ["- nothing recorded changed"]
        out += [""]
    for dataset in report.datasets:
        out += [f"## {dataset}{_stack_title(report)}", ""]
        out += [f"- {s}" for s in sentences(report, dataset) + ladder_sentences(report, dataset)] + [""]
        out += _md_table(_table_header(report), _table_rows(report, dataset))
        if ladder_rows(report, dataset):
            out += [f"### {dataset}: from the floor to the real data", ""]
            out += _md_table(_ladder_header(report), ladder_rows(report, dataset))
        if dataset in image_names:
            out += [f"![trends of {dataset}]({image_names[dataset]})", ""]
    if report.stacks == list(STACK_ORDER):
        out += ["## Locked vs latest stack", ""]
        out += [f"- {p}: {a} → {b}" for p, a, b in version_changes(report)] or ["- no package version differs"]
        for dataset in report.datasets:
            out += ["", f"### {dataset}", ""] + [f"- {s}" for s in stack_findings(report, dataset)] + [""]
            out += _md_table(_stack_header(report), _stack_rows(report, dataset))
        out += [""]
    out += ["## Reproduce", ""] + [f"- {k}: `{v}`" for k, v in _facts(report)] + [""]
    out += [
        "Figures: means over ok seeds ± sample standard deviation. TSTR: train on synthetic, test on real; "
        "TRTR: train on real, test on real (mean over the run's classifiers). The model's memory and CPU cover "
        "fit + sample only; the references are the floor (independent columns) and naive Bayes by counting; "
        "a share is the way from the floor to the real data a model covers."
    ]
    return "\n".join(out) + "\n"


def html_body(report: Report) -> str:
    """The report's HTML without <html>/<head>: what the Benchmarks page embeds."""
    e = html.escape
    out = [f"<h1>GANBLR vs GANBLR++ <small>run {e(report.run['run_id'])}</small></h1>"]
    findings, better = _alert_lines(report), _improvement_lines(report)
    if findings:
        out.append(
            '<div class="alert"><b>Alerts</b><ul>' + "".join(f"<li>{e(l)}</li>" for l in findings) + "</ul></div>"
        )
    else:
        out.append('<div class="ok">No regression, no failed job.</div>')
    if better:
        out.append(
            '<div class="ok"><b>Improvements</b><ul>' + "".join(f"<li>{e(l)}</li>" for l in better) + "</ul></div>"
        )
    out.append(_changed_html(report))
    for dataset in report.datasets:
        out.append(
            f"<h2>{e(dataset)}{e(_stack_title(report))}</h2><ul>"
            + "".join(f"<li>{e(s)}</li>" for s in sentences(report, dataset) + ladder_sentences(report, dataset))
            + "</ul>"
        )
        out.append(html_table(_table_header(report), _table_rows(report, dataset)))
        if ladder_rows(report, dataset):
            out.append(f"<h3>{e(dataset)}: from the floor to the real data</h3>")
            out.append(html_table(_ladder_header(report), ladder_rows(report, dataset)))
        if dataset in report.plots:
            data = base64.b64encode(report.plots[dataset]).decode()
            out.append(f'<img alt="trends of {e(dataset)}" src="data:image/png;base64,{data}">')
    if report.stacks == list(STACK_ORDER):
        changes = version_changes(report)
        out.append(
            "<h2>Locked vs latest stack</h2><ul>"
            + (
                "".join(f"<li>{e(p)}: {e(a)} → {e(b)}</li>" for p, a, b in changes)
                or "<li>no package version differs</li>"
            )
            + "</ul>"
        )
        for dataset in report.datasets:
            out.append(
                f"<h3>{e(dataset)}</h3><ul>"
                + "".join(f"<li>{e(s)}</li>" for s in stack_findings(report, dataset))
                + "</ul>"
                + html_table(_stack_header(report), _stack_rows(report, dataset))
            )
    out.append(
        "<h2>Reproduce</h2><table>"
        + "".join(f"<tr><td>{e(k)}</td><td><code>{e(str(v))}</code></td></tr>" for k, v in _facts(report))
        + "</table>"
    )
    out.append(
        "<p>Means over ok seeds ± sample standard deviation. TSTR: train on synthetic, test on real; "
        "TRTR: train on real, test on real (mean over the run's classifiers). The model's memory and CPU cover "
        "fit + sample only; the references are the floor (independent columns) and naive Bayes by counting; "
        "a share is the way from the floor to the real data a model covers.</p>"
    )
    return "\n".join(out)


def html_page(report: Report, title: str | None = None) -> str:
    return page(title or f"ganblr-bench: run {report.run['run_id']}", html_body(report))


def _changed_html(report: Report) -> str:
    if not report.previous:
        return ""
    e = html.escape
    items = "".join(f"<li>{e(line)}</li>" for line in report.changed) or "<li>nothing recorded changed</li>"
    return f"<h2>What changed since run {e(report.previous)}</h2><ul>{items}</ul>"


def write(report: Report, folder: Path) -> dict[str, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for dataset, png in report.plots.items():
        names[dataset] = f"trends-{dataset}.png"
        (folder / names[dataset]).write_bytes(png)
    paths = {"html": folder / "report.html", "markdown": folder / "report.md"}
    paths["html"].write_text(html_page(report))
    paths["markdown"].write_text(markdown(report, names))
    return paths
