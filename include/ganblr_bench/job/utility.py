"""Utility of a generator's output: TSTR beside TRTR, with four classifiers and three scores each.

TSTR trains a classifier on the synthetic rows and tests it on the real test rows;
TRTR trains the same classifier, with the same preprocessing and seed, on the real
training rows. Both use the features as the model saw them (GANBLR and the references:
numeric columns as bins; GANBLR++: numeric columns as numbers), so the pair is a
like-for-like baseline. Preprocessing: one-hot for categorical columns (unknown categories
ignored), standard scaling for numeric ones. A class the training rows lack cannot be
predicted, and a training set with a single class predicts that class: both count against
the scores.

Scores per classifier: accuracy, macro-F1 (the unweighted mean of per-class F1 over the
classes of the test rows and the predictions: a majority-class guess scores low however
common the class), and ROC AUC where the target is binary (the positive class is the later
of the two labels in sorted order; a classifier that never saw it scores 0.5).

TRTR depends only on the real rows, the classifier, its seed and the libraries, never on
the generator: ``TrtrCache`` keeps it on disk keyed by exactly those, so it is computed
once per dataset, seed, split, feature view and classifier, and read by every other job and
later run. Jobs that want the same entry at the same moment wait for the first to write it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

from ganblr_bench import layout, settings
from ganblr_bench.contract import Score
from ganblr_bench.errors import ContractError

# Bump when a score's definition changes: cached TRTR entries of the old definition are then not read.
DEFINITION = 2
_LIBRARIES = ("scikit-learn", "xgboost", "xgboost-cpu", "numpy", "scipy", "pandas")


def make_classifier(name: str, seed: int) -> Any:
    if name == "lr":
        return LogisticRegression(max_iter=1000, random_state=seed)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(100,), max_iter=300, early_stopping=True, random_state=seed)
    if name == "rf":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    if name == "xgb":
        from xgboost import XGBClassifier

        return XGBClassifier(n_estimators=100, tree_method="hist", random_state=seed, n_jobs=1, verbosity=0)
    raise ValueError(f"unknown classifier {name!r}")


def _encoder(columns: list[str], numeric: list[str]) -> ColumnTransformer:
    categorical = [c for c in columns if c not in numeric]
    return ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore"), categorical), ("numeric", StandardScaler(), numeric)],
        sparse_threshold=0.0,
    )


# These predict the class of the highest probability (scikit-learn's and XGBoost's own predict does exactly that
# argmax, or for two classes p > 0.5, the same), so one pass over the test rows gives the classes and the scores.
_PREDICT_FROM_PROBABILITIES = frozenset({"mlp", "rf", "xgb"})


@dataclass
class Task:
    """One classification task: training rows, test rows and the feature view. The rows are encoded once (the
    encoder fitted on the training rows, as a pipeline would) for every classifier trained on them."""

    train_x: pd.DataFrame
    train_y: pd.Series
    test_x: pd.DataFrame
    test_y: pd.Series
    numeric: list[str]

    @cached_property
    def encoded(self) -> tuple[np.ndarray, np.ndarray]:
        encode = _encoder(list(self.train_x.columns), self.numeric)
        return encode.fit_transform(self.train_x), encode.transform(self.test_x)

    @cached_property
    def digest(self) -> str:
        return _digest(self.train_x, self.train_y, self.test_x, self.test_y)

    def classify(self, classifier: str, seed: int) -> dict[str, float | None]:
        """Accuracy, macro-F1 and (binary targets) ROC AUC on the test rows of ``classifier`` trained on the
        training rows."""
        train_y = self.train_y.astype(str)
        test_y = self.test_y.astype(str).to_numpy()
        classes = sorted(set(test_y) | set(train_y))
        positive = classes[-1] if len(classes) == 2 else None
        labels = LabelEncoder().fit(train_y)
        if len(labels.classes_) == 1:
            predicted = np.full(len(test_y), labels.classes_[0])
            p_positive = np.full(len(test_y), 1.0 if labels.classes_[0] == positive else 0.0)
        else:
            train, test = self.encoded
            model = make_classifier(classifier, seed)
            model.fit(train, labels.transform(train_y))
            if classifier in _PREDICT_FROM_PROBABILITIES:
                probabilities = model.predict_proba(test)
                codes = model.classes_.take(probabilities.argmax(axis=1))
            else:
                codes = model.predict(test)
                probabilities = model.predict_proba(test) if positive is not None else None
            predicted = labels.inverse_transform(codes.astype(int))
            p_positive = None
            if positive is not None and probabilities is not None:
                known = list(labels.classes_)
                p_positive = probabilities[:, known.index(positive)] if positive in known else np.zeros(len(test_y))
        scores = {
            "accuracy": float(np.mean(predicted == test_y)),
            "macro_f1": float(f1_score(test_y, predicted, average="macro", zero_division=0)),
            "roc_auc": None,
        }
        if positive is not None and len(set(test_y)) == 2:
            scores["roc_auc"] = float(roc_auc_score(test_y == positive, p_positive))
        return scores


def classify(
    train_x: pd.DataFrame,
    train_y: pd.Series,
    test_x: pd.DataFrame,
    test_y: pd.Series,
    numeric: list[str],
    classifier: str,
    seed: int,
) -> dict[str, float | None]:
    """Accuracy, macro-F1 and (binary targets) ROC AUC on the test rows of ``classifier`` trained on the training rows."""
    return Task(train_x, train_y, test_x, test_y, numeric).classify(classifier, seed)


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _digest(*frames: pd.DataFrame | pd.Series) -> str:
    h = hashlib.sha256()
    for frame in frames:
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        frame = frame.to_frame() if isinstance(frame, pd.Series) else frame
        h.update(json.dumps([str(c) for c in frame.columns] + [str(t) for t in frame.dtypes]).encode())
    return h.hexdigest()


class TrtrCache:
    """TRTR scores on disk, keyed by the real rows' content, the feature view, classifier, seed and libraries."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = Path(folder) if folder else None

    @classmethod
    def from_env(cls) -> TrtrCache:
        return cls(settings.TRTR_CACHE.get())

    def scores(self, real: Task, classifier: str, seed: int) -> tuple[dict[str, float | None], bool]:
        """(TRTR scores of the real rows' task, whether they came from the cache)."""
        if self.folder is None:
            return real.classify(classifier, seed), False
        facts = {
            "definition": DEFINITION,
            "data": real.digest,
            "numeric": sorted(real.numeric),
            "classifier": classifier,
            "seed": seed,
            "libraries": _versions(),
        }
        key = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = self.folder / f"{key}.json"
        descriptor = os.open(self.folder / f"{key}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        with os.fdopen(descriptor, "r+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second job wanting the same entry waits for the first
            cached = _read_entry(entry, facts)
            if cached is not None:
                with contextlib.suppress(OSError):
                    os.utime(entry, follow_symlinks=False)  # used: retention keeps entries by their last use
                return cached, True
            scores = real.classify(classifier, seed)
            layout.write_text_atomic(entry, json.dumps({"facts": facts, "scores": scores}, sort_keys=True))
        return scores, False


def _read_entry(entry: Path, facts: dict[str, Any]) -> dict[str, float | None] | None:
    """The cached scores, if the entry is whole and for exactly these facts (anything else is recomputed)."""
    try:
        data = layout.read_json(entry, entry.parent, limit=64 << 10)  # the cache is shared by every job: hostile
        if data["facts"] == facts and set(data["scores"]) == {"accuracy", "macro_f1", "roc_auc"}:
            return dict(data["scores"])
    except (ContractError, KeyError, TypeError):
        pass
    return None


def score(
    synthetic_x: pd.DataFrame,
    synthetic_y: pd.Series,
    train_x: pd.DataFrame,
    train_y: pd.Series,
    test_x: pd.DataFrame,
    test_y: pd.Series,
    numeric: list[str],
    classifiers: list[str],
    seed: int,
    cache: TrtrCache | None = None,
) -> list[Score]:
    cache = cache or TrtrCache(None)
    synthetic = Task(synthetic_x, synthetic_y, test_x, test_y, numeric)
    real = Task(train_x, train_y, test_x, test_y, numeric)
    out = []
    for name in classifiers:
        tstr = synthetic.classify(name, seed)
        trtr, cached = cache.scores(real, name, seed)
        out.append(
            Score(
                classifier=name,
                **{f"tstr_{k}": v for k, v in tstr.items()},
                **{f"trtr_{k}": v for k, v in trtr.items()},
                trtr_cached=cached,
            )
        )
    return out
