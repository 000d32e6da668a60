"""The generator interface: the built-ins implement it, and a package from outside adds a generator by its entry
point alone (a real distribution on the path of a real process: discovered, listed, run through the harness)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from jobs import assert_complete, cli

from ganblr_bench import generator_catalog, settings
from ganblr_bench.generator_catalog import BUILT_IN, ENTRY_POINTS, GeneratorInfo, GeneratorParams, discover
from ganblr_bench.job import generators
from ganblr_bench.layout import load_result
from ganblr_bench.params import parse_params
from ganblr_bench.run import plan

ROOT = Path(__file__).resolve().parents[1]

# A generator package as an engineer would write one: facts in its top module, the model in another.
PACKAGE = {
    "mygen/__init__.py": (
        "from ganblr_bench.generator_catalog import GeneratorInfo, InputKind, Role\n"
        "SHUFFLED = GeneratorInfo('shuffled', 'shuffled columns', Role.UNDER_TEST, InputKind.DISCRETE,\n"
        "                         'mygen.model:Shuffled', packages=('mygen',))\n"
        "NOT_FACTS = 42\n"
    ),
    "mygen/model.py": (
        "import numpy as np\n"
        "class Shuffled:\n"
        "    '''Each column of the training rows, shuffled on its own: the marginals kept, the links gone.'''\n"
        "    def __init__(self, p):\n"
        "        self.rng = np.random.default_rng(p.seed)\n"
        "    def fit(self, x, y):\n"
        "        self.x, self.y = x.reset_index(drop=True), y.reset_index(drop=True)\n"
        "    def sample(self, rows):\n"
        "        pick = lambda s: s.iloc[self.rng.integers(0, len(s), rows)].reset_index(drop=True)\n"
        "        return self.x.apply(pick), pick(self.y)\n"
    ),
    "mygen-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: mygen\nVersion: 0.1\n",
    "mygen-0.1.dist-info/entry_points.txt": (
        f"[{ENTRY_POINTS}]\nshuffled = mygen:SHUFFLED\nbroken = mygen.nowhere:X\nnumber = mygen:NOT_FACTS\n"
    ),
}


@pytest.fixture
def outside(tmp_path) -> dict[str, str]:
    for name, text in PACKAGE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return {"PYTHONPATH": str(tmp_path)}


def test_each_built_in_generator_is_made_by_its_factory_and_fits_and_samples_through_the_interface():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.integers(0, 3, 60).astype(str), "b": rng.integers(0, 2, 60).astype(str)})
    y = pd.Series(rng.integers(0, 2, 60).astype(str), name="class")
    for info in BUILT_IN:
        if info.tensorflow:  # the models under test are run for real by test_runner and the image tests
            assert generators.build.__module__ and info.factory.startswith("ganblr_bench.job.generators:")
            continue
        made = generators.build(info, GeneratorParams(0, [], 0, 1, 32, 1))
        made.fit(x, y)
        sx, sy = made.sample(25)
        assert list(sx.columns) == ["a", "b"] and sy.name == "class" and len(sx) == len(sy) == 25
        assert set(sx["a"]) <= set(x["a"]) and set(sy) <= set(y)


def test_a_package_from_outside_adds_a_generator_a_real_process_lists_and_runs_through_the_harness(outside, tmp_path):
    listed = cli(["generators", "--format", "json"], **outside)
    # its two broken entry points are said first, in one line, exit 2: an engineer checking the package sees why
    assert listed.returncode == 2 and listed.stderr.count("\n") == 1, listed.stderr
    assert "generator 'broken'" in listed.stderr and "does not load" in listed.stderr
    spec = parse_params({"models": ["independent"], "datasets": ["iris"], "seeds": [3], "references": False})
    data = json.loads(spec.specs(run="outside")[0].model_dump_json()) | {"model": "shuffled"}
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "spec.json").write_text(json.dumps(data))
    ran = cli(["run", "--spec", str(tmp_path / "job" / "spec.json"), "--out", str(tmp_path / "job")], **outside)
    assert ran.returncode == 0, ran.stderr
    result = load_result(tmp_path / "job" / "result.json")
    assert_complete(result)  # the same phases, resources, scores and quality as a built-in generator's
    assert result.job == "shuffled-iris-s3" and result.environment.versions["mygen"] == "0.1"
    # without the package, the same spec is refused before any work, naming the model (exit 2, one line)
    refused = cli(["run", "--spec", str(tmp_path / "job" / "spec.json"), "--out", str(tmp_path / "again")])
    assert refused.returncode == 2 and "model: unknown model 'shuffled'" in refused.stderr
    assert refused.stderr.count("\n") == 1 and not (tmp_path / "again" / "result.json").exists()


def test_a_broken_or_clashing_package_is_left_out_and_said_and_the_others_stay(outside):
    sys.path.insert(0, outside["PYTHONPATH"])
    try:
        points = [
            metadata.EntryPoint("shuffled", "mygen:SHUFFLED", ENTRY_POINTS),
            metadata.EntryPoint("broken", "mygen.nowhere:X", ENTRY_POINTS),
            metadata.EntryPoint("number", "mygen:NOT_FACTS", ENTRY_POINTS),
            metadata.EntryPoint("ganblr", "mygen:SHUFFLED", ENTRY_POINTS),  # its name is not the facts'
        ]
        found = discover(points)
    finally:
        sys.path.remove(outside["PYTHONPATH"])
        for name in [m for m in sys.modules if m == "mygen" or m.startswith("mygen.")]:
            del sys.modules[name]
    assert [g for g in found.generators][:4] == ["ganblr", "ganblr++", "independent", "naive-bayes"]
    assert "shuffled" in found.generators and found.generators["ganblr"] is BUILT_IN[0]
    assert len(found.problems) == 3
    assert "'broken'" in found.problems[0] and "ModuleNotFoundError" in found.problems[0]
    assert "'number'" in found.problems[1] and "is a int, not a GeneratorInfo" in found.problems[1]
    assert "'ganblr'" in found.problems[2] and "is not the entry point's" in found.problems[2]
    clash = GeneratorInfo("ganblr", "x", BUILT_IN[0].role, BUILT_IN[0].input, "m:f")
    assert discover([_Point("ganblr", clash)]).problems == [
        f"generator 'ganblr' ({ENTRY_POINTS}: m:f): name: 'ganblr' is already built in's"
    ]
    assert "factory" in (GeneratorInfo("ok", "x", BUILT_IN[0].role, BUILT_IN[0].input, "nocolon").problem() or "")


class _Point:
    """An entry point whose ``load`` gives ``value`` (facts built in the test: no package needed to clash)."""

    def __init__(self, name: str, value: GeneratorInfo) -> None:
        self.name, self.value, self.loaded = name, value.factory, value

    def load(self) -> GeneratorInfo:
        return self.loaded


def test_the_shipped_katabatic_generator_is_discovered_with_its_own_stack_and_runs_on_its_locked_stack_only():
    info = generator_catalog.get("katabatic-ganblr")
    assert (info.stack, info.implements, info.source) == ("katabatic", "ganblr", "ganblr-bench-katabatic 0.1.0")
    planned = parse_params(
        {"models": ["ganblr", "katabatic-ganblr"], "datasets": ["car"], "seeds": [0], "stacks": ["locked", "latest"]}
    ).specs()
    names = [(s.name, s.stack) for s in planned if s.model in ("ganblr", "katabatic-ganblr")]
    assert names == [
        ("ganblr-car-s0", "locked"),
        ("ganblr-car-s0-latest", "latest"),
        ("katabatic-ganblr-car-s0", "locked"),
    ]
    from ganblr_bench.contract import PlannedJob

    job = PlannedJob(name="k", model="katabatic-ganblr", stack="locked", cores=1, memory_limit="3g")
    assert (plan.variant(job), plan.image_key(job)) == ("katabatic", "katabatic")
    assert plan.image_key(job.model_copy(update={"model": "ganblr", "stack": "latest"})) == "latest"


def test_the_variant_lock_says_why_in_the_resolvers_words_and_the_resolver_still_says_so():
    """The header of requirements-katabatic.lock is what scripts/stack_conflicts.py finds on today's package index
    (the index is reachable here: the lock was made from it)."""
    from ganblr_bench.run import image

    recorded = image.lock_conflicts(ROOT, "katabatic")
    assert [c.split(":")[0] for c in recorded] == ["scipy==1.17.1", "pandas==3.1.1", "numpy==2.4.6", "pgmpy==1.1.2"]
    uv = ROOT / "var" / "tools" / "bin" / "uv"
    assert uv.exists(), "scripts/lock.sh --tools installs the locker (scripts/test.sh does)"
    wheelhouse = settings.WHEELHOUSE.get()
    assert wheelhouse is not None, "GANBLR_BENCH_WHEELHOUSE: scripts/test.sh sets it from pip's find-links"
    wheels = image.local_wheels(ROOT, "katabatic", wheelhouse)
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "stack_conflicts.py"), str(uv), str(ROOT / "requirements-models.in"),
         str(ROOT / "requirements-katabatic.in"), "--find-links", str(wheels[0].parent)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert [line.removeprefix(image.CONFLICT) for line in out.stdout.splitlines()] == recorded


def test_a_variant_whose_wheel_is_not_in_the_wheelhouse_is_refused_naming_the_wheel_and_the_setting(tmp_path):
    from ganblr_bench.errors import ImageError
    from ganblr_bench.run import image

    with pytest.raises(ImageError, match=r"torch==2\.13\.0\+cpu.*GANBLR_BENCH_WHEELHOUSE="):
        image.local_wheels(ROOT, "katabatic", tmp_path)
    with pytest.raises(ImageError, match="no lock: requirements-nope.lock"):
        image.ensure_variant(None, ROOT, "nope", tmp_path)


def test_a_build_is_cold_only_when_every_run_step_ran_and_none_came_from_the_layer_cache():
    from ganblr_bench.run import image

    cold = ["Step 1/4 : FROM base\n", "Step 2/4 : COPY a /a\n", " ---> Using cache\n", "Step 3/4 : RUN install\n",
            " ---> Running in 1f\n", "Step 4/4 : RUN useradd\n", " ---> Running in 2e\n"]  # fmt: skip
    assert image.ran_every_install(cold)  # a COPY from the cache costs nothing
    warm = cold[:4] + [" ---> Using cache\n"] + cold[5:]  # the stack's install came from the cache
    assert not image.ran_every_install(warm) and not image.ran_every_install(cold[:3])
