"""GANBLR and GANBLR++ (``ganblr`` 0.1.3), and two reference generators, behind the interface every generator
implements (``generator_catalog.Generator``: fit, then sample); ``build`` makes any generator from its factory.

The references read every score against something known (docs/models.md):
- ``independent``: each column drawn from its own marginal, the class included. It keeps
  every column's distribution and nothing of how columns relate: the floor a generator must beat.
- ``naive-bayes``: the class drawn from its marginal, then each feature from its distribution
  given the class, all fitted by counting. The structure of GANBLR with k=0, without the
  adversarial training: what GANBLR's training adds shows against it.

Upstream facts the adapters work around, without changing what the models compute:
- ``GANBLR()`` takes no seed: seeding NumPy's global generator and Keras's
  (``tf.keras.utils.set_random_seed``) together makes a fit and its sample repeatable.
- ``GANBLRPP.fit`` overwrites the caller's array in place and rejects DataFrames, so it
  gets a private copy as an object array.
- ``GANBLRPP.evaluate`` fails on scikit-learn >= 1.4; evaluation is ours (``evaluate.py``).
- ``GANBLRPP`` crashes when there is no numeric column (its discretiser gets an empty
  array); GANBLR++ is GANBLR plus that discretiser, so there it runs as GANBLR.
- GANBLR++'s DMM discretiser keeps the first n component means rather than the
  components actually used (known upstream issue, docs/models.md); left as it is.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import random
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pandas as pd

from ganblr_bench.generator_catalog import Generator, GeneratorInfo, GeneratorParams
from ganblr_bench.job import compat


def seed_everything(seed: int, tensorflow: bool = True) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if tensorflow:  # the references need no TensorFlow: importing it would only slow their startup
        import tensorflow as tf

        tf.keras.utils.set_random_seed(seed)


def _import_models() -> tuple[Any, Any]:
    compat.apply()
    from ganblr.models import GANBLR, GANBLRPP

    return GANBLR, GANBLRPP


@contextlib.contextmanager
def _quiet(stdout: IO[str] | None = None) -> Iterator[None]:
    # ganblr prints progress bars even when told verbose=0; keep job logs readable. ``stdout``: where its
    # output goes instead of nowhere (the heartbeat's epoch reader).
    with contextlib.redirect_stdout(stdout or io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


class _Adapter:
    def __init__(self, p: GeneratorParams) -> None:
        self.fit_args = dict(k=p.k, epochs=p.epochs, batch_size=p.batch_size, warmup_epochs=p.warmup_epochs, verbose=0)
        self.columns: list[str] = []
        self.target = "target"
        self.epoch_sink: IO[str] | None = None

    def report_epochs_to(self, sink: IO[str]) -> None:
        """Have ganblr print its "Epoch i/n" lines (verbose=2: a line per epoch, no per-step bars) into ``sink``."""
        self.epoch_sink, self.fit_args["verbose"] = sink, 2

    def _frames(self, rows: np.ndarray) -> tuple[pd.DataFrame, pd.Series]:
        x = pd.DataFrame(rows[:, :-1], columns=self.columns)
        return x, pd.Series(rows[:, -1], name=self.target)


class GanblrModel(_Adapter):
    """GANBLR: every feature must be discrete (the datasets module bins numeric ones)."""

    def __init__(self, p: GeneratorParams) -> None:
        super().__init__(p)
        self.model = _import_models()[0]()

    def fit(self, x: pd.DataFrame, y: pd.Series) -> None:
        self.columns, self.target = list(x.columns), y.name or "target"
        with _quiet(self.epoch_sink):
            self.model.fit(x.to_numpy(dtype=object), y.to_numpy(dtype=object), **self.fit_args)

    def sample(self, rows: int) -> tuple[pd.DataFrame, pd.Series]:
        with _quiet():
            return self._frames(self.model.sample(rows, verbose=0))


class GanblrPPModel(_Adapter):
    """GANBLR++: numeric columns go to its DMM discretiser and come back as numbers."""

    def __init__(self, p: GeneratorParams) -> None:
        super().__init__(p)
        self.numeric = list(p.numeric_columns)
        self.seed = p.seed
        self.model: Any = None

    def fit(self, x: pd.DataFrame, y: pd.Series) -> None:
        self.columns, self.target = list(x.columns), y.name or "target"
        positions = [self.columns.index(c) for c in self.numeric]
        ganblr, ganblrpp = _import_models()
        self.model = ganblrpp(numerical_columns=positions, random_state=self.seed) if positions else ganblr()
        with _quiet(self.epoch_sink):
            self.model.fit(x.to_numpy(dtype=object, copy=True), y.to_numpy(dtype=object), **self.fit_args)

    def sample(self, rows: int) -> tuple[pd.DataFrame, pd.Series]:
        with _quiet():
            x, y = self._frames(self.model.sample(rows, verbose=0))
        for column in self.numeric:
            x[column] = x[column].astype(float)
        return x, y


class IndependentModel:
    """Each column from its own marginal (counted on the training rows), drawn independently."""

    def __init__(self, p: GeneratorParams) -> None:
        self.rng = np.random.default_rng(p.seed)

    def fit(self, x: pd.DataFrame, y: pd.Series) -> None:
        self.target = str(y.name or "target")
        frame = x.assign(**{self.target: y.to_numpy()})
        self.marginals = {c: frame[c].value_counts(normalize=True, sort=False) for c in frame.columns}

    def sample(self, rows: int) -> tuple[pd.DataFrame, pd.Series]:
        drawn = pd.DataFrame(
            {c: self.rng.choice(m.index.to_numpy(), size=rows, p=m.to_numpy()) for c, m in self.marginals.items()}
        )
        return drawn.drop(columns=[self.target]), drawn[self.target].rename(self.target)


class NaiveBayesModel:
    """The class from its marginal, then each feature from its distribution given the class: counting only."""

    def __init__(self, p: GeneratorParams) -> None:
        self.rng = np.random.default_rng(p.seed)

    def fit(self, x: pd.DataFrame, y: pd.Series) -> None:
        self.columns, self.target = list(x.columns), str(y.name or "target")
        self.prior = y.value_counts(normalize=True, sort=False)
        labels = y.to_numpy()
        self.conditionals = {
            cls: {c: x.loc[labels == cls, c].value_counts(normalize=True, sort=False) for c in self.columns}
            for cls in self.prior.index
        }

    def sample(self, rows: int) -> tuple[pd.DataFrame, pd.Series]:
        y = self.rng.choice(self.prior.index.to_numpy(), size=rows, p=self.prior.to_numpy())
        out = {c: np.empty(rows, dtype=object) for c in self.columns}
        for cls in self.prior.index:
            where = np.flatnonzero(y == cls)
            for c, dist in self.conditionals[cls].items():
                out[c][where] = self.rng.choice(dist.index.to_numpy(), size=len(where), p=dist.to_numpy())
        x = pd.DataFrame(out)
        for c in self.columns:  # keep each column's type (the counts' index carries it)
            x[c] = x[c].astype(self.conditionals[self.prior.index[0]][c].index.dtype)
        return x, pd.Series(y, name=self.target)


def build(info: GeneratorInfo, params: GeneratorParams) -> Generator:
    """The generator ``info`` describes, made by its factory (imported here, in the job's process)."""
    module, _, name = info.factory.partition(":")
    factory = getattr(importlib.import_module(module), name)
    generator: Generator = factory(params)
    return generator
