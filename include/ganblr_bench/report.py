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
from pathlib import Path

from . import trends
from .store import StoreError

MODELS = (("ganblr", "GANBLR"), ("ganblr++", "GANBLR++"))
# figure key (analytics.job_results column), label, unit scale, format
FIGURES = (
    ("startup_s", "startup", 1.0, "{:.2f} s"),
    ("peak_memory_bytes", "peak memory", 2**20, "{:.0f} MiB"),
    ("cpu_percent", "CPU", 1.0, "{:.0f} %"),
    ("execution_s", "execution (fit + sample)", 1.0, "{:.2f} s"),
    ("tstr_accuracy_mean", "TSTR accuracy", 1.0, "{:.3f}"),
    ("trtr_accuracy_mean", "TRTR accuracy", 1.0, "{:.3f}"),
)
TREND_METRICS = (("execution_s", "execution s"), ("startup_s", "startup s"), ("peak_memory_bytes", "peak MiB"),
                 ("cpu_percent", "CPU %"), ("tstr_accuracy", "TSTR accuracy"))


@dataclass
class Stat:
    mean: float | None
    stdev: float | None
    n: int

    def show(self, scale: float, fmt: str) -> str:
        if self.mean is None:
            return "-"
        text = fmt.format(self.mean / scale)
        if self.stdev is not None and self.n > 1:
            text += " ± " + fmt.split(" ")[0].format(self.stdev / scale)
        return text


@dataclass
class Report:
    run: dict
    datasets: list[str]
    stats: dict[tuple[str, str, str], Stat]  # (dataset, model, figure) -> stat over ok seeds
    jobs: dict[tuple[str, str], tuple[int, int]]  # (dataset, model) -> (jobs, ok jobs)
    findings: list[dict]
    failures: list[dict]
    versions: dict[str, str]
    history: dict[tuple[str, str, str], list[tuple]] = field(default_factory=dict)  # (dataset, model, metric) -> points
    plots: dict[str, bytes] = field(default_factory=dict)  # dataset -> PNG

    def stat(self, dataset: str, model: str, figure: str) -> Stat:
        return self.stats.get((dataset, model, figure), Stat(None, None, 0))


def _rows(conn, sql: str, params: tuple) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def build(conn, run_id: str, last_runs: int = 20) -> Report:
    runs = _rows(conn, "SELECT * FROM analytics.runs WHERE run_id = %s", (run_id,))
    if not runs:
        raise StoreError(f"no run {run_id!r} in the warehouse; 'ganblr-bench results --csv runs' lists them")
    jobs = _rows(conn, "SELECT * FROM analytics.job_results WHERE run_id = %s ORDER BY dataset, model, seed", (run_id,))
    stats, counts = {}, {}
    for job in jobs:
        key = (job["dataset"], job["model"])
        total, ok = counts.get(key, (0, 0))
        counts[key] = (total + 1, ok + (job["status"] == "ok"))
    for (dataset, model) in counts:
        ok = [j for j in jobs if j["dataset"] == dataset and j["model"] == model and j["status"] == "ok"]
        for figure, *_ in FIGURES:
            values = [float(j[figure]) for j in ok if j[figure] is not None]
            stats[(dataset, model, figure)] = Stat(
                sum(values) / len(values) if values else None,
                _stdev(values), len(values))
    report = Report(
        run=runs[0], datasets=sorted({j["dataset"] for j in jobs}), stats=stats, jobs=counts,
        findings=_rows(conn, "SELECT * FROM analytics.regressions WHERE run_id = %s ORDER BY verdict, model, dataset, "
                             "metric", (run_id,)),
        failures=_rows(conn, "SELECT * FROM analytics.failures WHERE run_id = %s ORDER BY job", (run_id,)),
        versions={k: v for k, v in (jobs[0] if jobs else {}).items() if k.endswith("_version") and v},
    )
    for point in _rows(conn, _HISTORY, (run_id, run_id, last_runs)):
        report.history.setdefault((point["dataset"], point["model"], point["metric"]), []).append(
            (point["run_started_at"], point["value"]))
    report.plots = {d: _plot(report, d) for d in report.datasets}
    return report


# Per-run means of each series of the run's jobs, over the last N runs up to this one.
_HISTORY = """
WITH mine AS (SELECT DISTINCT model, dataset, config_hash FROM analytics.job_results WHERE run_id = %s),
runs AS (
    SELECT run_id, started_at FROM analytics.runs
    WHERE started_at <= (SELECT started_at FROM analytics.runs WHERE run_id = %s)
    ORDER BY started_at DESC LIMIT %s
)
SELECT h.model, h.dataset, h.metric, h.run_started_at, avg(h.value) AS value
FROM analytics.metric_history h JOIN mine USING (model, dataset, config_hash) JOIN runs USING (run_id)
GROUP BY h.model, h.dataset, h.metric, h.run_started_at ORDER BY h.run_started_at
"""


