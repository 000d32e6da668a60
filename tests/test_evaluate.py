import numpy as np
import pandas as pd
import pytest

from ganblr_bench import evaluate


def _data(n, seed):
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "blue"], n)
    size = rng.normal(size=n)
    y = pd.Series(np.where(colour == "red", "yes", "no"), name="label")
    return pd.DataFrame({"colour": colour, "size": size}), y


@pytest.mark.parametrize("classifier", ["lr", "mlp", "rf", "xgb"])
def test_each_classifier_learns_a_clean_rule(classifier):
    x, y = _data(300, 0)
    tx, ty = _data(100, 1)
    assert evaluate.accuracy(x, y, tx, ty, ["size"], classifier, seed=0) == 1.0


def test_a_training_set_with_one_class_predicts_it():
    x, y = _data(50, 0)
    tx, ty = _data(100, 1)
    only_yes = pd.Series(["yes"] * 50)
    assert evaluate.accuracy(x, only_yes, tx, ty, ["size"], "lr", 0) == pytest.approx((ty == "yes").mean())


def test_unseen_categories_and_labels_do_not_crash():
    x, y = _data(200, 0)
    tx, ty = _data(50, 1)
    tx.loc[:4, "colour"] = "green"
    ty.loc[:4] = "maybe"
    acc = evaluate.accuracy(x, y, tx, ty, ["size"], "rf", 0)
    assert acc <= 45 / 50


def test_score_pairs_tstr_with_trtr_and_is_seeded():
    x, y = _data(200, 0)
    noisy_y = y.sample(frac=1.0, random_state=3).reset_index(drop=True)  # labels unrelated to features
    tx, ty = _data(100, 1)
    first = evaluate.score(x, noisy_y, x, y, tx, ty, ["size"], ["lr", "rf"], seed=4)
    assert [p.classifier for p in first] == ["lr", "rf"]
    assert all(p.trtr_accuracy == 1.0 and p.tstr_accuracy < 0.8 for p in first)
    assert evaluate.score(x, noisy_y, x, y, tx, ty, ["size"], ["lr", "rf"], seed=4) == first
