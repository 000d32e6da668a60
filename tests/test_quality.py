"""Fidelity and privacy figures on data whose answer is known."""

import numpy as np
import pandas as pd
import pytest

from ganblr_bench.job import quality


def _frame(n, seed, flip=0.0):
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "blue", "green"], n, p=[0.5, 0.3, 0.2])
    size = rng.normal(size=n)
    label = np.where(colour == "red", "yes", "no")
    flipped = rng.random(n) < flip
    label = np.where(flipped, np.where(label == "yes", "no", "yes"), label)
    return pd.DataFrame({"colour": colour, "size": size, "label": label})


def test_a_copy_of_the_real_rows_scores_perfect_fidelity_and_no_privacy():
    real, holdout = _frame(400, 0), _frame(400, 1)
    copy = quality.measure(real, real, holdout, ["size"], seed=0)
    assert copy["column_shapes"] == pytest.approx(1.0)
    assert copy["column_pair_trends"] == pytest.approx(1.0)
    assert copy["dcr_train_median"] == 0.0 and copy["dcr_closer_to_train"] > 0.95
    assert copy["dcr_overfitting_protection"] < 0.1


def test_independent_columns_keep_shapes_but_lose_the_pairs():
    real, holdout = _frame(2000, 0), _frame(2000, 1)
    rng = np.random.default_rng(7)
    shuffled = real.apply(lambda c: c.sample(frac=1.0, random_state=int(rng.integers(1e6))).to_numpy())
    scores = quality.measure(shuffled, real, holdout, ["size"], seed=0)
    assert scores["column_shapes"] == pytest.approx(1.0)  # the same values, each column on its own
    assert scores["column_pair_trends"] < 0.85  # colour -> label is gone
    fresh = quality.measure(_frame(2000, 2), real, holdout, ["size"], seed=0)
    assert fresh["column_pair_trends"] > 0.95 > scores["column_pair_trends"]
    assert 0.35 < fresh["dcr_closer_to_train"] < 0.65  # never saw the training rows: no closer to them


def test_the_definitions_on_tiny_known_columns():
    a, b = pd.Series(["x", "x", "y", "y"]), pd.Series(["x", "y", "y", "y"])
    assert quality.tv_complement(a, b) == pytest.approx(0.75)  # TVD = (|.5-.25| + |.5-.75|) / 2
    assert quality.ks_complement(pd.Series([0.0, 1.0]), pd.Series([2.0, 3.0])) == 0.0
    real = pd.DataFrame({"u": [1.0, 2.0, 3.0], "v": [1.0, 2.0, 3.0]})
    anti = pd.DataFrame({"u": [1.0, 2.0, 3.0], "v": [3.0, 2.0, 1.0]})
    assert quality.correlation_similarity(real, anti) == pytest.approx(0.0)  # r = 1 vs -1
    s = np.array([[0.0, 1.5]])
    r = np.array([[0.5, 1.5], [0.0, 2.5]])
    # numeric column scaled by its range (1 here), categorical codes compared for equality
    assert quality.closest_distances(s, r, np.array([True, False]))[0] == pytest.approx(0.25)


def _tv_by_counting(real, synthetic):
    """The definition as written: 1 - TVD of the value (row) frequencies, by pandas' value_counts."""
    p = real.astype(str).value_counts(normalize=True)
    q = synthetic.astype(str).value_counts(normalize=True)
    both = p.index.union(q.index)
    return 1 - 0.5 * (p.reindex(both, fill_value=0) - q.reindex(both, fill_value=0)).abs().sum()


def test_the_coded_frequencies_give_the_definitions_scores():
    """Columns coded once and pairs counted as integers score what counting the values as text scores, with
    values only one side has, missing values, and numbers against their text."""
    rng = np.random.default_rng(3)

    def frame(n, shift):
        return pd.DataFrame(
            {
                "a": rng.choice(["x", "y", "z", None], n),
                "b": rng.integers(0, 40 + shift, n),
                "c": rng.choice([1, 2, 3], n).astype(str),
                "d": rng.choice(["p", "q"], n, p=[0.9 - shift / 100, 0.1 + shift / 100]),
            }
        )

    real, synthetic = frame(3000, 0), frame(2000, 7)
    synthetic["c"] = synthetic["c"].astype(int)  # 1 and "1" are the same value as text
    for c in real.columns:
        assert quality.tv_complement(real[c], synthetic[c]) == pytest.approx(
            _tv_by_counting(real[c], synthetic[c]), abs=1e-12
        )
    pairs = [(a, b) for i, a in enumerate(real.columns) for b in real.columns[i + 1 :]]
    expected = np.mean([_tv_by_counting(real[[a, b]], synthetic[[a, b]]) for a, b in pairs])
    assert quality.column_pair_trends(real, synthetic, []) == pytest.approx(expected, abs=1e-12)
    assert 0.5 < expected < 0.99  # the two frames do differ


def test_closest_distances_are_the_definitions_to_the_last_bit():
    """Column by column into a mismatch count, a distance is what the definition's one sum over columns gives."""
    rng = np.random.default_rng(5)
    is_numeric = np.array([False, True, False, False, True, False])
    synthetic, real = (rng.integers(0, 6, (n, 6)).astype(float) for n in (300, 700))
    synthetic[:, is_numeric], real[:, is_numeric] = rng.random((300, 2)), rng.random((700, 2))
    mismatch = (synthetic[:, None, ~is_numeric] != real[None, :, ~is_numeric]).sum(axis=2, dtype=np.float64)
    numbers = np.minimum(np.abs(synthetic[:, None, is_numeric] - real[None, :, is_numeric]), 1.0).sum(axis=2)
    expected = (mismatch + numbers).min(axis=1) / 6
    assert np.array_equal(quality.closest_distances(synthetic, real, is_numeric, chunk=64), expected)
    only_codes = ~is_numeric
    expected = mismatch.min(axis=1) / 4
    assert np.array_equal(
        quality.closest_distances(synthetic[:, only_codes], real[:, only_codes], only_codes[only_codes]), expected
    )