def _stdev(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


# ---------------------------------------------------------------- the words

def _ratio_sentence(what: str, a: Stat, b: Stat, unit: str, scale: float = 1.0) -> str | None:
    if a.mean is None or b.mean is None or min(a.mean, b.mean) <= 0:
        return None
    fast, slow = (("GANBLR", "GANBLR++") if a.mean <= b.mean else ("GANBLR++", "GANBLR"))
    lo, hi = sorted((a.mean, b.mean))
    if hi / lo < 1.05:
        return f"{what.capitalize()} is about the same ({a.mean / scale:.3g} vs {b.mean / scale:.3g} {unit})."
    return (f"{fast} has the lower {what}: {lo / scale:.3g} vs {hi / scale:.3g} {unit} "
            f"({hi / lo:.2f}× for {slow}).")


def _accuracy_sentence(a: Stat, b: Stat) -> str | None:
    if a.mean is None or b.mean is None:
        return None
    diff = b.mean - a.mean
    leader = "GANBLR++" if diff > 0 else "GANBLR"
    text = (f"{leader} is more accurate on TSTR by {abs(diff):.3f} ({a.mean:.3f} for GANBLR vs "
            f"{b.mean:.3f} for GANBLR++)")
    if a.n < 2 or b.n < 2 or a.stdev is None or b.stdev is None:
        return text + "; with a single seed per model the seed-to-seed spread is unknown."
    se = math.sqrt(a.stdev**2 / a.n + b.stdev**2 / b.n)
    if abs(diff) > 2 * se:
        return text + f", more than the seed-to-seed spread allows (2 standard errors = {2 * se:.3f})."
    return text + f", within the seed-to-seed spread (2 standard errors = {2 * se:.3f}): not a real difference."


def sentences(report: Report, dataset: str) -> list[str]:
    g, p = (lambda f: report.stat(dataset, "ganblr", f)), (lambda f: report.stat(dataset, "ganblr++", f))
    out = [
        _ratio_sentence("execution time", g("execution_s"), p("execution_s"), "s"),
        _ratio_sentence("startup time", g("startup_s"), p("startup_s"), "s"),
        _ratio_sentence("peak memory", g("peak_memory_bytes"), p("peak_memory_bytes"), "MiB", 2**20),
        _accuracy_sentence(g("tstr_accuracy_mean"), p("tstr_accuracy_mean")),
    ]
    for model, label in MODELS:
        tstr, trtr = report.stat(dataset, model, "tstr_accuracy_mean"), report.stat(dataset, model, "trtr_accuracy_mean")
        if tstr.mean is not None and trtr.mean:
            out.append(f"{label}'s synthetic data reaches {100 * tstr.mean / trtr.mean:.0f} % of the "
                       f"train-on-real accuracy ({tstr.mean:.3f} vs {trtr.mean:.3f}).")
    return [s for s in out if s]


# ---------------------------------------------------------------- the plots

def _plot(report: Report, dataset: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 3, figsize=(13, 6.4), constrained_layout=True)
    axes = list(grid.flat)
    axes[-1].axis("off")
    window = trends.Thresholds().window
    for ax, (metric, label) in zip(axes, TREND_METRICS):
        scale = 2**20 if metric == "peak_memory_bytes" else 1.0
        for (model, name), colour in zip(MODELS, ("tab:blue", "tab:orange")):
            points = report.history.get((dataset, model, metric), [])
            if not points:
                continue
            xs = list(range(len(points)))
            ys = [v / scale for _, v in points]
            ax.plot(xs, ys, marker="o", color=colour, label=name)
            band = [(i, ys[max(0, i - window):i]) for i in xs]  # baseline of the points before each one
            lo = [sum(b) / len(b) - 2 * (_stdev(b) or 0) if b else None for _, b in band]
            hi = [sum(b) / len(b) + 2 * (_stdev(b) or 0) if b else None for _, b in band]
            shown = [i for i in xs if lo[i] is not None]
            if shown:
                ax.fill_between(shown, [lo[i] for i in shown], [hi[i] for i in shown], color=colour, alpha=0.15)
        ax.set_title(label)
        ax.set_xlabel("run (oldest → newest)")
        ax.grid(alpha=0.3)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(loc="best", fontsize="small")
    fig.suptitle(f"{dataset}: last runs, baseline band = mean ± 2 sd of up to {window} earlier runs")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


# ---------------------------------------------------------------- rendering

def _table_rows(report: Report, dataset: str) -> list[list[str]]:
    build = report.run.get("image_build_s")
    cached = report.run.get("image_build_cached")
    build_text = "-" if build is None else f"{build:.1f} s" + (" (cached)" if cached else "")
    rows = [["image build", build_text, build_text]]
    for figure, label, scale, fmt in FIGURES:
        rows.append([label] + [report.stat(dataset, m, figure).show(scale, fmt) for m, _ in MODELS])
    rows.append(["ok seeds / jobs"] + [
        "{1} / {0}".format(*report.jobs.get((dataset, m), (0, 0))) for m, _ in MODELS])
    return rows


def _finding_lines(report: Report) -> list[str]:
    lines = []
    for f in report.findings:
        verb = "regressed" if f["verdict"] == "regression" else "improved"
        lines.append(f"{f['model']} on {f['dataset']}: {f['metric']} {verb}: {f['value']:.4g} vs baseline "
                     f"{f['baseline_mean']:.4g} ({100 * f['relative_change']:+.1f} % worse, z={f['z_score']:.1f})")
    lines += [f"{f['job']}: {f['status']}: {f['error']}" for f in report.failures]
    return lines


def _facts(report: Report) -> list[tuple[str, str]]:
    r = report.run
    facts = [("run", r["run_id"]), ("kind", r["kind"]), ("started", str(r["started_at"])),
             ("image", f"{r.get('image_ref') or '-'} {r.get('image_digest') or ''}".strip()),
             ("git", r.get("git_sha") or "-"), ("host CPUs", str(r.get("host_cpus") or "-"))]
    return facts + sorted(report.versions.items())


def markdown(report: Report, image_names: dict[str, str]) -> str:
    out = [f"# GANBLR vs GANBLR++: run {report.run['run_id']}", ""]
    findings = _finding_lines(report)
    out += ["## Alerts", ""] + ([f"- {line}" for line in findings] or ["- none: no regression, no failed job"]) + [""]
    for dataset in report.datasets:
        out += [f"## {dataset}", ""] + [f"- {s}" for s in sentences(report, dataset)] + [""]
        out += ["| figure | GANBLR | GANBLR++ |", "|---|---:|---:|"]
        out += [f"| {' | '.join(row)} |" for row in _table_rows(report, dataset)] + [""]
        if dataset in image_names:
            out += [f"![trends of {dataset}]({image_names[dataset]})", ""]
    out += ["## Reproduce", ""] + [f"- {k}: `{v}`" for k, v in _facts(report)] + [""]
    out += ["Figures: means over ok seeds ± sample standard deviation. TSTR: train on synthetic, test on real; "
            "TRTR: train on real, test on real (mean over the run's classifiers)."]
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.3rem .6rem}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.alert{background:#fff3f0;border-left:4px solid #d33;padding:.5rem 1rem}.ok{background:#f0fff3;border-left:4px solid #3a3;padding:.5rem 1rem}
img{max-width:100%}code{background:#f6f6f6;padding:0 .2rem}
"""


def html_body(report: Report) -> str:
    """The report's HTML without <html>/<head>: what the Benchmarks page embeds."""
    e = html.escape
    out = [f"<h1>GANBLR vs GANBLR++ <small>run {e(report.run['run_id'])}</small></h1>"]
    findings = _finding_lines(report)
    if findings:
        out.append('<div class="alert"><b>Alerts</b><ul>' + "".join(f"<li>{e(l)}</li>" for l in findings) + "</ul></div>")
    else:
        out.append('<div class="ok">No regression, no failed job.</div>')
    for dataset in report.datasets:
        out.append(f"<h2>{e(dataset)}</h2><ul>" + "".join(f"<li>{e(s)}</li>" for s in sentences(report, dataset))
                   + "</ul><table><tr><th>figure</th><th>GANBLR</th><th>GANBLR++</th></tr>")
        for row in _table_rows(report, dataset):
            out.append(f"<tr><td>{e(row[0])}</td>" + "".join(f'<td class="n">{e(c)}</td>' for c in row[1:]) + "</tr>")
        out.append("</table>")
        if dataset in report.plots:
            data = base64.b64encode(report.plots[dataset]).decode()
            out.append(f'<img alt="trends of {e(dataset)}" src="data:image/png;base64,{data}">')
    out.append("<h2>Reproduce</h2><table>" + "".join(
        f"<tr><td>{e(k)}</td><td><code>{e(str(v))}</code></td></tr>" for k, v in _facts(report)) + "</table>")
    out.append("<p>Means over ok seeds ± sample standard deviation. TSTR: train on synthetic, test on real; "
               "TRTR: train on real, test on real (mean over the run's classifiers).</p>")
    return "\n".join(out)


def html_page(report: Report, title: str | None = None) -> str:
    title = html.escape(title or f"ganblr-bench: run {report.run['run_id']}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{_CSS}</style></head>"
            f"<body>{html_body(report)}</body></html>")


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
