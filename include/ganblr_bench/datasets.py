"""Loading and preparing the registry's datasets (``catalog.py``).

Where a file comes from, in order: the cache, then the configured local mirror folder,
then its public URL. A file's sha256 is checked whenever it enters the cache and again
whenever it is read from there, so a corrupt or substituted file never reaches a model.

Preparing a dataset for a model is deterministic for a seed:
- '?' stays a category of its own in categorical columns (it carries information);
  a row whose numeric value is missing is dropped and counted;
- the train/test split is the official one (Adult) or a seeded stratified split;
- a row limit keeps the split's proportions and the class balance;
- for GANBLR, numeric columns become equal-frequency bins whose edges are fitted on the
  training rows only (``discretise``); GANBLR++ gets numeric columns as they are.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import DataFile, DatasetInfo, get

CACHE_ENV = "GANBLR_BENCH_CACHE"
MIRROR_ENV = "GANBLR_BENCH_DATA_MIRROR"
OFFLINE_ENV = "GANBLR_BENCH_OFFLINE"


class DatasetError(RuntimeError):
    """A dataset that cannot be had or read; the message names it and says what to do."""


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ganblr-bench" / "datasets"


def mirror_dir() -> Path | None:
    value = os.environ.get(MIRROR_ENV)
    return Path(value) if value else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mirror_candidates(info: DatasetInfo, f: DataFile, mirror: Path) -> list[Path]:
    # The shared mirror keeps UCI's per-dataset folders; a flat folder of files works too.
    return [mirror / info.folder / f.filename, mirror / f.filename]


def _enter_cache(info: DatasetInfo, f: DataFile, source: Path, target: Path, origin: str) -> None:
    actual = sha256_of(source)
    if actual != f.sha256:
        raise DatasetError(
            f"dataset {info.name}: {f.filename} from {origin} has sha256 {actual[:16]}..., expected "
            f"{f.sha256[:16]}...; the file is not the original: replace it or remove it from {origin}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _download(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out)


def fetch_file(info: DatasetInfo, f: DataFile, cache: Path | None = None, mirror: Path | None = None,
               offline: bool | None = None) -> Path:
    """Return a verified local path for one of the dataset's files, filling the cache."""
    cache = cache or cache_dir()
    mirror = mirror if mirror is not None else mirror_dir()
    offline = bool(os.environ.get(OFFLINE_ENV)) if offline is None else offline
    cached = cache / info.folder / f.filename
    if cached.exists():
        if sha256_of(cached) == f.sha256:
            return cached
        cached.unlink()  # corrupt or stale: fetch it again below
    if mirror is not None:
        for candidate in _mirror_candidates(info, f, mirror):
            if candidate.exists():
                _enter_cache(info, f, candidate, cached, f"mirror {candidate}")
                return cached
    if offline:
        raise DatasetError(
            f"dataset {info.name}: {f.filename} is not in the cache ({cache}) nor the mirror "
            f"({mirror or f'unset; set {MIRROR_ENV}'}), and downloads are off here; run "
            f"'ganblr-bench data fetch {info.name}' where the network is reachable"
        )
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / f.filename
        try:
            _download(f.url, part)
        except (urllib.error.URLError, OSError) as err:
            raise DatasetError(
                f"dataset {info.name}: cannot download {f.url} ({getattr(err, 'reason', err)}); "
                f"put {f.filename} in a mirror folder and set {MIRROR_ENV}"
            ) from None
        _enter_cache(info, f, part, cached, f.url)
    return cached


def fetch(name: str, **kwargs) -> dict[str, Path]:
    """All of a dataset's files, verified: role -> path."""
    info = _info(name)
    if info.package:
        return {role: _package_file(info, f) for role, f in info.files.items()}
    return {role: fetch_file(info, f, **kwargs) for role, f in info.files.items()}


def _info(name: str) -> DatasetInfo:
    try:
        return get(name)
    except KeyError as err:
        raise DatasetError(str(err.args[0])) from None


def _package_file(info: DatasetInfo, f: DataFile) -> Path:
    try:
        path = Path(str(resources.files(info.package) / f.filename))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.exists():
        raise DatasetError(f"dataset {info.name}: {f.filename} not found in the installed package {info.package}")
    return path


@dataclass
class RawData:
    info: DatasetInfo
    frames: dict[str, pd.DataFrame]  # role -> rows, as parsed
    files: dict[str, str]  # filename -> sha256

    @property
    def checksum(self) -> str:
        if len(self.files) == 1:
            return next(iter(self.files.values()))
        lines = "".join(f"{name} {sha}\n" for name, sha in sorted(self.files.items()))
        return hashlib.sha256(lines.encode()).hexdigest()


def _parse(info: DatasetInfo, f: DataFile, path: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        path, sep=info.sep, header=None, names=list(info.columns), skiprows=f.skip_lines, dtype=str,
        skipinitialspace=True, keep_default_na=False, skip_blank_lines=True, engine="c",
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


def load(name: str, **kwargs) -> RawData:
    info = _info(name)
    paths = fetch(name, **kwargs)
    frames = {role: _parse(info, info.files[role], path) for role, path in paths.items()}
    files = {info.files[role].filename: sha256_of(path) for role, path in paths.items()}
    return RawData(info, frames, files)


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


def discretise(train: pd.Series, others: list[pd.Series], bins: int) -> list[pd.Series]:
    """Equal-frequency bins fitted on the training column, applied to all; labels 'q0'...'qN'.

    Edges are the training quantiles, de-duplicated, so a column with few distinct
    values gets fewer bins; bin i holds (edge i-1, edge i]; a value outside the training
    range joins the end bins.
    """
    edges = np.unique(np.quantile(train.to_numpy(dtype=float), np.linspace(0, 1, bins + 1)[1:-1]))

    def apply(column: pd.Series) -> pd.Series:
        codes = np.searchsorted(edges, column.to_numpy(dtype=float), side="left")
        return pd.Series([f"q{c}" for c in codes], index=column.index, name=column.name)

    return [apply(train)] + [apply(o) for o in others]


def prepare(name: str, *, seed: int, model: str, row_limit: int | None = None, test_fraction: float = 0.2,
            discretise_bins: int = 5, numeric_columns: list[str] | None = None, **fetch_kwargs) -> Prepared:
    raw = load(name, **fetch_kwargs)
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
            raise DatasetError(f"dataset {name}: params.numeric_columns names non-numeric or unknown columns {unknown}; "
                               f"numeric columns are {list(info.numeric)}")
    numeric = list(info.numeric) if numeric_columns is None else [c for c in info.numeric if c in numeric_columns]
    if model == "ganblr":
        for column in info.numeric:
            train_x[column], test_x[column] = discretise(train_x[column], [test_x[column]], discretise_bins)
        numeric = []
    else:
        # GANBLR++ treats only the chosen numeric columns with its DMM; others become bins.
        for column in set(info.numeric) - set(numeric):
            train_x[column], test_x[column] = discretise(train_x[column], [test_x[column]], discretise_bins)
    return Prepared(
        name=name, train_x=train_x, train_y=train[info.target].reset_index(drop=True), test_x=test_x,
        test_y=test[info.target].reset_index(drop=True), numeric_columns=numeric, files=raw.files,
        checksum=raw.checksum, rows_dropped=dropped,
    )
