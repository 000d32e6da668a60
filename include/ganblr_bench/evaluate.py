"""Accuracy of a generator's output: TSTR beside TRTR, with four classifiers.

TSTR trains a classifier on the synthetic rows and tests it on the real test rows;
TRTR trains the same classifier, with the same preprocessing and seed, on the real
training rows. Both use the features as the model saw them (GANBLR: numeric columns as
bins; GANBLR++: numeric columns as numbers), so the pair is a like-for-like baseline.
Preprocessing: one-hot for categorical columns (unknown categories ignored), standard
scaling for numeric ones. A class the training rows lack cannot be predicted, and a
training set with a single class predicts that class: both count against accuracy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

from .contract import Score


def make_classifier(name: str, seed: int):
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


def _pipeline(name: str, seed: int, columns: list[str], numeric: list[str]) -> Pipeline:
    categorical = [c for c in columns if c not in numeric]
    encode = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore"), categorical), ("numeric", StandardScaler(), numeric)],
        sparse_threshold=0.0,
    )
    return Pipeline([("encode", encode), ("classify", make_classifier(name, seed))])


def accuracy(
    train_x: pd.DataFrame,
    train_y: pd.Series,
    test_x: pd.DataFrame,
    test_y: pd.Series,
    numeric: list[str],
    classifier: str,
    seed: int,
) -> float:
    """Accuracy on the test rows of ``classifier`` trained on the training rows."""
    train_y = train_y.astype(str)
    test_y = test_y.astype(str).to_numpy()
    labels = LabelEncoder().fit(train_y)
    if len(labels.classes_) == 1:
        predicted = np.full(len(test_y), labels.classes_[0])
    else:
        model = _pipeline(classifier, seed, list(train_x.columns), numeric)
        model.fit(train_x, labels.transform(train_y))
        predicted = labels.inverse_transform(model.predict(test_x).astype(int))
    return float(np.mean(predicted == test_y))


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
) -> list[Score]:
    return [
        Score(
            classifier=name,
            tstr_accuracy=accuracy(synthetic_x, synthetic_y, test_x, test_y, numeric, name, seed),
            trtr_accuracy=accuracy(train_x, train_y, test_x, test_y, numeric, name, seed),
        )
        for name in classifiers
    ]
