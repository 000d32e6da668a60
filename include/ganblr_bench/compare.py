"""Runs side by side: the runs index, any two runs compared figure by figure, and what changed between them.

Read from the analytics views only (nothing recomputed from files, nothing stored): the CLI (``ganblr-bench
runs``, ``ganblr-bench compare A B``), the Benchmarks page and the alert all call these functions.

A change is **beyond noise** when it passes the detector's practical thresholds (the metric's minimum
relative change and minimum absolute change, ``metrics.py``) and, where both runs have two or more seeds,
exceeds twice the standard error of the difference of the two means (Welch). With one seed a side the seeds
say nothing about noise, and the verdict rests on the practical thresholds alone (marked ``1 seed``).

**What changed** between two runs lists every input that can move a figure: the git commit, the image (its
digest and input fingerprint), the package versions that differ, the dataset files (checksums), the host
(name, CPUs, memory) and the run parameters that differ (epochs, cores per job, ...).
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from . import metrics, trends, views
from .contract import MODELS, model_slug

INDEX = """
SELECT r.run_id, r.started_at, r.kind, coalesce(r.triggered_by, '') AS triggered_by, r.jobs, r.ok_jobs,
       r.jobs - r.ok_jobs AS failed_jobs,
       (SELECT count(*) FROM analytics.regressions g
        WHERE g.run_id = r.run_id AND g.verdict = 'regression' AND g.stack = 'locked') AS regressions,
       (SELECT count(*) FROM analytics.regressions g
        WHERE g.run_id = r.run_id AND g.verdict = 'improvement' AND g.stack = 'locked') AS improvements
