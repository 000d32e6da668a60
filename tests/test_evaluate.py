import numpy as np
import pandas as pd
import pytest

from ganblr_bench.job import utility


def accuracy(*args, **kwargs) -> float:
    return utility.classify(*args, **kwargs)["accuracy"]


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
    assert accuracy(x, y, tx, ty, ["size"], classifier, seed=0) == 1.0


def test_a_training_set_with_one_class_predicts_it():
    x, y = _data(50, 0)
    tx, ty = _data(100, 1)
    only_yes = pd.Series(["yes"] * 50)
    assert accuracy(x, only_yes, tx, ty, ["size"], "lr", 0) == pytest.approx((ty == "yes").mean())


def test_unseen_categories_and_labels_do_not_crash():
    x, y = _data(200, 0)
    tx, ty = _data(50, 1)
    tx.loc[:4, "colour"] = "green"
    ty.loc[:4] = "maybe"
    acc = accuracy(x, y, tx, ty, ["size"], "rf", 0)
    assert acc <= 45 / 50


def test_score_pairs_tstr_with_trtr_and_is_seeded():
    x, y = _data(200, 0)
    noisy_y = y.sample(frac=1.0, random_state=3).reset_index(drop=True)  # labels unrelated to features
    tx, ty = _data(100, 1)
    first = utility.score(x, noisy_y, x, y, tx, ty, ["size"], ["lr", "rf"], seed=4)
    assert [p.classifier for p in first] == ["lr", "rf"]
    assert all(p.trtr_accuracy == 1.0 and p.tstr_accuracy < 0.8 for p in first)
    assert utility.score(x, noisy_y, x, y, tx, ty, ["size"], ["lr", "rf"], seed=4) == first


def test_macro_f1_and_auc_see_through_a_majority_class_guess():
    x, y = _data(300, 0)
    tx, ty = _data(200, 1)
    majority = pd.Series(["no"] * len(y))  # one class: the classifier can only guess it
    guess = utility.classify(x, majority, tx, ty, ["size"], "lr", 0)
    assert guess["accuracy"] == pytest.approx((ty == "no").mean())
    assert guess["macro_f1"] == pytest.approx(((ty == "no").mean() * 2 / (1 + (ty == "no").mean())) / 2)
    assert guess["roc_auc"] == 0.5
    clean = utility.classify(x, y, tx, ty, ["size"], "lr", 0)
    assert clean["macro_f1"] == 1.0 and clean["roc_auc"] == 1.0


def test_auc_is_left_out_for_more_than_two_classes():
    x, y = _data(300, 0)
    y = pd.Series(np.where(x["size"] > 0.5, "c", y), name="label")
    scores = utility.classify(x, y, x, y, ["size"], "rf", 0)
    assert scores["roc_auc"] is None and 0 < scores["macro_f1"] <= 1


def test_trtr_is_computed_once_and_read_back_until_what_it_depends_on_changes(tmp_path):
    x, y = _data(200, 0)
    tx, ty = _data(100, 1)
    cache = utility.TrtrCache(tmp_path)
    first = utility.score(x, y, x, y, tx, ty, ["size"], ["lr", "rf"], 4, cache)
    again = utility.score(x, y, x, y, tx, ty, ["size"], ["lr", "rf"], 4, cache)
    assert [s.trtr_cached for s in first] == [False, False] and [s.trtr_cached for s in again] == [True, True]
    assert [s.trtr_accuracy for s in again] == [s.trtr_accuracy for s in first]
    assert len(list(tmp_path.glob("*.json"))) == 2
    other_seed = utility.score(x, y, x, y, tx, ty, ["size"], ["lr"], 5, cache)
    changed = tx.copy()
    changed.loc[0, "size"] += 1.0
    other_rows = utility.score(x, y, x, y, changed, ty, ["size"], ["lr"], 4, cache)
    assert other_seed[0].trtr_cached is False and other_rows[0].trtr_cached is False


def test_a_damaged_cache_entry_is_recomputed_not_trusted(tmp_path):
    x, y = _data(200, 0)
    tx, ty = _data(100, 1)
    cache = utility.TrtrCache(tmp_path)
    truth = utility.score(x, y, x, y, tx, ty, ["size"], ["lr"], 4, cache)[0]
    entry = next(tmp_path.glob("*.json"))
    entry.write_text(entry.read_text().replace('"accuracy": 1.0', '"accuracy": 0.1')[:-5])  # cut short
    again = utility.score(x, y, x, y, tx, ty, ["size"], ["lr"], 4, cache)[0]
    assert again.trtr_cached is False and again.trtr_accuracy == truth.trtr_accuracy


@pytest.mark.parametrize("dataset", ["breast-cancer", "iris"])
def test_encoding_once_and_predicting_from_probabilities_scores_what_a_pipeline_scores(dataset):
    """The rows are encoded once for every classifier and mlp, rf and xgb take their classes from the one pass
    that gives their probabilities: every score equals that of a scikit-learn Pipeline's own predict and
    predict_proba, to the last bit (a binary and a three-class target, noisy labels so that the classes overlap)."""
    from sklearn.pipeline import Pipeline

    from ganblr_bench.job import preparation

    p = preparation.prepare(dataset, seed=0, model="ganblr++")
    rng = np.random.default_rng(1)
    train_y = p.train_y.where(rng.random(len(p.train_y)) > 0.2, p.train_y.sample(frac=1.0, random_state=2).to_numpy())
    task = utility.Task(p.train_x, train_y, p.test_x, p.test_y, p.numeric_columns)
    for name in ("lr", "mlp", "rf", "xgb"):
        labels = train_y.astype(str)
        codes = {c: i for i, c in enumerate(sorted(set(labels)))}
        pipe = Pipeline(
            [
                ("encode", utility._encoder(list(p.train_x.columns), p.numeric_columns)),
                ("m", utility.make_classifier(name, 0)),
            ]
        )
        pipe.fit(p.train_x, labels.map(codes).to_numpy())
        inverse = np.array(sorted(codes))
        predicted = inverse[pipe.predict(p.test_x).astype(int)]
        truth = p.test_y.astype(str).to_numpy()
        scores = task.classify(name, 0)
        assert scores["accuracy"] == float(np.mean(predicted == truth)), name
        if len(codes) == 2:
            from sklearn.metrics import roc_auc_score

            positive = pipe.predict_proba(p.test_x)[:, 1]
            assert scores["roc_auc"] == float(roc_auc_score(truth == inverse[1], positive)), name
