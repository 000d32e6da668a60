import json

import pytest

from ganblr_bench.contract import JobSpec, parse_result, parse_spec
from ganblr_bench.errors import ContractError
from ganblr_bench.layout import load_result, load_spec
from ganblr_bench.params import RunParams


def test_defaults_and_job_name():
    spec = parse_spec({"model": "ganblr++", "dataset": "adult", "seed": 7})
    assert spec.params.epochs == 10 and spec.params.k == 0
    assert spec.classifiers == ["lr", "mlp", "rf", "xgb"]
    assert spec.name == "ganblrpp-adult-s7"


@pytest.mark.parametrize(
    "patch, field, words",
    [
        ({"model": "ctgan"}, "model", "ganblr"),
        ({"params": {"epochs": 0}}, "params.epochs", "greater than or equal to 1"),
        ({"dataset": "adulty"}, "dataset", "unknown dataset 'adulty'"),
        ({"classifiers": ["lr", "svm"]}, "classifiers.1", "'lr'"),
        ({"classifiers": ["lr", "lr"]}, "classifiers", "twice"),
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"params": {"numeric_columns": ["age"]}}, "", "ganblr++ only"),
        ({"row_limit": 5}, "row_limit", "20"),
        ({"colour": "red"}, "colour", "Extra inputs"),
        ({"job_id": "../etc"}, "job_id", "letters, digits"),
        ({"seed": "7"}, "seed", "valid integer"),  # no coercion: "7" is not 7
        ({"params": {"epochs": True}}, "params.epochs", "valid integer"),  # nor is true 1
        ({"timeout_s": float("inf")}, "timeout_s", "not a finite number"),
        ({"timeout_s": 90_000}, "timeout_s", "less than or equal to 86400"),
        ({"dataset": "car\x00"}, "dataset", "NUL character"),
    ],
)
def test_bad_specs_name_the_field(patch, field, words):
    data = {"model": "ganblr", "dataset": "car"} | patch
    with pytest.raises(ContractError) as err:
        parse_spec(data, "spec.json")
    message = str(err.value)
    assert message.startswith("spec.json: ") and field in message and words in message


def test_unknown_spec_version_is_refused_and_older_ones_are_read():
    with pytest.raises(ContractError, match=r"spec_version 5 is not supported \(this ganblr-bench reads 1, 2, 3, 4\)"):
        parse_spec({"spec_version": 5, "model": "ganblr", "dataset": "car"})
    assert parse_spec({"spec_version": 1, "model": "ganblr", "dataset": "car"}).cores == 1


def test_files_that_are_missing_or_not_json(tmp_path):
    with pytest.raises(ContractError, match="no such file"):
        load_spec(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ContractError, match="bad.json: not valid JSON"):
        load_result(bad)
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"model": "ganblr", "dataset": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(ContractError, match="latin.json: not UTF-8 text"):
        load_spec(latin)
    with pytest.raises(ContractError, match="is a folder, not a file"):
        load_spec(tmp_path)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(ContractError, match="expected a JSON object, got list"):
        load_spec(listed)


@pytest.mark.parametrize(
    "field, value, words",
    [
        (
            "resources",
            {"peak_memory_bytes": -1},
            "resources.peak_memory_bytes: Input should be greater than or equal to 0",
        ),
        ("timings", {"fit_s": -0.5, "sample_s": 0.5, "execution_s": 0.0}, "timings.fit_s"),
        ("error", "boom\x00", "error: text holds a NUL character"),
    ],
)
def test_a_result_the_database_could_not_store_is_refused_at_the_door(field, value, words):
    data = _result(**{field: value}) if field != "error" else _result(status="failed", error=value, scores=[])
    with pytest.raises(ContractError, match=words.replace("(", r"\(")):
        parse_result(data)


def _result(**changes):
    base = {
        "job": "j",
        "spec": {"model": "ganblr", "dataset": "car"},
        "status": "ok",
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:01:00Z",
        "timings": {"fit_s": 1.0, "sample_s": 0.5, "execution_s": 1.5},
        "scores": [{"classifier": "lr", "tstr_accuracy": 0.7, "trtr_accuracy": 0.9}],
        "dataset": {
            "name": "car",
            "checksum": "x",
            "files": {"car.data": "x"},
            "train_rows": 10,
            "test_rows": 5,
            "features": 6,
            "numeric_columns": [],
        },
    }
    return base | changes


def test_result_round_trip_and_completeness_rules():
    result = parse_result(_result())
    assert parse_result(json.loads(result.model_dump_json())) == result
    with pytest.raises(ContractError, match="figures are missing: fit_s"):
        parse_result(_result(timings={"sample_s": 1.0, "execution_s": 1.0}))
    with pytest.raises(ContractError, match="needs an error text"):
        parse_result(_result(status="failed"))
    with pytest.raises(ContractError, match="scores.0.tstr_accuracy"):
        parse_result(_result(scores=[{"classifier": "lr", "tstr_accuracy": 1.5}]))
    assert parse_result(_result(status="timeout", error="too slow", scores=[])).status == "timeout"


def test_job_spec_schema_is_documented():
    schema = JobSpec.model_json_schema()
    # a file names any well-formed generator (it outlives the package that made it); a run asks for known ones
    assert "enum" not in schema["properties"]["model"] and schema["properties"]["model"]["pattern"]
    asked = RunParams.model_json_schema()["properties"]["models"]["items"]["enum"]
    assert asked[:4] == ["ganblr", "ganblr++", "independent", "naive-bayes"] and "katabatic-ganblr" in asked
