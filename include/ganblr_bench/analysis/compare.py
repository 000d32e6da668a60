"""Two runs side by side: every figure, whether its change is beyond noise, and what changed between the runs.

Read from the analytics views only (nothing recomputed from files, nothing stored): the CLI (``ganblr-bench
compare``), the Benchmarks page and the alert all call ``compare``; ``present/comparison.py`` renders it.

**Noise** is judged from what is known of it, never from a minimum change alone:

- both runs have two or more seeds: the change must exceed twice the standard error of the difference of
  the two means (Welch), from the seeds;
- otherwise, the series' own history (the detector's baseline before run B: its spread, median/MAD by
  default, of up to ``window`` earlier runs, at least ``min_history``): the change must exceed twice the
  standard error of a difference of two runs, 2 x sqrt(2) x that spread;
- neither: the noise is unknown, and nothing is called beyond it (marked ``noise unknown``).

Either way the change must also pass the detector's practical thresholds (the figure's minimum relative and
absolute change, ``figures.py``). A figure that is context, not a goal (CPU %, a host's load, the cores a
job had: ``Direction.NEITHER``) is never better or worse, only ``changed``.

**What changed** between two runs lists every input that can move a figure, as structured records: the git
commit, the image (its digest and input fingerprint), the package versions that differ, the dataset files
(checksums), the host (name, CPUs, memory), the backend and the run parameters that differ.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ganblr_bench import figures, generator_catalog
from ganblr_bench.analysis import trends
from ganblr_bench.analysis.runs import RunFacts, facts
from ganblr_bench.settings import Thresholds
from ganblr_bench.states import Baseline, Direction, Stack
from ganblr_bench.warehouse import series, views


class Movement(StrEnum):
    WORSE = "worse"
    BETTER = "better"
    CHANGED = "changed"  # a context figure that moved beyond noise: neither better nor worse
    SAME = "same"  # within noise (or equal)
    NEW = "new"
    GONE = "gone"
    CACHED = "cached"  # an image build skipped on one side or both: no build time to compare


class Noise(StrEnum):
    SEEDS = "seeds"  # from both runs' seeds
    HISTORY = "history"  # from the series' history
    UNKNOWN = "unknown"  # one seed a side and no history: nothing is beyond it


@dataclass(frozen=True)
class Side:
    mean: float | None
    sd: float | None
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Side:
        if not values:
            return cls(None, None, 0)
        mean, sd = trends.centre_and_spread(values, Baseline.MEAN)
        return cls(mean, sd if len(values) > 1 else None, len(values))


@dataclass(frozen=True)
class Change:
    dataset: str
    model: str
    stack: Stack
    metric: str
    a: Side
    b: Side
    relative: float | None  # (b - a) / |a|
    movement: Movement
    noise: Noise
    noise_band: float | None  # the change (absolute, stored unit) noise alone would reach

    @property
    def beyond_noise(self) -> bool:
        return self.movement in (Movement.WORSE, Movement.BETTER, Movement.CHANGED)

    @property
    def figure(self) -> figures.Metric:
        return figures.get(self.metric)

    @property
    def regressed(self) -> bool:
        """Worse beyond noise on a figure the detector watches: what fails a CI gate."""
        return self.movement == Movement.WORSE and self.figure.watched


@dataclass(frozen=True)
class InputChange:
    """One input that differs between the runs: what kind, which, and its value on each side."""

    kind: str  # git | image | package | dataset | host | backend | parameter
    name: str
    a: Any
    b: Any
    note: str = ""

    def line(self) -> str:
        text = (
            f"{self.kind} {self.name}: {_short(self.a)} -> {_short(self.b)}"
            if self.name
            else (f"{self.kind}: {_short(self.a)} -> {_short(self.b)}")
        )
        return text + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Comparison:
    a: RunFacts
    b: RunFacts
    changes: list[Change]
    changed: list[InputChange] = field(default_factory=list)
    # Two stacks of one run (a and b are that run): the locked jobs are A, the other stack's B.
    stacks: tuple[Stack, Stack] | None = None
    # Two implementations of a model in one run: the model's jobs are A, the other implementation's B.
    models: tuple[str, str] | None = None

    def side(self, which: str) -> str:
        """How a side is named: 'A' or 'B', or for two stacks (two models) of one run the stack (the model)."""
        sides = self.stacks or self.models
        return which if sides is None else str(sides[0 if which == "A" else 1])

    @property
    def moved(self) -> list[Change]:
        return [c for c in self.changes if c.beyond_noise]

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regressed]

    def summary(self) -> list[tuple[str, int, int, int]]:
        """Per model: (model, figures better, worse, changed) beyond noise."""
        out = []
        for model in sorted({c.model for c in self.changes}, key=generator_catalog.order):
            mine = [c for c in self.changes if c.model == model]
            count = {
                m: sum(1 for c in mine if c.movement == m) for m in (Movement.BETTER, Movement.WORSE, Movement.CHANGED)
            }
            out.append((model, count[Movement.BETTER], count[Movement.WORSE], count[Movement.CHANGED]))
        return out


def judge(
    metric: str, a: list[float], b: list[float], history_spread: float | None = None
) -> tuple[float | None, Movement, Noise, float | None]:
    """(relative change, movement, where the noise was judged from, the noise band) of the run means of ``a``
    and ``b``; ``history_spread``: the series' per-run spread before run B, if it has enough history."""
    sa, sb = Side.of(a), Side.of(b)
    m = figures.get(metric)
    if sa.mean is None or sb.mean is None:
        return None, Movement.NEW if sa.mean is None else Movement.GONE, Noise.UNKNOWN, None
    if m.per_run and 0.0 in (sa.mean, sb.mean):  # an image build skipped (cached) on a side
        return None, Movement.CACHED, Noise.UNKNOWN, None
    delta = sb.mean - sa.mean
    relative = delta / abs(sa.mean) if sa.mean else (math.inf if delta else 0.0)
    if sa.sd is not None and sb.sd is not None:
        noise, band = Noise.SEEDS, 2 * math.sqrt(sa.sd**2 / sa.n + sb.sd**2 / sb.n)
    elif history_spread is not None:
        noise, band = Noise.HISTORY, 2 * math.sqrt(2) * history_spread
    else:
        return relative, Movement.SAME, Noise.UNKNOWN, None
    practical = abs(relative) >= m.min_relative_change and abs(delta) >= m.min_absolute_change
    if delta == 0 or not practical or abs(delta) <= band:
        return relative, Movement.SAME, noise, band
    if m.better == Direction.NEITHER:
        return relative, Movement.CHANGED, noise, band
    worse = delta > 0 if m.better == Direction.LOWER else delta < 0
    return relative, Movement.WORSE if worse else Movement.BETTER, noise, band


