"""Loading and preparing the registry's datasets (``catalog.py``), from verified files (``sources.py``).

Preparing a dataset for a model is deterministic for a seed:
- '?' stays a category of its own in categorical columns (it carries information);
  a row whose numeric value is missing is dropped and counted;
- the train/test split is the official one (Adult) or a seeded stratified split;
- a row limit keeps the split's proportions and the class balance;
- for GANBLR and the references, numeric columns become equal-frequency bins whose edges are fitted on the
  training rows only (``discretise``); GANBLR++ gets numeric columns as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganblr_bench.contract import DatasetDefinition
from ganblr_bench.dataset_catalog import DataFile, DatasetInfo
from ganblr_bench.dataset_files import DatasetFiles, fetch
from ganblr_bench.errors import DatasetError
from ganblr_bench.generator_catalog import InputKind
from ganblr_bench.generator_catalog import get as generator


@dataclass
class RawData:
    source: DatasetFiles
    frames: dict[str, pd.DataFrame]  # role -> rows, as parsed

    @property
    def info(self) -> DatasetInfo:
        return self.source.info


def _parse(info: DatasetInfo, f: DataFile, path: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        sep=info.sep,
        header=None,
        names=list(info.columns),
        skiprows=f.skip_lines,
        dtype=str,
        skipinitialspace=True,
        keep_default_na=False,
        skip_blank_lines=True,
        engine="c",
    )
    if frame.shape[1] != len(info.columns) or frame.isna().any().any():
        raise DatasetError(f"dataset {info.name}: {f.filename} does not have {len(info.columns)} fields on every row")
    target = frame[info.target].str.strip()
    if info.target_suffix:
        target = target.str.removesuffix(info.target_suffix)
    if info.target_labels:
        target = target.map(lambda code: info.target_labels[int(float(code))])
    frame[info.target] = target
    return frame


def load(name: str, **kwargs: Any) -> RawData:
    """A dataset's rows as parsed: a built-in one by name, a registered one by its facts (``info=``)."""
    source = fetch(name, **kwargs)
    info = source.info
    return RawData(source, {role: _parse(info, info.files[role], f.path) for role, f in source.files.items()})


@dataclass
class Prepared:
    """A dataset ready for one model: features as the model sees them, split and limited."""

    name: str
    train_x: pd.DataFrame
    train_y: pd.Series
    test_x: pd.DataFrame
    test_y: pd.Series
    numeric_columns: list[str]
    files: dict[str, str]
    checksum: str
    rows_dropped: int
    bins: dict[str, list[float]]  # column -> the inner edges of the bins its labels q0...qN stand for


