"""Fidelity and privacy of a synthetic sample, by the definitions of SDMetrics (the library behind SDGym).

SDMetrics itself cannot be installed beside our stack: every release pins ``pandas < 3`` and the
models' lock has pandas 3.1 (docs/models.md says why we keep it). Its definitions are short and
public, so they are computed here, each named after the SDMetrics metric it follows. The runner
compares every model in one view, the class column included, against the real training rows:
numeric columns as GANBLR's equal-frequency bins fitted on the real training rows (GANBLR++'s
numbers are binned with the same edges), so a figure means the same for every model. The
functions also take numeric columns (KS, Pearson), for other callers.

- ``column_shapes`` (SDMetrics QualityReport "Column Shapes"): the mean over columns of
  KSComplement (1 - the two-sample Kolmogorov-Smirnov statistic) for numeric columns and
  TVComplement (1 - total variation distance of the category frequencies) for the others.
- ``column_pair_trends`` (QualityReport "Column Pair Trends"): the mean over column pairs of
  CorrelationSimilarity (1 - |Pearson r real - Pearson r synthetic| / 2) for two numeric
  columns and ContingencySimilarity (1 - total variation distance of the two-way frequency
  tables) otherwise, a numeric column then cut into 10 equal-width bins fitted on the real rows.
- ``dcr_*`` (DCROverfittingProtection): the distance of a synthetic row to a real row is the
  mean over columns of |a - b| / (the real column's range) for numeric columns and 0/1
  (equal or not) for the others; a row's DCR is the distance to its closest record.
  ``dcr_closer_to_train`` is the share of synthetic rows closer to a training row than to any
  holdout row (the real test rows; both sides hold the same number of rows, training rows
  drawn at random down to the holdout's count, so 0.5 is what a generator that never saw the
  training rows scores); ``dcr_overfitting_protection`` = min(1, 2 x (1 - that share)), 1 best.
  ``dcr_train_median`` / ``dcr_holdout_median``: the median DCR to each side. At most
  ``DCR_ROWS`` synthetic rows are used (a seeded sample), as SDMetrics subsamples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from itertools import combinations

import numpy as np
import pandas as pd

DCR_ROWS = 1000
PAIR_BINS = 10


def _is_numeric(column: str, numeric: list[str]) -> bool:
    return column in numeric


@dataclass(frozen=True)
class _Coded:
    """A column of the real rows and of the synthetic ones as codes of one vocabulary (values compared as text,
    -1 for a missing value, which frequencies leave out as pandas' ``value_counts`` does): frequencies are then
    counts of small integers, computed once per column, not once per pair."""

    real: np.ndarray
    synthetic: np.ndarray
    size: int

    @classmethod
    def of(cls, real: pd.Series, synthetic: pd.Series) -> _Coded:
        both = pd.concat([real.astype(str), synthetic.astype(str)], ignore_index=True)
        codes, uniques = pd.factorize(both)
        return cls(codes[: len(real)], codes[len(real) :], len(uniques))

    def paired(self, other: _Coded) -> _Coded:
        """The pair of columns as one: a code per combination of values seen (missing if either is)."""
        a, b = np.concatenate([self.real, self.synthetic]), np.concatenate([other.real, other.synthetic])
        joint = np.where((a < 0) | (b < 0), -1, a.astype(np.int64) * other.size + b)
        codes, uniques = pd.factorize(pd.Series(joint).where(joint >= 0))
        return _Coded(codes[: len(self.real)], codes[len(self.real) :], len(uniques))

    def tv_complement(self) -> float:
        p, q = (_frequencies(side, self.size) for side in (self.real, self.synthetic))
        return float(1 - 0.5 * np.abs(p - q).sum())


def _frequencies(codes: np.ndarray, size: int) -> np.ndarray:
    seen = codes[codes >= 0]
    return np.bincount(seen, minlength=size) / len(seen) if len(seen) else np.zeros(size)


def _coded(real: pd.Series | pd.DataFrame, synthetic: pd.Series | pd.DataFrame) -> _Coded:
    if isinstance(real, pd.Series):
        return _Coded.of(real, synthetic)
    return reduce(_Coded.paired, [_Coded.of(real[c], synthetic[c]) for c in real.columns])


def tv_complement(real: pd.Series | pd.DataFrame, synthetic: pd.Series | pd.DataFrame) -> float:
    """1 - total variation distance of the value frequencies of two Series (of two DataFrames: their rows')."""
    return _coded(real, synthetic).tv_complement()


def ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    from scipy.stats import ks_2samp

    a, b = pd.to_numeric(real, errors="coerce").dropna(), pd.to_numeric(synthetic, errors="coerce").dropna()
    if a.empty or b.empty:
        return 0.0
    return float(1 - ks_2samp(a, b).statistic)


def _binned(real: pd.Series, synthetic: pd.Series) -> tuple[pd.Series, pd.Series]:
    a, b = pd.to_numeric(real, errors="coerce"), pd.to_numeric(synthetic, errors="coerce")
    edges = np.linspace(a.min(), a.max(), PAIR_BINS + 1)

    def cut(s: pd.Series) -> pd.Series:
        return pd.Series(np.clip(np.searchsorted(edges[1:-1], s, side="right"), 0, PAIR_BINS - 1)).astype(str)

    return cut(a), cut(b)


def contingency_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """1 - total variation distance of the two-way frequency tables of two (categorical) columns."""
    return tv_complement(real, synthetic)


def correlation_similarity(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    r = real.apply(pd.to_numeric, errors="coerce").corr().iloc[0, 1]
    s = synthetic.apply(pd.to_numeric, errors="coerce").corr().iloc[0, 1]
    r, s = (0.0 if pd.isna(v) else v for v in (r, s))  # a constant column has no correlation: 0
    return float(1 - abs(r - s) / 2)


def column_scores(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: list[str]) -> dict[str, float]:
    """Each column's shape score: KSComplement (numeric) or TVComplement (categorical); 1 = the same distribution."""
    return {
        c: ks_complement(real[c], synthetic[c]) if _is_numeric(c, numeric) else tv_complement(real[c], synthetic[c])
        for c in real.columns
    }


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: list[str]) -> float:
    return float(np.mean(list(column_scores(real, synthetic, numeric).values())))


MARGINALS = 3  # the most distorted columns a job describes
MARGINAL_VALUES = 24  # the most common values of a column shown; the rest are summed up as one


def _shares(dist: pd.Series, shown: list[str], rest: list[str]) -> list[float]:
    found = [float(dist.get(v, 0.0)) for v in shown] + ([float(sum(dist.get(v, 0.0) for v in rest))] if rest else [])
    return [min(1.0, max(0.0, round(v, 6))) for v in found]


def marginals(
    real: pd.DataFrame, synthetic: pd.DataFrame, names: dict[str, dict[str, str]], count: int = MARGINALS
) -> list[dict[str, object]]:
    """The ``count`` columns whose synthetic distribution is furthest from the real one (lowest TVComplement, in a
    view where every column is categorical), each with the real and synthetic share of its values; bin labels
    spelt out by ``names`` (column -> label -> what it stands for)."""
    scores = {c: tv_complement(real[c], synthetic[c]) for c in real.columns}
    out = []
    for column in sorted(scores, key=lambda c: (scores[c], c))[:count]:
        p = real[column].astype(str).value_counts(normalize=True)
        q = synthetic[column].astype(str).value_counts(normalize=True)
        values = list(p.index.union(q.index))
        values.sort(key=lambda v: (-p.get(v, 0.0), v))
        shown, rest = values[:MARGINAL_VALUES], values[MARGINAL_VALUES:]
        spelt = names.get(column, {})
        if column in names:  # bins: in their order, not by frequency
            shown = sorted(shown, key=lambda v: int(v[1:]) if v[1:].isdigit() else 0)
        labels = [spelt.get(v, v)[:40] for v in shown] + ([f"{len(rest)} others"] if rest else [])
        out.append(
            {
                "column": str(column),
                "score": round(scores[column], 6),
                "labels": labels,
                "real": _shares(p, shown, rest),
                "synthetic": _shares(q, shown, rest),
            }
        )
    return out


def column_pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, numeric: list[str]) -> float:
    # Each column coded once (a numeric one by its bins, for the pairs it makes with a categorical column).
    coded = {
        c: _Coded.of(*_binned(real[c], synthetic[c])) if _is_numeric(c, numeric) else _Coded.of(real[c], synthetic[c])
        for c in real.columns
    }
    scores = []
    for a, b in combinations(real.columns, 2):
        if _is_numeric(a, numeric) and _is_numeric(b, numeric):
            scores.append(correlation_similarity(real[[a, b]], synthetic[[a, b]]))
        else:
            scores.append(coded[a].paired(coded[b]).tv_complement())
    return float(np.mean(scores)) if scores else 1.0


def _encoded(frames: list[pd.DataFrame], numeric: list[str], reference: pd.DataFrame) -> list[np.ndarray]:
    """Numeric columns scaled by the reference's range; categorical ones as integer codes (compared for equality)."""
    out: list[list[np.ndarray]] = [[] for _ in frames]
    for c in reference.columns:
        if _is_numeric(c, numeric):
            ref = pd.to_numeric(reference[c], errors="coerce")
            span = float(ref.max() - ref.min()) or 1.0
            for i, f in enumerate(frames):
                out[i].append(pd.to_numeric(f[c], errors="coerce").to_numpy(dtype=float) / span)
        else:
            codes = {v: k for k, v in enumerate(pd.unique(pd.concat([f[c].astype(str) for f in frames])))}
            for i, f in enumerate(frames):
                out[i].append(f[c].astype(str).map(codes).to_numpy(dtype=float))
    return [np.column_stack(cols) for cols in out]


def closest_distances(synthetic: np.ndarray, real: np.ndarray, is_numeric: np.ndarray, chunk: int = 128) -> np.ndarray:
    """Per synthetic row, its distance to the closest real row (mean over columns, see the module's docstring).

    Categorical columns are compared as integer codes, a column at a time into a mismatch count (exact integers,
    so the order of the sum cannot change a distance; ten times faster than one three-way array), numeric ones as
    range-scaled differences capped at 1; chunks of synthetic rows keep memory bounded (chunk x real rows)."""
    codes = [synthetic[:, ~is_numeric].astype(np.int32), np.ascontiguousarray(real[:, ~is_numeric].T, np.int32)]
    numbers = [synthetic[:, is_numeric], real[:, is_numeric]]
    columns = synthetic.shape[1]
    out = np.empty(len(synthetic))
    for start in range(0, len(synthetic), chunk):
        rows = slice(start, start + chunk)
        block = codes[0][rows]
        mismatches = np.zeros((len(block), len(real)), dtype=np.int32)
        for j, column in enumerate(codes[1]):
            mismatches += block[:, j, None] != column[None, :]
        total = mismatches.astype(np.float64)
        if is_numeric.any():
            total += np.minimum(np.abs(numbers[0][rows, None, :] - numbers[1][None, :, :]), 1.0).sum(axis=2)
        out[rows] = total.min(axis=1) / columns
    return out


def dcr(
    train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, numeric: list[str], seed: int
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    size = min(len(train), len(holdout))
    train = train.iloc[np.sort(rng.choice(len(train), size, replace=False))]
    holdout = holdout.iloc[np.sort(rng.choice(len(holdout), size, replace=False))]
    if len(synthetic) > DCR_ROWS:
        synthetic = synthetic.iloc[np.sort(rng.choice(len(synthetic), DCR_ROWS, replace=False))]
    both = pd.concat([train, holdout])
    s, t, h = _encoded([synthetic, train, holdout], numeric, both)
    is_numeric = np.array([_is_numeric(c, numeric) for c in train.columns])
    to_train, to_holdout = closest_distances(s, t, is_numeric), closest_distances(s, h, is_numeric)
    closer = float(np.mean(to_train < to_holdout))
    return {
        "dcr_closer_to_train": closer,
        "dcr_overfitting_protection": min(1.0, 2 * (1 - closer)),
        "dcr_train_median": float(np.median(to_train)),
        "dcr_holdout_median": float(np.median(to_holdout)),
    }


def measure(
    synthetic: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, numeric: list[str], seed: int
) -> dict[str, float]:
    """Every fidelity and privacy figure of ``synthetic`` (features and class together) against the real rows."""
    synthetic = synthetic[list(train.columns)].reset_index(drop=True)
    return {
        "column_shapes": column_shapes(train, synthetic, numeric),
        "column_pair_trends": column_pair_trends(train, synthetic, numeric),
        **dcr(train, holdout, synthetic, numeric, seed),
    }
