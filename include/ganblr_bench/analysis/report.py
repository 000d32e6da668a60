"""A run's report as a typed model: every figure per model, its judgement, its history, what changed.

``build(conn, run_id)`` reads the warehouse's views (and nothing else) into a ``Report``; the analysis
questions a report answers are functions here on that model (each model's share of the way from the floor
to the real data, a leaderboard across datasets, whether the detector could judge); ``present/report.py``
renders it to HTML and Markdown from one list of sections, ``present/plots.py`` draws its plots. Figures are
means over a run's ok seeds with their sample standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ganblr_bench import figures, generator_catalog
from ganblr_bench.analysis import compare, trends
from ganblr_bench.analysis.runs import RunFacts, facts, previous_comparable
from ganblr_bench.contract import ColumnMarginal
from ganblr_bench.settings import Thresholds
from ganblr_bench.states import Baseline, Stack, Status, Verdict
from ganblr_bench.warehouse import views

SHOWN = tuple(figures.get(k) for k in figures.COMPARED if not figures.get(k).per_run)  # per job, in the tables
# Quality figures read on the way from the floor (the independent reference) to the real data, and their
# ceilings: the model's own TRTR (its feature view's), 1 for fidelity. Column shapes is not on it: the
# independent reference keeps every marginal by construction (its ceiling, not a floor).
LADDER = ("tstr_accuracy", "tstr_macro_f1", "tstr_roc_auc", "column_pair_trends")
CEILING = {"tstr_accuracy": "trtr_accuracy", "tstr_macro_f1": "trtr_macro_f1", "tstr_roc_auc": "trtr_roc_auc"}
# What the leaderboard ranks models by, on every dataset of the run (higher is better for each).
LEADERBOARD = ("tstr_accuracy", "column_pair_trends")


class StatKey(NamedTuple):
    dataset: str
    model: str
    stack: Stack
    metric: str


@dataclass(frozen=True)
class Stat:
    """A figure over a run's ok seeds: mean, sample standard deviation (two seeds or more), and the values."""

    mean: float | None
    sd: float | None
    n: int
    values: tuple[float, ...] = ()

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        side = compare.Side.of(values)
        return cls(side.mean, side.sd, side.n, tuple(values))


NO_STAT = Stat(None, None, 0)


@dataclass(frozen=True)
class Job:
    job: str
    model: str
    dataset: str
    seed: int
    stack: Stack
    status: Status
    error: str | None
    artifact_uri: str | None
    image: str | None = None  # the tag it ran in


@dataclass(frozen=True)
class Finding:
    model: str
    dataset: str
    stack: Stack
    metric: str
    value: float
    baseline: float
    spread: float
    runs: int
    z: float
    relative: float
    verdict: Verdict


@dataclass(frozen=True)
class RunImage:
    """One image the run's jobs ran in (analytics.run_images): what answers "one image or several?"."""

    stack: str  # locked, latest, candidate, or a variant's model stack
    models_lock: str | None
    ref: str
    size_bytes: int | None
    build_s: float | None  # this run's build; 0 when its tag existed
    cold: bool  # this run's build took no step from the layer cache
    cold_build_s: float | None  # the newest cold build of its stack, in whatever run
    cold_build_run: str | None
    jobs: int
    startup_s: float | None  # median of its ok jobs'
    models: list[str]
    conflicts: list[str]  # why a variant could not share our image: the resolver's, one per pin

    @property
    def variant(self) -> bool:
        return self.stack not in {str(s) for s in Stack}


class HistoryKey(NamedTuple):
    dataset: str
    model: str
    metric: str


class Point(NamedTuple):
    when: datetime
    value: float
    run_id: str


@dataclass(frozen=True)
class Depth:
    """How much history the detector had for a model on a dataset: earlier runs of its series, and the
    ``min_history`` it needs to judge."""

    earlier: int
    needed: int

    @property
    def judged(self) -> bool:
        return self.earlier >= self.needed