def _typed(info: DatasetInfo, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Numeric columns to float; drop (and count) rows whose numeric value is missing."""
    frame = frame.copy()
    for column in info.numeric:
        frame[column] = pd.to_numeric(frame[column].replace(info.missing, np.nan), errors="coerce").astype(float)
    before = len(frame)
    frame = frame.dropna(subset=list(info.numeric)).reset_index(drop=True)
    return frame, before - len(frame)


def stratified_take(y: pd.Series, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Row positions of a class-balanced share of y; every class keeps at least one row."""
    taken = []
    for label in sorted(y.unique()):
        rows = np.flatnonzero((y == label).to_numpy())
        n = max(1, int(round(len(rows) * fraction)))
        taken.append(rng.permutation(rows)[:n])
    return np.sort(np.concatenate(taken))


def stratified_split(y: pd.Series, test_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split; a class with a single row stays in the training part."""
    train, test = [], []
    for label in sorted(y.unique()):
        rows = rng.permutation(np.flatnonzero((y == label).to_numpy()))
        n_test = int(round(len(rows) * test_fraction)) if len(rows) > 1 else 0
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def bin_edges(train: pd.Series, bins: int) -> np.ndarray:
    """The inner edges of equal-frequency bins fitted on the training column: its quantiles, de-duplicated (a
    column with few distinct values gets fewer bins)."""
    return np.unique(np.quantile(train.to_numpy(dtype=float), np.linspace(0, 1, bins + 1)[1:-1]))


def bin_names(edges: list[float]) -> dict[str, str]:
    """What each bin label stands for: 'q0' -> '<= 17', 'q1' -> '(17, 25]', ... the last -> '> 60'."""
    shown = [f"{e:.6g}" for e in edges]
    if not shown:
        return {"q0": "all values"}
    names = {"q0": f"<= {shown[0]}"}
    names |= {f"q{i}": f"({shown[i - 1]}, {shown[i]}]" for i in range(1, len(shown))}
    names[f"q{len(shown)}"] = f"> {shown[-1]}"
    return names


def discretise(train: pd.Series, others: list[pd.Series], bins: int) -> list[pd.Series]:
    """Equal-frequency bins fitted on the training column, applied to all; labels 'q0'...'qN'.

    Bin i holds (edge i-1, edge i] (``bin_edges``); a value outside the training range joins the end bins.
    """
    edges = bin_edges(train, bins)

    def apply(column: pd.Series) -> pd.Series:
        codes = np.searchsorted(edges, column.to_numpy(dtype=float), side="left")
        return pd.Series([f"q{c}" for c in codes], index=column.index, name=column.name)

    return [apply(train)] + [apply(o) for o in others]


def prepare(
    name: str,
    *,
    seed: int,
    model: str,
    row_limit: int | None = None,
    test_fraction: float = 0.2,
    discretise_bins: int = 5,
    numeric_columns: list[str] | None = None,
    definition: DatasetDefinition | None = None,
    **fetch_kwargs: Any,
) -> Prepared:
    """``definition``: a registered dataset's (its files are in the cache under its checksum)."""
    raw = load(name, info=definition.info() if definition else None, **fetch_kwargs)
    info = raw.info
    rng = np.random.default_rng(seed)
    dropped = 0
    typed = {}
    for role, frame in raw.frames.items():
        typed[role], n = _typed(info, frame)
        dropped += n
    if info.official_split:
        train, test = typed["train"], typed["test"]
    else:
        data = typed["data"]
        train_idx, test_idx = stratified_split(data[info.target], test_fraction, rng)
        train, test = data.iloc[train_idx], data.iloc[test_idx]
    total = len(train) + len(test)
    if row_limit is not None and row_limit < total:
        fraction = row_limit / total
        train = train.iloc[stratified_take(train[info.target], fraction, rng)]
        test = test.iloc[stratified_take(test[info.target], fraction, rng)]
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    features = [c for c in info.columns if c != info.target]
    train_x, test_x = train[features].copy(), test[features].copy()

    if numeric_columns is not None:
        unknown = sorted(set(numeric_columns) - set(info.numeric))
        if unknown:
            raise DatasetError(
                f"dataset {name}: params.numeric_columns names non-numeric or unknown columns {unknown}; "
                f"numeric columns are {list(info.numeric)}"
            )
    numeric = list(info.numeric) if numeric_columns is None else [c for c in info.numeric if c in numeric_columns]
    binned = (
        list(info.numeric)
        if generator(model).input is InputKind.DISCRETE
        else [c for c in info.numeric if c not in numeric]
    )
    edges = {c: [float(e) for e in bin_edges(train_x[c], discretise_bins)] for c in binned}
    for column in binned:  # GANBLR and the references bin every numeric column; GANBLR++ those its DMM does not take
        train_x[column], test_x[column] = discretise(train_x[column], [test_x[column]], discretise_bins)
    if generator(model).input is InputKind.DISCRETE:
        numeric = []
    return Prepared(
        name=name,
        train_x=train_x,
        train_y=train[info.target].reset_index(drop=True),
        test_x=test_x,
        test_y=test[info.target].reset_index(drop=True),
        numeric_columns=numeric,
        files=raw.source.sha256_by_name,
        checksum=definition.checksum if definition else raw.source.checksum,
        rows_dropped=dropped,
        bins=edges,
    )
