"""The registry of named datasets: where each file lives, its checksum, its columns.

Facts only, no loading (that is ``datasets.py``), so the scheduler can validate a
dataset name without importing pandas. The UCI files are the originals as documented
in the UCI repository; their sha256 are checked every time a file enters the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases"


@dataclass(frozen=True)
class DataFile:
    filename: str
    url: str
    sha256: str
    skip_lines: int = 0  # banner lines before the first record


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    columns: tuple[str, ...]
    target: str
    numeric: tuple[str, ...] = ()
    # role -> file: "data" alone, or "train" and "test" for an official split.
    files: dict[str, DataFile] = field(default_factory=dict)
    folder: str = ""  # sub-folder in a mirror and in the cache
    sep: str = ","
    missing: str = "?"
    target_suffix: str = ""  # stripped from target values (adult.test writes '>50K.')
    package: str | None = None  # module whose package data holds the files (no URL, no pinned sha256)
    target_labels: tuple[str, ...] = ()  # names for integer-coded targets (index = code)
    citation: str = "UCI Machine Learning Repository, CC BY 4.0"
    rows: int = 0  # records in its files (train and test together): a new series' expected duration scales with it

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.numeric and c != self.target)

    @property
    def official_split(self) -> bool:
        return "train" in self.files


def _uci(
    name: str,
    title: str,
    folder: str,
    path: str,
    sha256: str,
    columns: tuple[str, ...],
    target: str,
    numeric: tuple[str, ...] = (),
    **extra: Any,
) -> DatasetInfo:
    filename = path.rsplit("/", 1)[-1]
    return DatasetInfo(
        name=name,
        title=title,
        folder=folder,
        columns=tuple(columns),
        target=target,
        numeric=tuple(numeric),
        files={"data": DataFile(filename, f"{UCI}/{path}", sha256)},
        **extra,
    )


_ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)
_CHESS_COLUMNS = (
    "bkblk",
    "bknwy",
    "bkon8",
    "bkona",
    "bkspr",
    "bkxbq",
    "bkxcr",
    "bkxwp",
    "blxwp",
    "bxqsq",
    "cntxt",
    "dsopp",
    "dwipd",
    "hdchk",
    "katri",
    "mulch",
    "qxmsq",
    "r2ar8",
    "reskd",
    "reskr",
    "rimmx",
    "rkxwp",
    "rxmsq",
    "simpl",
    "skach",
    "skewr",
    "skrxp",
    "spcop",
    "stlmt",
    "thrsk",
    "wkcti",
    "wkna8",
    "wknck",
    "wkovl",
    "wkpos",
    "wtoeg",
    "class",
)
_MUSHROOM_COLUMNS = (
    "class",
    "cap-shape",
    "cap-surface",
    "cap-color",
    "bruises",
    "odor",
    "gill-attachment",
    "gill-spacing",
    "gill-size",
    "gill-color",
    "stalk-shape",
    "stalk-root",
    "stalk-surface-above-ring",
    "stalk-surface-below-ring",
    "stalk-color-above-ring",
    "stalk-color-below-ring",
    "veil-type",
    "veil-color",
    "ring-number",
    "ring-type",
    "spore-print-color",
    "population",
    "habitat",
)
_SQUARES = tuple(f"{r}-{c}-square" for r in ("top", "middle", "bottom") for c in ("left", "middle", "right"))
_MAGIC_NUMERIC = ("fLength", "fWidth", "fSize", "fConc", "fConc1", "fAsym", "fM3Long", "fM3Trans", "fAlpha", "fDist")
_LETTER_NUMERIC = (
    "x-box",
    "y-box",
    "width",
    "high",
    "onpix",
    "x-bar",
    "y-bar",
    "x2bar",
    "y2bar",
    "xybar",
    "x2ybr",
    "xy2br",
    "x-ege",
    "xegvy",
    "y-ege",
    "yegvx",
)
_WINE_NUMERIC = (
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280_od315",
    "proline",
)
_WDBC_NUMERIC = tuple(
    f"{stat}_{feature}"
    for stat in ("mean", "se", "worst")
    for feature in (
        "radius",
        "texture",
        "perimeter",
        "area",
        "smoothness",
        "compactness",
        "concavity",
        "concave_points",
        "symmetry",
        "fractal_dimension",
    )
)
_IRIS_NUMERIC = ("sepal_length", "sepal_width", "petal_length", "petal_width")

_DATASETS = (
    DatasetInfo(
        name="adult",
        title="Adult (Census Income)",
        folder="adult",
        columns=_ADULT_COLUMNS,
        target="income",
        numeric=("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"),
        files={
            "train": DataFile(
                "adult.data",
                f"{UCI}/adult/adult.data",
                "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
            ),
            "test": DataFile(
                "adult.test",
                f"{UCI}/adult/adult.test",
                "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
                skip_lines=1,
            ),
        },
        target_suffix=".",
        rows=48842,
    ),
    _uci(
        "car",
        "Car Evaluation",
        "car",
        "car/car.data",
        "b703a9ac69f11e64ce8c223c0a40de4d2e9d769f7fb20be5f8f2e8a619893d83",
        ("buying", "maint", "doors", "persons", "lug_boot", "safety", "class"),
        "class",
        rows=1728,
    ),
    _uci(
        "nursery",
        "Nursery",
        "nursery",
        "nursery/nursery.data",
        "8e0389c3dd37590248a921c2726d869ee96b817761a35eb8416afa24f31f931d",
        ("parents", "has_nurs", "form", "children", "housing", "finance", "social", "health", "class"),
        "class",
        rows=12960,
    ),
    _uci(
        "chess",
        "Chess (King-Rook vs. King-Pawn)",
        "chess-krkp",
        "chess/king-rook-vs-king-pawn/kr-vs-kp.data",
        "70a5540902b4063d3977d3e820ac5b9fe5624eb5d93709eee5d50d7a94fca205",
        _CHESS_COLUMNS,
        "class",
        rows=3196,
    ),
    _uci(
        "tic-tac-toe",
        "Tic-Tac-Toe Endgame",
        "tic-tac-toe",
        "tic-tac-toe/tic-tac-toe.data",
        "a996a756484d0cf8cbad1680d823aadbfcff8ae2d78c450e6999362d580301c5",
        _SQUARES + ("Class",),
        "Class",
        rows=958,
    ),
    _uci(
        "mushroom",
        "Mushroom",
        "mushroom",
        "mushroom/agaricus-lepiota.data",
        "e65d082030501a3ebcbcd7c9f7c71aa9d28fdfff463bf4cf4716a3fe13ac360e",
        _MUSHROOM_COLUMNS,
        "class",
        rows=8124,
    ),
    _uci(
        "magic",
        "MAGIC Gamma Telescope",
        "magic",
        "magic/magic04.data",
        "e9314b7ebd4b4b59a3b3d65f7316663963777b16a46786877651dbbaa640b36a",
        _MAGIC_NUMERIC + ("class",),
        "class",
        _MAGIC_NUMERIC,
        rows=19020,
    ),
    _uci(
        "letter",
        "Letter Recognition",
        "letter-recognition",
        "letter-recognition/letter-recognition.data",
        "2b89f3602cf768d3c8355267d2f13f2417809e101fc2b5ceee10db19a60de6e2",
        ("lettr",) + _LETTER_NUMERIC,
        "lettr",
        _LETTER_NUMERIC,
        rows=20000,
    ),
    # The embedded default: the Iris file that ships inside scikit-learn, so a first run downloads nothing.
    DatasetInfo(
        name="iris",
        title="Iris (bundled with scikit-learn)",
        columns=_IRIS_NUMERIC + ("species",),
        target="species",
        numeric=_IRIS_NUMERIC,
        package="sklearn.datasets.data",
        files={"data": DataFile("iris.csv", "", "", skip_lines=1)},  # skips scikit-learn's shape line
        target_labels=("setosa", "versicolor", "virginica"),
        citation="Fisher (1936), UCI Machine Learning Repository, CC BY 4.0; file from scikit-learn",
        rows=150,
    ),
    DatasetInfo(
        name="wine",
        title="Wine (bundled with scikit-learn)",
        columns=_WINE_NUMERIC + ("cultivar",),
        target="cultivar",
        numeric=_WINE_NUMERIC,
        package="sklearn.datasets.data",
        files={"data": DataFile("wine_data.csv", "", "", skip_lines=1)},
        target_labels=("class_0", "class_1", "class_2"),
        citation="Forina et al. (1988), UCI Machine Learning Repository, CC BY 4.0; file from scikit-learn",
        rows=178,
    ),
    DatasetInfo(
        name="breast-cancer",
        title="Breast Cancer Wisconsin (Diagnostic) (bundled with scikit-learn)",
        columns=_WDBC_NUMERIC + ("diagnosis",),
        target="diagnosis",
        numeric=_WDBC_NUMERIC,
        package="sklearn.datasets.data",
        files={"data": DataFile("breast_cancer.csv", "", "", skip_lines=1)},
        target_labels=("malignant", "benign"),
        citation="Wolberg et al. (1995), UCI Machine Learning Repository, CC BY 4.0; file from scikit-learn",
        rows=569,
    ),
)

REGISTRY: dict[str, DatasetInfo] = {d.name: d for d in _DATASETS}


def get(name: str) -> DatasetInfo:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