def history_spreads(conn: Any, run_b: str, thresholds: Thresholds) -> dict[tuple[str, str, Stack, str], float]:
    """(dataset, model, stack, metric) -> the spread of the series' per-run means before run B (the detector's
    baseline), where the series has at least ``min_history`` earlier runs."""
    spreads = {}
    for key, points in trends.series(conn, run_b).items():
        before = [value for rid, value, _ in points if rid != run_b][-thresholds.window :]
        if len(before) >= thresholds.min_history:
            centre, spread = trends.centre_and_spread(before, thresholds.baseline)
            spreads[(key.dataset, key.model, key.stack, key.metric)] = max(spread, abs(centre) * thresholds.min_spread)
    return spreads


def compare(
    conn: Any, run_a: str, run_b: str, repo: Path | None = None, thresholds: Thresholds = trends.DEFAULTS
) -> Comparison:
    """Every figure of run A against run B (``figures.COMPARED``, every model and dataset they share or not)."""
    a, b = facts(conn, run_a), facts(conn, run_b)
    fa, fb = views.figures(conn, run_a), views.figures(conn, run_b)
    spreads = history_spreads(conn, run_b, thresholds)
    changes = []
    for dataset, model, stack, metric in sorted(
        {k for k in fa.keys() | fb.keys() if k[3] in figures.COMPARED},
        key=lambda k: (k[0], k[2] != Stack.LOCKED, k[2], generator_catalog.order(k[1]), figures.COMPARED.index(k[3])),
    ):
        va, vb = fa.get((dataset, model, stack, metric), []), fb.get((dataset, model, stack, metric), [])
        relative, movement, noise, band = judge(metric, va, vb, spreads.get((dataset, model, Stack(stack), metric)))
        changes.append(
            Change(dataset, model, Stack(stack), metric, Side.of(va), Side.of(vb), relative, movement, noise, band)
        )
    return Comparison(a, b, changes, what_changed(conn, a, b, repo))


def compare_stacks(conn: Any, run_id: str, other: Stack, thresholds: Thresholds = trends.DEFAULTS) -> Comparison:
    """The locked jobs of one run against its ``other`` stack's (a candidate build, or the canary): every figure,
    judged by the noise rules of two runs (the seeds; else the locked series' history; else unknown)."""
    run = facts(conn, run_id)
    changes = _side_by_side(conn, run_id, thresholds, (None, Stack.LOCKED), (None, other))
    return Comparison(run, run, changes, _stack_versions(conn, run_id, other), (Stack.LOCKED, other))


