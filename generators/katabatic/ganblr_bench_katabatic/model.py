"""The adapter: Katabatic's GANBLR behind ganblr-bench's generator interface (fit a frame, sample n rows).

What it does not change: Katabatic's own encoders, training loop and sampler. What it adds: the job's knobs
(k, epochs, batch size, warm-up) passed to ``fit`` as Katabatic's ``train`` passes its own; the sample seeded
from the job's seed (``sample(seed=)``), and each column back in the type it had at fit (Katabatic returns
one object array).
"""

from __future__ import annotations

import contextlib
import io

import pandas as pd

from ganblr_bench.generator_catalog import GeneratorParams


class KatabaticGanblr:
    def __init__(self, p: GeneratorParams) -> None:
        from katabatic.models.ganblr import GANBLR  # the variant image's stack only

        self.model = GANBLR()
        self.params = p

    def fit(self, x: pd.DataFrame, y: pd.Series) -> None:
        self.dtypes = x.dtypes.to_dict()
        self.target, self.target_dtype = y.name or "target", y.dtype
        p = self.params
        with contextlib.redirect_stdout(io.StringIO()):  # its progress lines, even at verbose=0
            self.model.fit(
                x, y.rename(self.target), k=p.k, batch_size=p.batch_size, epochs=p.epochs,
                warmup_epochs=p.warmup_epochs, verbose=0,
            )  # fmt: skip

    def sample(self, rows: int) -> tuple[pd.DataFrame, pd.Series]:
        with contextlib.redirect_stdout(io.StringIO()):
            drawn = self.model.sample(rows, verbose=0, seed=self.params.seed)
        x = drawn.drop(columns=[self.target]).astype(self.dtypes)
        return x, drawn[self.target].astype(self.target_dtype).rename(self.target)
