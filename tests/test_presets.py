"""Run presets: named run parameters, applied under the parameters a trigger gives."""

import json

import pytest

from ganblr_bench import cli
from ganblr_bench.errors import ContractError
from ganblr_bench.params import DEFAULT_PRESET, RunParams, load_presets, parse_params, presets
from ganblr_bench.run.plan import plan_run


def test_the_shipped_presets_are_valid_run_parameters_and_say_what_they_run():
    shipped = presets()
    assert {"nightly", "smoke", "paper-adult", "katabatic-car"} <= set(shipped) and DEFAULT_PRESET == "nightly"
    for name, preset in shipped.items():
        assert parse_params({"preset": name}).preset == name and len(preset.description) > 40, name
    assert parse_params({}) == RunParams()  # nightly is the run parameters' own defaults: the schedule runs them
    car = parse_params({"preset": "katabatic-car"})
    assert (car.models, car.datasets, car.k, car.epochs, car.batch_size) == (
        ["ganblr", "katabatic-ganblr"],
        ["car"],
        2,
        100,
        512,
    )
    adult = parse_params({"preset": "paper-adult"})
    assert adult.datasets == ["adult"] and adult.row_limit is None and adult.epochs == 10


def test_a_given_parameter_changes_the_preset_where_it_differs_from_its_default():
    smoke = parse_params({"preset": "smoke"})
    assert (smoke.datasets, smoke.seeds, smoke.epochs, smoke.row_limit) == (["car"], [0], 1, 500)
    changed = parse_params({"preset": "smoke", "seeds": [4, 5], "datasets": ["iris"], "k": 1})
    assert (changed.datasets, changed.seeds, changed.epochs, changed.k) == (["iris"], [4, 5], 1, 1)
    # The form sends every parameter: one left at its default does not undo the preset.
    form = RunParams().model_dump(mode="json") | {"preset": "smoke", "row_limit": 300}
    assert (parse_params(form).seeds, parse_params(form).row_limit) == ([0], 300)
    # What a run stores reads back as itself (the stored parameters are planned again by the backfill).
    assert parse_params(changed.model_dump(mode="json")) == changed


def test_a_run_planned_from_a_preset_records_it_and_its_jobs_carry_its_settings(tmp_path):
    planned = plan_run({"preset": "katabatic-car", "seeds": [7]}, "manual__preset", tmp_path, kind="manual")
    run = json.loads((tmp_path / planned.key / "run.json").read_text())
    assert run["params"]["preset"] == "katabatic-car" and run["params"]["epochs"] == 100
    assert sorted(j.name for j in planned.jobs) == [
        "ganblr-car-s7",
        "independent-car-s7",
        "katabatic-ganblr-car-s7",
        "naive-bayes-car-s7",
    ]
    spec = json.loads((tmp_path / planned.key / "ganblr-car-s7" / "spec.json").read_text())
    assert (spec["params"]["k"], spec["params"]["batch_size"], spec["params"]["epochs"]) == (2, 512, 100)
    nightly = plan_run({}, "scheduled__nightly", tmp_path, kind="scheduled")
    assert json.loads((tmp_path / nightly.key / "run.json").read_text())["params"]["preset"] == "nightly"


def test_an_unknown_preset_is_refused_naming_it_before_anything_is_written(tmp_path):
    with pytest.raises(ContractError, match=r"run parameters: preset: unknown preset 'nightlyy'; known: .*smoke"):
        plan_run({"preset": "nightlyy"}, "r1", tmp_path)
    with pytest.raises(ContractError, match=r"preset: unknown preset 7"):
        parse_params({"preset": 7})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"description": "x", "params": {"epochs": 0}}', "preset bad.json: params: epochs"),
        ('{"description": "x", "params": {"epoch": 3}}', "preset bad.json: params: epoch"),
        ('{"description": "x", "params": {"preset": "smoke"}}', "cannot name another preset"),
        ('{"params": {}}', "preset bad.json: description"),
        ("{not json", "preset bad.json: not valid JSON"),
    ],
)
def test_a_preset_file_that_is_wrong_names_the_file_and_the_field(tmp_path, text, words):
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(ContractError, match=words):
        load_presets(tmp_path)


def test_presets_are_listed_for_people_and_machines(capsys):
    assert cli.main(["presets", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listed] == list(presets())
    assert next(p for p in listed if p["name"] == "smoke")["params"]["seeds"] == [0]