def compare_models(conn: Any, run_id: str, a: str, b: str, thresholds: Thresholds = trends.DEFAULTS) -> Comparison:
    """Two implementations of one model in one run (tulip-lab's GANBLR, ``a``, and Katabatic's, ``b``: the same
    datasets, seeds and knobs), on their locked stacks: every figure of ``b`` judged against ``a``'s by the noise
    rules of two runs. Its changes are named by ``b``."""
    run = facts(conn, run_id)
    changes = _side_by_side(conn, run_id, thresholds, (a, Stack.LOCKED), (b, Stack.LOCKED))
    return Comparison(run, run, changes, _versions_between(conn, run_id, a, b), models=(a, b))


def _side_by_side(
    conn: Any, run_id: str, thresholds: Thresholds, a: tuple[str | None, Stack], b: tuple[str | None, Stack]
) -> list[Change]:
    """Every compared figure of side ``a`` (a model, or None: each; a stack) against side ``b``'s in one run."""
    found = views.figures(conn, run_id)
    spreads = history_spreads(conn, run_id, thresholds)
    changes = []
    # Two stacks of ours compare our generators: one with a stack of its own ran on its locked stack only.
    ours = a[0] is None
    for dataset, model, _, metric in sorted(
        {
            k
            for k in found
            if k[2] == a[1]
            and a[0] in (None, k[1])
            and k[3] in figures.COMPARED
            and not (ours and generator_catalog.has_own_stack(k[1]))
        },
        key=lambda k: (k[0], generator_catalog.order(k[1]), figures.COMPARED.index(k[3])),
    ):
        theirs = b[0] or model
        va, vb = found[(dataset, model, a[1], metric)], found.get((dataset, theirs, b[1], metric), [])
        relative, movement, noise, band = judge(metric, va, vb, spreads.get((dataset, model, a[1], metric)))
        changes.append(Change(dataset, theirs, b[1], metric, Side.of(va), Side.of(vb), relative, movement, noise, band))
    return changes


def _versions_between(conn: Any, run_id: str, a: str, b: str) -> list[InputChange]:
    """The package versions that differ between two models' jobs of one run (each in its own stack's image)."""
    return _package_changes(views.rows(conn, _MODEL_VERSIONS, (run_id, [a, b])), "model", a, b)


def _stack_versions(conn: Any, run_id: str, other: Stack) -> list[InputChange]:
    """The package versions that differ between the locked jobs of a run and its ``other`` stack's."""
    return _package_changes(views.rows(conn, _STACK_VERSIONS, (run_id,)), "stack", Stack.LOCKED, other)


def _package_changes(rows: list[dict[str, Any]], side: str, a: str, b: str) -> list[InputChange]:
    """The versions that differ between the jobs whose ``side`` column is ``a`` and those where it is ``b`` (from
    the jobs that ran, a failed one's where none ran to the end; none when a side recorded none)."""
    versions: dict[str, dict[str, str]] = {}
    for row in rows:  # the ok jobs last: theirs win
        versions.setdefault(str(row[side]), {}).update({k: str(v) for k, v in (row["versions"] or {}).items()})
    va, vb = versions.get(str(a)), versions.get(str(b))
    if not va or not vb:
        return []
    return [
        InputChange("package", p, va.get(p), vb.get(p))
        for p in sorted(va.keys() | vb.keys())
        if va.get(p) != vb.get(p) and p != "ganblr-bench"
    ]


_MODEL_VERSIONS = """
SELECT model, versions FROM analytics.job_results
WHERE run_id = %s AND model = ANY(%s) AND stack = 'locked' AND versions IS NOT NULL ORDER BY status = 'ok', dataset, seed
"""

_STACK_VERSIONS = """
SELECT stack, versions FROM analytics.job_results
WHERE run_id = %s AND versions IS NOT NULL ORDER BY status = 'ok', dataset, model, seed
"""


_JOB_FACTS = """
SELECT dataset, stack, versions, dataset_checksum FROM analytics.job_results
WHERE run_id = %s AND status = 'ok' ORDER BY dataset, model, seed
"""