@dataclass
class Report:
    run: RunFacts
    datasets: list[str]
    stacks: list[Stack]  # the run's stacks, locked first; the first is the one the main tables show
    models: list[str]  # those under test first, then the references
    stats: dict[StatKey, Stat]
    jobs: list[Job]
    findings: list[Finding]
    versions: dict[Stack, dict[str, str]]  # stack -> package -> version, from the stack's jobs
    thresholds: Thresholds
    history: dict[HistoryKey, list[Point]] = field(default_factory=dict)  # oldest first, on the main stack
    regressed: set[tuple[str, str, str, str]] = field(default_factory=set)  # (run id, dataset, model, metric)
    depth: dict[tuple[str, str], Depth] = field(default_factory=dict)  # (dataset, model) -> the detector's basis
    previous: str | None = None  # the newest earlier run sharing a job configuration: the baseline's last run
    changed: list[compare.InputChange] = field(default_factory=list)  # what changed since it
    starts: list[trends.SeriesStart] = field(default_factory=list)  # where this run starts a new series, and why
    # (dataset, model) -> its first ok seed's most distorted columns, real against synthetic
    marginals: dict[tuple[str, str], list[ColumnMarginal]] = field(default_factory=dict)
    # every other stack of the run (the canary, a candidate) -> its jobs judged against the locked ones
    against: dict[Stack, compare.Comparison] = field(default_factory=dict)
    images: list[RunImage] = field(default_factory=list)  # the images its jobs ran in, ours first
    # (a model, another implementation of it in the run: Katabatic's GANBLR of GANBLR) -> b judged against a
    implementations: dict[tuple[str, str], compare.Comparison] = field(default_factory=dict)

    @property
    def stack(self) -> Stack:
        return self.stacks[0] if self.stacks else Stack.LOCKED

    def stat(self, dataset: str, model: str, metric: str, stack: Stack | None = None) -> Stat:
        return self.stats.get(StatKey(dataset, model, stack or self.stack, metric), NO_STAT)

    def count(self, dataset: str, model: str, stack: Stack | None = None) -> tuple[int, int]:
        """(jobs, ok jobs) of a model on a dataset."""
        mine = [j for j in self.jobs if (j.dataset, j.model, j.stack) == (dataset, model, stack or self.stack)]
        return len(mine), sum(1 for j in mine if j.status == Status.OK)

    @property
    def failures(self) -> list[Job]:
        return [j for j in self.jobs if j.status != Status.OK]

    @property
    def regressions(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict == Verdict.REGRESSION]

    @property
    def improvements(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict == Verdict.IMPROVEMENT]

    @property
    def unjudged(self) -> dict[tuple[str, str], Depth]:
        """The (dataset, model) pairs the detector could not judge for want of history."""
        return {k: d for k, d in self.depth.items() if not d.judged}

    @property
    def canary(self) -> bool:
        """The run has a stack beside the locked one (the canary, or a candidate build)."""
        return Stack.LOCKED in self.stacks and len(self.stacks) > 1

    @property
    def others(self) -> list[Stack]:
        return [s for s in self.stacks if s != Stack.LOCKED] if self.canary else []


# ---------------------------------------------------------------- building it from the warehouse


def build(conn: Any, run_id: str, last_runs: int = 20, thresholds: Thresholds = trends.DEFAULTS) -> Report:
    run = facts(conn, run_id)
    rows = views.rows(
        conn, "SELECT * FROM analytics.job_results WHERE run_id = %s ORDER BY dataset, model, seed, stack", (run_id,)
    )
    jobs = [
        Job(
            r["job"],
            r["model"],
            r["dataset"],
            r["seed"],
            Stack(r["stack"]),
            Status(r["status"]),
            r["error"],
            r["artifact_uri"],
            r["job_image"],
        )
        for r in rows
    ]
    versions: dict[Stack, dict[str, str]] = {}
    shown: dict[tuple[str, str], list[ColumnMarginal]] = {}
    for r in rows:
        if r["status"] == Status.OK and r["stack"] == Stack.LOCKED and r["marginals"]:
            shown.setdefault((r["dataset"], r["model"]), [ColumnMarginal.model_validate(m) for m in r["marginals"]])
        if r["status"] == Status.OK or Stack(r["stack"]) not in versions:
            versions[Stack(r["stack"])] = {k: str(v) for k, v in (r["versions"] or {}).items()}
    stats = {StatKey(d, m, Stack(s), k): Stat.of(v) for (d, m, s, k), v in views.figures(conn, run_id).items()}
    stacks = [s for s in Stack if any(j.stack == s for j in jobs)]
    models = sorted({j.model for j in jobs}, key=generator_catalog.order)
    report = Report(
        run=run,
        datasets=sorted({j.dataset for j in jobs}),
        stacks=stacks,
        models=models,
        stats=stats,
        jobs=jobs,
        findings=[
            Finding(
                f["model"],
                f["dataset"],
                Stack(f["stack"]),
                f["metric"],
                f["value"],
                f["baseline_mean"],
                f["baseline_stdev"],
                f["baseline_runs"],
                f["z_score"],
                f["relative_change"],
                Verdict(f["verdict"]),
            )
            for f in views.rows(
                conn,
                "SELECT * FROM analytics.regressions WHERE run_id = %s ORDER BY verdict, model, dataset, metric",
                (run_id,),
            )
        ],
        versions=versions,
        thresholds=thresholds,
        marginals=shown,
    )
    for model, dataset, metric, _, _, _, rid, when, value, _ in trends.points(conn, run_id, last_runs, report.stack):
        report.history.setdefault(HistoryKey(dataset, model, metric), []).append(Point(when, value, rid))
    shown_runs = sorted({pt.run_id for points in report.history.values() for pt in points})
    report.regressed = {
        (r["run_id"], r["dataset"], r["model"], r["metric"])
        for r in views.rows(
            conn,
            "SELECT run_id, dataset, model, metric FROM analytics.regressions "
            "WHERE verdict = 'regression' AND stack = %s AND run_id = ANY(%s)",
            (report.stack, shown_runs),
        )
    }
    report.depth = _depth(conn, run_id, report.stack, thresholds)
    report.against = {other: compare.compare_stacks(conn, run_id, other, thresholds) for other in report.others}
    report.images = images(conn, run_id)
    report.implementations = {
        (a, b): compare.compare_models(conn, run_id, a, b, thresholds) for a, b in implementation_pairs(models)
    }
    report.starts = trends.series_starts(conn, run_id)
    report.previous = previous_comparable(conn, run_id)
    if report.previous:
        report.changed = compare.what_changed(conn, facts(conn, report.previous), run)
    return report