FROM analytics.runs r ORDER BY r.started_at DESC, r.run_id DESC LIMIT %s
"""


def index(conn, limit: int = 30) -> list[dict]:
    """The newest runs first: when, what kind, who triggered it, its jobs, failures, regressions, a status."""
    out = []
    for row in views.rows(conn, INDEX, (limit,)):
        row["status"] = "ok" if not row["failed_jobs"] and not row["regressions"] else "needs a look"
        out.append(row)
    return out


@dataclass(frozen=True)
class Change:
    dataset: str
    model: str
    stack: str
    metric: str
    a: float | None
    b: float | None
    seeds: tuple[int, int]
    relative: float | None  # (b - a) / |a|
    verdict: str  # worse | better | same | new | gone
    beyond_noise: bool

    def row(self) -> dict:
        m = metrics.get(self.metric)
        return {
            "dataset": self.dataset + ("" if self.stack == "locked" else f" ({self.stack})"),
            "model": model_slug(self.model),
            "figure": m.label,
            "a": m.show(self.a),
            "b": m.show(self.b),
            "change": "-" if self.relative is None else f"{100 * self.relative:+.1f} %",
            # "1 seed": the verdict rests on the practical thresholds alone (no spread to judge noise by)
            "verdict": self.verdict
            + ((" (beyond noise, 1 seed)" if min(self.seeds) == 1 else " (beyond noise)") if self.beyond_noise else ""),
        }


@dataclass(frozen=True)
class Comparison:
    a: dict  # analytics.runs row
    b: dict
    changes: list[Change]
    changed: list[str]  # what changed between the runs, one line each

    def rows(self) -> list[dict]:
        return [c.row() for c in self.changes]

    def as_json(self) -> dict:
        return {
            "a": self.a["run_id"],
            "b": self.b["run_id"],
            "what_changed": self.changed,
            "figures": [asdict(c) for c in self.changes],
        }


def _mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean, sd = trends.centre_and_spread(values, "mean")  # one definition of mean and sd, the detector's
    return mean, sd if len(values) > 1 else None


def judge(metric: str, a: list[float], b: list[float]) -> tuple[float | None, str, bool]:
    """(relative change, worse|better|same|new|gone, beyond noise) of the run means of ``a`` and ``b``."""
    (ma, sa), (mb, sb) = _mean_sd(a), _mean_sd(b)
    if ma is None or mb is None:
        return None, "new" if ma is None else "gone", False
    m = metrics.get(metric)
    if m.per_run and 0.0 in (ma, mb):  # an image build skipped (cached) on one side: no build time to compare
        return None, "cached" if ma == mb else "cached on one side", False
    delta = mb - ma
    relative = delta / abs(ma) if ma else (math.inf if delta else 0.0)
    worse = delta > 0 if m.better == "lower" else delta < 0
    practical = abs(relative) >= m.min_relative_change and abs(delta) >= m.min_absolute_change
    if sa is not None and sb is not None:
        practical = practical and abs(delta) > 2 * math.sqrt(sa**2 / len(a) + sb**2 / len(b))
    if delta == 0:
        return 0.0, "same", False
    return relative, "worse" if worse else "better", practical


def compare(conn, run_a: str, run_b: str, repo: Path | None = None) -> Comparison:
    """Every figure of run A against run B (``metrics.COMPARED``, every model and dataset they share or not)."""
    a, b = run_row(conn, run_a), run_row(conn, run_b)
    fa, fb = views.figures(conn, run_a), views.figures(conn, run_b)
    order = {m: i for i, m in enumerate(MODELS)}
    changes = []
    for dataset, model, stack, metric in sorted(
        {k for k in fa.keys() | fb.keys() if k[3] in metrics.COMPARED},
        key=lambda k: (k[0], k[2] != "locked", k[2], order.get(k[1], 9), metrics.COMPARED.index(k[3])),
    ):
        va, vb = fa.get((dataset, model, stack, metric), []), fb.get((dataset, model, stack, metric), [])
        relative, verdict, beyond = judge(metric, va, vb)
        changes.append(
            Change(
                dataset,
                model,
                stack,
                metric,
                _mean_sd(va)[0],
                _mean_sd(vb)[0],
                (len(va), len(vb)),
                relative,
                verdict,
                beyond,
            )
        )
    return Comparison(a, b, changes, what_changed(conn, a, b, repo))


def run_row(conn, run_id: str) -> dict:
    found = views.rows(conn, "SELECT * FROM analytics.runs WHERE run_id = %s", (run_id,))
    if not found:
        raise views.ViewError(f"no run {run_id!r} in the warehouse; 'ganblr-bench runs' lists them")
    return found[0]


_JOB_FACTS = """
SELECT dataset, stack, versions, dataset_checksum FROM analytics.job_results
WHERE run_id = %s AND status = 'ok' ORDER BY dataset, model, seed
"""


def what_changed(conn, a: dict, b: dict, repo: Path | None = None) -> list[str]:
    """Every input that differs between runs ``a`` and ``b`` (analytics.runs rows), one line each."""
    lines = []
    if a["git_sha"] != b["git_sha"]:
        lines.append(f"git: {_short(a['git_sha'])} -> {_short(b['git_sha'])}" + _commits(repo, a, b))
    if a["image_digest"] != b["image_digest"]:
        same_inputs = a["image_inputs_hash"] == b["image_inputs_hash"]
        lines.append(
            f"image: {_short(a['image_digest'], 19)} -> {_short(b['image_digest'], 19)}"
            + (" (same inputs, rebuilt)" if same_inputs else " (its inputs changed)")
        )
    facts_a, facts_b = _facts(conn, a["run_id"]), _facts(conn, b["run_id"])
    for package in sorted(facts_a["versions"].keys() | facts_b["versions"].keys()):
        va, vb = facts_a["versions"].get(package, "-"), facts_b["versions"].get(package, "-")
        if va != vb:
            lines.append(f"package {package}: {va} -> {vb}")
    for dataset in sorted(facts_a["checksums"].keys() & facts_b["checksums"].keys()):
        if facts_a["checksums"][dataset] != facts_b["checksums"][dataset]:
            lines.append(
                f"dataset {dataset}: files changed (checksum {facts_a['checksums'][dataset][:12]} -> "
                f"{facts_b['checksums'][dataset][:12]})"
            )
    for fact in ("host_name", "host_cpus", "host_memory_bytes", "backend"):
        if a[fact] != b[fact]:
            lines.append(f"{fact.replace('_', ' ')}: {a[fact]} -> {b[fact]}")
    params_a, params_b = a["params"] or {}, b["params"] or {}
    for name in sorted(params_a.keys() | params_b.keys()):
        if params_a.get(name) != params_b.get(name):
            lines.append(f"parameter {name}: {_short_json(params_a.get(name))} -> {_short_json(params_b.get(name))}")
    return lines


def _facts(conn, run_id: str) -> dict:
    versions, checksums = {}, {}
    for row in views.rows(conn, _JOB_FACTS, (run_id,)):
        if row["stack"] == "locked":
            versions.update({k: str(v) for k, v in (row["versions"] or {}).items()})
        if row["dataset_checksum"]:
            checksums.setdefault(row["dataset"], row["dataset_checksum"])
    return {"versions": versions, "checksums": checksums}


def _commits(repo: Path | None, a: dict, b: dict) -> str:
    """The commits between the two runs' SHAs, when a repository that has both is at hand."""
    if repo is None or not a["git_sha"] or not b["git_sha"]:
        return ""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "log", "--oneline", "--no-decorate", f"{a['git_sha']}..{b['git_sha']}"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:
        return ""
    commits = out.stdout.strip().splitlines() if out.returncode == 0 else []
    if not commits:
        return ""
    shown = "; ".join(commits[:5]) + (f"; and {len(commits) - 5} more" if len(commits) > 5 else "")
    return f" ({len(commits)} commit{'s' if len(commits) > 1 else ''}: {shown})"


