"""The stored series key: the fields that change a measurement, and only those; a new series says why."""

from __future__ import annotations

import json

import psycopg
from jobs import history_runs
from pydantic import Field

from ganblr_bench.analysis import compare, report
from ganblr_bench.contract import JobSpec, parse_spec
from ganblr_bench.present import report as rendered
from ganblr_bench.warehouse import series, store


def key_of(spec: JobSpec, checksum: str = "c" * 64) -> str:
    return series.key(series.fields(spec, checksum, "docker", 2, None))


def test_what_names_or_formats_a_job_does_not_start_a_series_and_what_changes_it_does():
    base = {"model": "ganblr", "dataset": "adult", "params": {"epochs": 10}, "memory_limit": "6g"}
    spec = parse_spec(base | {"seed": 0})
    same = [
        parse_spec(base | {"seed": 7}),  # a series spans the seeds
        parse_spec(base | {"job_id": "renamed", "run": "another-run", "timeout_s": 60}),  # names and limits
        parse_spec({k: v for k, v in base.items() if k != "memory_limit"} | {"spec_version": 2}),  # an older format
    ]
    assert {key_of(s) for s in same[:2]} == {key_of(spec)}
    older = same[2]  # a version-2 spec has no memory limit: its run's parameters give it (6g), as at back-fill
    assert series.key(series.fields(older, "c" * 64, "docker", 2, "6g")) == key_of(spec)

    class NextRelease(JobSpec):  # a field a later release adds, with a default
        new_knob: int = Field(3)

    assert key_of(NextRelease.model_validate(spec.model_dump())) == key_of(spec)
    for change in (
        {"params": {"epochs": 1}},
        {"dataset": "car"},
        {"cores": 2},
        {"stack": "latest"},
        {"row_limit": 500},
    ):
        assert key_of(parse_spec(base | change)) != key_of(spec), change
    assert key_of(spec, "d" * 64) != key_of(spec)  # new data files
    before, after = (
        series.fields(spec, "c", "docker", 2, None),
        series.fields(parse_spec(base | {"params": {"epochs": 1}}), "c", "docker", 2, None),
    )
    assert series.changed(before, after) == [("epochs", 10, 1)]


def test_a_run_that_starts_a_series_says_which_field_changed(warehouse, run_folder, tmp_path):
    """Seeded (the test says so): an earlier copy of the real run with GANBLR at 2 epochs, then the real run at 1."""
    (earlier,) = history_runs(run_folder, tmp_path, 1, scale=1.0)
    for path in earlier.glob("ganblr-iris-*/result.json"):
        data = json.loads(path.read_text())
        data["spec"]["params"]["epochs"] = 2
        path.write_text(json.dumps(data))
    store.record_paths([earlier, run_folder], warehouse, tmp_path / "spool")
    with psycopg.connect(warehouse) as conn:
        built = report.build(conn, "run-1")
        found = compare.compare(conn, "hist-0", "run-1")
    starts = {(s.model, s.dataset): s for s in built.starts}
    assert starts[("ganblr", "iris")].changes == [("epochs", 2, 1)] and ("ganblr++", "iris") not in starts
    assert built.depth[("iris", "ganblr")].earlier == 0 and built.depth[("iris", "ganblr++")].earlier == 1
    body = rendered.html_body(built)
    assert (
        "series started: ganblr on iris: epochs 2 -&gt; 1 (since run hist-0; the history before it is not judged)"
        in body
    )
    moved = [c for c in found.changed if c.kind == "series"]
    assert [(c.name, c.note) for c in moved] == [("ganblr on iris", "epochs 2 -> 1")]