def implementation_pairs(models: list[str]) -> list[tuple[str, str]]:
    """(a model, a generator of the run that implements it) for each such pair among ``models``."""
    return [
        (info.implements, m)
        for m in models
        if m in generator_catalog.GENERATORS
        and (info := generator_catalog.GENERATORS[m]).implements in models
        and info.implements != m
    ]


def images(conn: Any, run_id: str) -> list[RunImage]:
    rows = views.rows(conn, "SELECT * FROM analytics.run_images WHERE run_id = %s", (run_id,))
    out = [
        RunImage(
            r["stack"],
            r["models_lock"],
            r["ref"],
            r["size_bytes"],
            r["build_s_this_run"],
            bool(r["cold"]),
            r["cold_build_s"],
            r["cold_build_run_id"],
            r["jobs"],
            r["startup_s_median"],
            list(r["models"] or []),
            list(r["conflicts"] or []),
        )
        for r in rows
    ]
    ours = [str(s) for s in Stack]
    return sorted(out, key=lambda i: (i.variant, ours.index(i.stack) if i.stack in ours else 0, i.stack))


def _depth(conn: Any, run_id: str, stack: Stack, thresholds: Thresholds) -> dict[tuple[str, str], Depth]:
    """Per (dataset, model) of the run: the earlier runs of its execution-time series the detector judged by."""
    out = {}
    for key, points in trends.series(conn, run_id, thresholds.window + 1).items():
        if key.stack == stack and key.metric == "execution_s" and points and points[-1].run_id == run_id:
            earlier = min(len(points) - 1, thresholds.window)
            out[(key.dataset, key.model)] = Depth(earlier, thresholds.min_history)
    return out


# ---------------------------------------------------------------- what a report answers


def ceiling(report: Report, dataset: str, model: str, metric: str) -> float | None:
    """The real data's figure for ``model``: its own TRTR (its feature view's); 1 for fidelity."""
    return report.stat(dataset, model, CEILING[metric]).mean if metric in CEILING else 1.0


def share_of_the_way(report: Report, dataset: str, model: str, metric: str) -> float | None:
    """How far ``model`` gets from the floor (the independent reference) to the real data: 0 the floor, 1 the
    real data, below 0 below the floor."""
    value = report.stat(dataset, model, metric).mean
    floor = report.stat(dataset, generator_catalog.FLOOR, metric).mean
    top = ceiling(report, dataset, model, metric)
    if value is None or floor is None or top is None or top - floor <= 1e-9:
        return None
    return (value - floor) / (top - floor)


def ladder_metrics(report: Report, dataset: str) -> list[str]:
    models = [generator_catalog.FLOOR, *report.models]
    return [k for k in LADDER if any(report.stat(dataset, m, k).mean is not None for m in models)]


@dataclass(frozen=True)
class Standing:
    """A model's place on the leaderboard: its value and rank (1 = best) per dataset, and its mean rank."""

    model: str
    values: dict[str, float | None]
    ranks: dict[str, float]
    mean_rank: float | None


def leaderboard(report: Report, metric: str) -> list[Standing]:
    """Models ranked on ``metric`` on each dataset of the run (ties share the mean of their ranks), best mean
    rank first: SDGym's table, on the run's own datasets."""
    ranks: dict[str, dict[str, float]] = {m: {} for m in report.models}
    values = {m: {d: report.stat(d, m, metric).mean for d in report.datasets} for m in report.models}
    for dataset in report.datasets:
        scored = sorted(((v, m) for m in report.models if (v := values[m][dataset]) is not None), reverse=True)
        i = 0
        while i < len(scored):
            j = i
            while j + 1 < len(scored) and scored[j + 1][0] == scored[i][0]:
                j += 1
            for _, model in scored[i : j + 1]:
                ranks[model][dataset] = (i + j) / 2 + 1
            i = j + 1
    out = [
        Standing(m, values[m], ranks[m], sum(ranks[m].values()) / len(ranks[m]) if ranks[m] else None)
        for m in report.models
    ]
    return sorted(out, key=lambda s: (s.mean_rank is None, s.mean_rank or 0.0, generator_catalog.order(s.model)))


def band(values: list[float], window: int, kind: Baseline) -> list[tuple[float, float] | None]:
    """Per point, the detector's baseline of the points before it (centre, spread), or None for the first."""
    return [trends.centre_and_spread(values[max(0, i - window) : i], kind) if i else None for i in range(len(values))]
