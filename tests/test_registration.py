"""Engineers' own datasets: registered by a file, checked before any job starts, run like a built-in one."""

import hashlib
import json
from pathlib import Path

import pytest
from jobs import make_csv, register

from ganblr_bench import cli, dataset_registration, layout, settings
from ganblr_bench.errors import BenchError, ContractError, DatasetError
from ganblr_bench.params import param_schemas, parse_params
from ganblr_bench.run.plan import plan_run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "datasets"


@pytest.fixture
def registrations(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    monkeypatch.setenv(settings.DATASETS.name, str(folder))
    monkeypatch.setenv(settings.CACHE.name, str(tmp_path / "cache"))
    return folder


def test_a_registered_csv_is_checked_typed_and_offered_beside_the_built_in_datasets(registrations):
    register(registrations)
    definition = dataset_registration.check(dataset_registration.scan().get("mytable"))
    assert definition.columns == ["height", "colour", "weight", "shape", "label"] and definition.rows == 120
    assert definition.numeric == ["height", "weight"]  # inferred: numbers with more than 10 distinct values
    assert definition.files["data"].sha256 == hashlib.sha256((registrations / "table.csv").read_bytes()).hexdigest()
    assert "mytable" in param_schemas()["datasets"][1]["items"]["enum"] and "adult" in parse_params({}).datasets
    assert parse_params({"datasets": ["mytable", "car"]}).datasets == ["mytable", "car"]
    forced = register(registrations, name="mytable", categorical=["height"])
    assert dataset_registration.check(dataset_registration.scan().get("mytable")).numeric == ["weight"], forced


def test_planning_puts_the_definition_in_every_spec_and_the_job_reads_the_cached_copy(registrations, tmp_path):
    register(registrations)
    planned = plan_run(
        {"datasets": ["mytable"], "models": ["ganblr++"], "seeds": [0], "references": False}, "r-own", tmp_path / "res"
    )
    spec = layout.load_spec(Path(planned.folder) / "ganblrpp-mytable-s0" / "spec.json")
    assert spec.dataset_definition is not None and spec.dataset_definition.target == "label"
    dataset_registration.fill_cache("mytable")
    cached = settings.CACHE.get() / spec.dataset_definition.info().folder / "table.csv"
    assert cached.read_bytes() == (registrations / "table.csv").read_bytes()
    from ganblr_bench.job import preparation

    (registrations / "table.csv").unlink()  # the job reads the cache, never the registration's own file
    prepared = preparation.prepare("mytable", seed=0, model="ganblr++", definition=spec.dataset_definition)
    assert prepared.numeric_columns == ["height", "weight"] and len(prepared.train_x) + len(prepared.test_x) == 120
    assert prepared.checksum == spec.dataset_definition.checksum  # a changed definition starts a new series
    changed = spec.dataset_definition.model_copy(update={"numeric": ["height"]})
    assert changed.checksum != spec.dataset_definition.checksum


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"sha256": "0" * 64}, "mytable.json: sha256: table.csv has sha256 "),
        ({"file": "nowhere.csv"}, "mytable.json: file: .*nowhere.csv does not exist"),
        ({"target": "lable"}, "mytable.json: target: 'lable' is not a column; columns: height, colour"),
        ({"numeric": ["height", "size"]}, r"mytable.json: numeric: \['size'\] are not feature columns"),
        ({"numeric": ["colour"]}, "mytable.json: numeric: 'colour' holds 'red', not a number"),
        ({"target": "shape", "file": "one.csv"}, "mytable.json: target: 'shape' has one class"),
        ({"file": "few.csv"}, "mytable.json: file: 30 rows; a dataset needs 50 at least"),
        ({"file": "ragged.csv"}, "mytable.json: file: ragged.csv line 3 has 4 fields, the header 5"),
        ({"sha256": "abc"}, "mytable.json: sha256: .*pattern"),
        ({"targets": "label"}, "mytable.json: targets: .*not permitted"),
        ({"file": "ftp://example.invalid/t.csv"}, "mytable.json: file: .*give a path or an http"),
        ({"test_file": "table.csv"}, "mytable.json: test_sha256: give test_file and test_sha256 together"),
    ],
)
def test_a_bad_registration_is_refused_naming_the_file_and_field_before_anything_is_written(
    registrations, tmp_path, change, words
):
    registrations.mkdir()
    sha = make_csv(registrations / "table.csv")
    (registrations / "one.csv").write_text("a,shape\n" + "".join(f"{i},round\n" for i in range(60)))
    make_csv(registrations / "few.csv", rows=30)
    (registrations / "ragged.csv").write_text("height,colour,weight,shape,label\n1,a,2,b,c\n1,a,2,b\n")
    for name in ("one.csv", "few.csv", "ragged.csv"):
        if change.get("file") == name:
            change = change | {"sha256": hashlib.sha256((registrations / name).read_bytes()).hexdigest()}
    data = {"name": "mytable", "file": "table.csv", "sha256": sha, "target": "label", "source": "made in a test"}
    data.update(change)
    (registrations / f"{data['name']}.json").write_text(json.dumps(data))
    results = tmp_path / "results"
    with pytest.raises(BenchError, match=words):
        plan_run({"datasets": [data["name"]], "seeds": [0]}, "r-bad", results)
    assert not results.exists() or list(results.iterdir()) == []  # nothing planned, nothing to clean up


