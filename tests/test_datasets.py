import numpy as np
import pandas as pd
import pytest

from ganblr_bench import dataset_catalog, dataset_files
from ganblr_bench.dataset_files import DatasetError
from ganblr_bench.job import preparation


def test_every_registered_uci_file_matches_its_checksum_in_the_mirror(mirror):
    for name, info in dataset_catalog.REGISTRY.items():
        found = dataset_files.fetch(name)
        for role, file in found.files.items():
            assert dataset_files.sha256_of(file.path) == file.sha256  # the sha256 it reports is the file's
            if not info.package:
                assert file.sha256 == info.files[role].sha256


@pytest.mark.parametrize(
    "name, rows, classes",
    [
        pytest.param(*case, marks=pytest.mark.mirror)
        for case in (
            ("adult", 32561 + 16281, {"<=50K", ">50K"}),
            ("car", 1728, {"unacc", "acc", "good", "vgood"}),
            ("chess", 3196, {"won", "nowin"}),
            ("tic-tac-toe", 958, {"positive", "negative"}),
            ("mushroom", 8124, {"e", "p"}),
            ("magic", 19020, {"g", "h"}),
            ("nursery", 12960, {"not_recom", "priority", "spec_prior", "very_recom", "recommend"}),
        )
    ]
    + [  # shipped in scikit-learn: no mirror
        ("iris", 150, {"setosa", "versicolor", "virginica"}),
        ("wine", 178, {"class_0", "class_1", "class_2"}),
        ("breast-cancer", 569, {"malignant", "benign"}),
    ],
)
def test_parsing_counts_records_and_cleans_labels(name, rows, classes):
    raw = preparation.load(name)
    frames = list(raw.frames.values())
    assert sum(len(f) for f in frames) == rows == dataset_catalog.get(name).rows  # the catalog's count is true
    assert set(pd.concat([f[raw.info.target] for f in frames])) == classes


@pytest.mark.mirror
def test_adult_keeps_question_marks_as_a_category_and_counts_them():
    raw = preparation.load("adult")
    train = raw.frames["train"]
    assert (train[["workclass", "occupation", "native-country"]] == "?").sum().sum() == 4262
    prepared = preparation.prepare("adult", seed=0, model="ganblr++")
    assert prepared.rows_dropped == 0 and len(prepared.train_x) == 32561 and len(prepared.test_x) == 16281
    assert prepared.train_x["age"].dtype == float and "?" in set(prepared.train_x["workclass"])


def test_corrupt_mirror_file_is_refused_with_the_dataset_named(tmp_path, mirror):
    bad_mirror = tmp_path / "mirror"
    (bad_mirror / "car").mkdir(parents=True)
    original = (mirror / "car" / "car.data").read_bytes()
    (bad_mirror / "car" / "car.data").write_bytes(original.replace(b"vhigh", b"vlow!", 1))
    with pytest.raises(DatasetError, match=r"dataset car: car.data from mirror .* not the original"):
        dataset_files.fetch("car", cache=tmp_path / "cache", mirror=bad_mirror)
    assert not (tmp_path / "cache" / "car" / "car.data").exists()


def test_corrupt_cache_file_is_replaced_from_the_mirror(tmp_path, mirror):
    cache = tmp_path / "cache"
    path = dataset_files.fetch("car", cache=cache, mirror=mirror).files["data"].path
    path.write_text("tampered")
    again = dataset_files.fetch("car", cache=cache, mirror=mirror).files["data"].path
    assert dataset_files.sha256_of(again) == dataset_catalog.get("car").files["data"].sha256


def test_missing_everywhere_and_offline_says_what_to_do(tmp_path):
    with pytest.raises(
        DatasetError, match="dataset magic: magic04.data is not in the cache .* 'ganblr-bench data fetch magic'"
    ):
        dataset_files.fetch("magic", cache=tmp_path / "c", mirror=tmp_path / "empty", offline=True)


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset 'nope'; known: adult"):
        preparation.load("nope")


@pytest.mark.mirror
def test_split_is_seeded_stratified_and_row_limited():
    a = preparation.prepare("car", seed=5, model="ganblr", row_limit=400)
    b = preparation.prepare("car", seed=5, model="ganblr", row_limit=400)
    c = preparation.prepare("car", seed=6, model="ganblr", row_limit=400)
    pd.testing.assert_frame_equal(a.train_x, b.train_x)
    assert not a.train_x.equals(c.train_x)
    assert abs(len(a.train_x) + len(a.test_x) - 400) <= 4  # rounding per class
    share = a.train_y.value_counts(normalize=True)
    assert share["unacc"] == pytest.approx(1210 / 1728, abs=0.02)
    assert len(a.test_x) == pytest.approx(0.2 * 400, abs=4)


def test_discretisation_is_fitted_on_train_and_deterministic():
    train = pd.Series(np.arange(100, dtype=float))
    test = pd.Series([-5.0, 10.0, 50.0, 500.0])
    binned_train, binned_test = preparation.discretise(train, [test], bins=4)
    assert binned_train.value_counts().to_dict() == {"q0": 25, "q1": 25, "q2": 25, "q3": 25}
    assert list(binned_test) == ["q0", "q0", "q2", "q3"]  # outside the range joins the end bins
    assert list(preparation.discretise(pd.Series([0.0] * 9 + [1.0]), [], bins=5)[0].unique()) == ["q0", "q1"]


@pytest.mark.mirror
def test_ganblr_sees_bins_and_ganblrpp_sees_numbers():
    g = preparation.prepare("magic", seed=1, model="ganblr", row_limit=500, discretise_bins=3)
    p = preparation.prepare("magic", seed=1, model="ganblr++", row_limit=500)
    assert g.numeric_columns == [] and set(g.train_x["fLength"]) == {"q0", "q1", "q2"}
    assert p.numeric_columns == list(dataset_catalog.get("magic").numeric) and p.train_x["fLength"].dtype == float
    q = preparation.prepare("magic", seed=1, model="ganblr++", row_limit=500, numeric_columns=["fLength"])
    assert q.numeric_columns == ["fLength"] and q.train_x["fWidth"].str.startswith("q").all()
    with pytest.raises(DatasetError, match="numeric_columns names non-numeric or unknown columns \\['class'\\]"):
        preparation.prepare("magic", seed=1, model="ganblr++", numeric_columns=["class"])


def test_filling_the_job_cache_skips_packaged_sets_and_verifies_the_others(tmp_path, mirror):
    assert dataset_files.fill_cache("iris", cache=tmp_path) is None and list(tmp_path.iterdir()) == []
    filled = dataset_files.fill_cache("car", cache=tmp_path)
    assert filled.files["data"].path == tmp_path / "car" / "car.data"
    assert filled.files["data"].sha256 == dataset_catalog.get("car").files["data"].sha256