def _short(value: str | None, n: int = 10) -> str:
    return "-" if not value else value[:n]


def _short_json(value) -> str:
    def set_only(v):  # an override's unset fields (null) say nothing
        return {k: set_only(x) for k, x in v.items() if x is not None} if isinstance(v, dict) else v

    text = json.dumps(set_only(value), sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def previous_comparable(conn, run_id: str) -> str | None:
    """The newest earlier run with a job configuration in common with ``run_id`` (the baseline's last run)."""
    row = conn.execute(
        """
        SELECT j.run_id FROM analytics.job_results j JOIN analytics.runs r USING (run_id)
        WHERE j.config_hash IN (SELECT config_hash FROM analytics.job_results WHERE run_id = %(run)s)
          AND r.started_at < (SELECT started_at FROM analytics.runs WHERE run_id = %(run)s)
        ORDER BY r.started_at DESC LIMIT 1
        """,
        {"run": run_id},
    ).fetchone()
    return row[0] if row else None


# ---------------------------------------------------------------- pages (the Benchmarks page presents these)


def index_html(rows: list[dict]) -> str:
    """The runs index: each run links to its report and to its comparison with the run before it."""
    import html
    from urllib.parse import quote, urlencode

    from .pages import page

    e = html.escape
    head = [
        "run",
        "started (UTC)",
        "kind",
        "triggered by",
        "jobs",
        "failed",
        "regressions",
        "improvements",
        "status",
        "",
    ]
    out = ["<h1>Benchmark runs</h1>", "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    for i, r in enumerate(rows):
        before = rows[i + 1]["run_id"] if i + 1 < len(rows) else None
        link = f'<a href="runs/{quote(r["run_id"], safe="")}">{e(r["run_id"])}</a>'
        vs = f'<a href="{e("compare?" + urlencode({"a": before, "b": r["run_id"]}))}">vs previous</a>' if before else ""
        cells = [
            r["started_at"].strftime("%Y-%m-%d %H:%M"),
            r["kind"],
            r["triggered_by"] or "-",
            r["jobs"],
            r["failed_jobs"],
            r["regressions"],
            r["improvements"],
        ]
        flag = "alert" if r["status"] != "ok" else "ok"
        out.append(
            f"<tr><td>{link}</td>"
            + "".join(f'<td class="n">{e(str(c))}</td>' for c in cells)
            + f'<td class="{flag}">{e(r["status"])}</td><td>{vs}</td></tr>'
        )
    out.append("</table>")
    out.append(
        '<form action="compare"><b>Compare</b> run A <input name="a" size="40"> with run B '
        '<input name="b" size="40"> <button>compare</button></form>'
    )
    return page("ganblr-bench: runs", "\n".join(out))


def comparison_html(found: Comparison) -> str:
    """Run A against run B: what changed between them, then every figure side by side."""
    import html
    from urllib.parse import quote

    from .pages import html_table, page

    e = html.escape
    a, b = found.a, found.b
    out = [
        f'<h1>Run A against run B</h1><p>A: <a href="runs/{quote(a["run_id"], safe="")}">{e(a["run_id"])}</a> '
        f'({a["started_at"]:%Y-%m-%d %H:%M}, {e(a["kind"])})<br>B: <a href="runs/{quote(b["run_id"], safe="")}">'
        f"{e(b['run_id'])}</a> ({b['started_at']:%Y-%m-%d %H:%M}, {e(b['kind'])})</p>",
        "<h2>What changed from A to B</h2><ul>"
        + ("".join(f"<li>{e(line)}</li>" for line in found.changed) or "<li>nothing recorded changed</li>")
        + "</ul>",
    ]
    moved = [c for c in found.changes if c.beyond_noise]
    out.append(
        f'<div class="{"alert" if any(c.verdict == "worse" for c in moved) else "ok"}">'
        f"{len(moved)} of {len(found.changes)} figures changed beyond noise</div>"
    )
    rows = [list(c.row().values()) for c in found.changes]
    out.append(html_table(["dataset", "model", "figure", "A", "B", "change", "verdict"], rows))
    out.append(
        "<p>Means over each run's ok seeds. A change is beyond noise when it passes the detector's minimum "
        "relative and absolute change for that figure and, with two or more seeds a side, exceeds two standard "
        "errors of the difference; with one seed a side, the minimum changes alone decide (marked 1 seed).</p>"
    )
    return page(f"ganblr-bench: {a['run_id']} vs {b['run_id']}", "\n".join(out))