def what_changed(conn: Any, a: RunFacts, b: RunFacts, repo: Path | None = None) -> list[InputChange]:
    """Every input that differs between runs ``a`` and ``b``."""
    out = []
    if a.git_sha != b.git_sha:
        commits = _commits(repo, a.git_sha, b.git_sha)
        out.append(InputChange("git", "", _short_sha(a.git_sha), _short_sha(b.git_sha), commits))
    if a.image_digest != b.image_digest:
        same_inputs = a.image_inputs_hash == b.image_inputs_hash
        out.append(
            InputChange(
                "image",
                "",
                _short_sha(a.image_digest, 19),
                _short_sha(b.image_digest, 19),
                "same inputs, rebuilt" if same_inputs else "its inputs changed",
            )
        )
    facts_a, facts_b = _facts(conn, a.run_id), _facts(conn, b.run_id)
    for package in sorted(facts_a["versions"].keys() | facts_b["versions"].keys()):
        va, vb = facts_a["versions"].get(package), facts_b["versions"].get(package)
        if va != vb:
            out.append(InputChange("package", package, va, vb))
    for dataset in sorted(facts_a["checksums"].keys() & facts_b["checksums"].keys()):
        ca, cb = facts_a["checksums"][dataset], facts_b["checksums"][dataset]
        if ca != cb:
            out.append(InputChange("dataset", dataset, ca[:12], cb[:12], "files changed"))
    for fact in ("host_name", "host_cpus", "host_memory_bytes"):
        if getattr(a, fact) != getattr(b, fact):
            out.append(InputChange("host", fact.removeprefix("host_"), getattr(a, fact), getattr(b, fact)))
    if a.backend != b.backend:
        out.append(InputChange("backend", "", a.backend, b.backend))
    out += _series_changes(conn, a.run_id, b.run_id)
    for name in sorted(a.params.keys() | b.params.keys()):
        if a.params.get(name) != b.params.get(name):
            out.append(InputChange("parameter", name, _set_only(a.params.get(name)), _set_only(b.params.get(name))))
    return out


_SERIES_OF = """
SELECT DISTINCT ON (model, dataset, stack) model, dataset, stack, series_key, series FROM analytics.job_results
WHERE run_id = %s ORDER BY model, dataset, stack, seed
"""


def _series_changes(conn: Any, run_a: str, run_b: str) -> list[InputChange]:
    """Per model and dataset in both runs whose series differ: the series fields that changed (why B's figures
    are not in A's series)."""
    of_a = {(m, d, s): (k, f) for m, d, s, k, f in conn.execute(_SERIES_OF, (run_a,))}
    out = []
    for model, dataset, stack, key_b, fields_b in conn.execute(_SERIES_OF, (run_b,)):
        key_a, fields_a = of_a.get((model, dataset, stack), (None, None))
        if key_a is not None and key_a != key_b:
            moved = ", ".join(
                f"{f} {_short(x)} -> {_short(y)}" for f, x, y in series.changed(fields_a or {}, fields_b or {})
            )
            where = f"{model} on {dataset}" + ("" if stack == Stack.LOCKED else f" ({stack})")
            out.append(InputChange("series", where, key_a[:10], key_b[:10], moved or "the series key changed"))
    return out


def _facts(conn: Any, run_id: str) -> dict[str, dict[str, str]]:
    versions: dict[str, str] = {}
    checksums: dict[str, str] = {}
    for row in views.rows(conn, _JOB_FACTS, (run_id,)):
        if row["stack"] == Stack.LOCKED:
            versions.update({k: str(v) for k, v in (row["versions"] or {}).items()})
        if row["dataset_checksum"]:
            checksums.setdefault(row["dataset"], row["dataset_checksum"])
    return {"versions": versions, "checksums": checksums}


_SHA = re.compile(r"[0-9a-f]{40}")


def _commits(repo: Path | None, sha_a: str | None, sha_b: str | None) -> str:
    """The commits between the two runs' SHAs, when a repository that has both is at hand. Only values that are
    commits (40 hex digits) reach git: an option-shaped value from a run file never becomes an argument."""
    if repo is None or not sha_a or not sha_b or not (_SHA.fullmatch(sha_a) and _SHA.fullmatch(sha_b)):
        return ""
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "log",
                "--oneline",
                "--no-decorate",
                "--end-of-options",
                f"{sha_a}..{sha_b}",
                "--",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    commits = out.stdout.strip().splitlines() if out.returncode == 0 else []
    if not commits:
        return ""
    shown = "; ".join(commits[:5]) + (f"; and {len(commits) - 5} more" if len(commits) > 5 else "")
    return f"{len(commits)} commit{'s' if len(commits) > 1 else ''}: {shown}"


def _short_sha(value: str | None, n: int = 10) -> str | None:
    return value[:n] if value else None


def _set_only(value: Any) -> Any:
    """An override's unset fields (null) say nothing."""
    return {k: _set_only(x) for k, x in value.items() if x is not None} if isinstance(value, dict) else value


def _short(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."