def test_a_broken_registration_is_refused_naming_it_and_stops_nothing_else(registrations, capsys):
    register(registrations)
    (registrations / "again.json").write_text((registrations / "mytable.json").read_text())
    (registrations / "adult.json").write_text((registrations / "mytable.json").read_text().replace("mytable", "adult"))
    found = dataset_registration.scan()
    assert list(found.entries) == ["mytable"]
    assert "again.json: name: 'mytable' is registered in again.json: name it mytable.json" in found.problems["again"]
    assert "adult.json: name: 'adult' is a built-in dataset" in found.problems["adult"]
    with pytest.raises(ContractError, match="again.json: name: 'mytable' is registered in again.json"):
        parse_params({"datasets": ["again"]})
    # An engineer's broken file never stops the nightly, nor another engineer's good registration.
    assert parse_params({}).datasets == ["car", "adult"] and parse_params({"datasets": ["mytable"]}).datasets
    assert "mytable" in param_schemas()["datasets"][1]["items"]["enum"]
    assert cli.main(["data", "list"]) == 2  # where the engineer checks: one line, naming the file
    assert "adult.json: name: 'adult' is a built-in dataset" in capsys.readouterr().err
    (registrations / "again.json").write_text("{oops")
    assert "dataset registration again.json: not valid JSON" in dataset_registration.scan().problems["again"]
    (registrations / "again.json").unlink()
    (registrations / "again.json").symlink_to(registrations / "mytable.json")  # a planted link is not followed
    assert "again.json: is a link, not a file" in dataset_registration.scan().problems["again"]


def test_the_shipped_example_is_true_and_listed(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(settings.DATASETS.name, str(EXAMPLES))
    monkeypatch.setenv(settings.CACHE.name, str(tmp_path / "cache"))
    definition = dataset_registration.check(dataset_registration.scan().get("loans"))
    assert definition.numeric == ["age", "income_k", "amount_k"] and definition.rows == 800
    assert cli.main(["data", "list", "--format", "json"]) == 0
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert listed["loans"]["source"].startswith("registered (") and listed["loans"]["numeric"] == 3
    assert "adult" in listed and listed["adult"]["source"] == "UCI"


def test_an_unknown_dataset_says_what_is_built_in_and_what_is_registered(registrations):
    register(registrations)
    with pytest.raises(ContractError, match=r"unknown dataset 'mytabel'; built in: adult.*; registered: mytable"):
        parse_params({"datasets": ["mytabel"]})
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        dataset_registration.fill_cache("nope")


def test_a_registration_by_url_is_downloaded_once_checked_and_then_read_from_the_cache(
    registrations, tmp_path, monkeypatch
):
    """A real HTTP server on this host serves the table: the first check downloads it into the cache under its
    sha256, a second needs no server, and a file that changed on the server is refused naming the field."""
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    sha = make_csv(served / "remote.csv")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/remote.csv"
    monkeypatch.setenv(settings.OFFLINE.name, "0")  # the suite runs offline; this test's server is on this host
    try:
        register(registrations, file=url, sha256=sha)
        definition = dataset_registration.check(dataset_registration.scan().get("mytable"))
        assert definition.rows == 120 and definition.files["data"].filename == "remote.csv"
        (served / "remote.csv").write_text("height,label\n1,a\n")  # changed upstream: the cache still holds ours
        again = dataset_registration.check(dataset_registration.scan().get("mytable"))
        assert again == definition
        register(registrations, file=url.replace("remote", "gone"), sha256="1" * 64)
        with pytest.raises(DatasetError, match=r"mytable.json: file: cannot download http://127\.0\.0\.1:\d+/gone"):
            dataset_registration.check(dataset_registration.scan().get("mytable"))
    finally:
        server.shutdown()
