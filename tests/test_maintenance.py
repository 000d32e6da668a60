"""The maintenance DAG's task bodies without Airflow: prune, back up (keeping the newest), check health."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganblr_bench import settings
from ganblr_bench.run import maintenance
from ganblr_bench.warehouse import store


def test_maintenance_prunes_backs_up_keeping_the_newest_and_fails_health_on_a_missed_night(
    warehouse, run_folder, tmp_path, monkeypatch
):
    store.record_paths([run_folder], warehouse, tmp_path / "spool")
    results = tmp_path / "results"
    (results / ".trtr-cache").mkdir(parents=True)
    monkeypatch.setenv("GANBLR_BENCH_BACKUPS", str(tmp_path / "backups"))
    monkeypatch.setenv("GANBLR_BENCH_KEEP_BACKUPS", "2")
    conf = settings.load(
        Path.cwd(),
        env={
            "GANBLR_BENCH_BACKEND": "process",
            "GANBLR_BENCH_RESULTS": str(results),
            "GANBLR_BENCH_REPORTS": str(tmp_path / "reports"),
        },
    )
    said: list[str] = []
    assert maintenance.prune(conf, warehouse, None, said.append) == {"deleted": 0, "freed_bytes": 0, "kept": 0}
    made = [maintenance.backup(warehouse, said.append) for _ in range(3)]
    assert all(made) and sorted(p.name for p in (tmp_path / "backups").iterdir()) == sorted(
        Path(m).name for m in made[1:]
    )
    with pytest.raises(maintenance.Unhealthy, match="no successful nightly run recorded"):
        maintenance.health(warehouse, said.append)
    monkeypatch.delenv("GANBLR_BENCH_BACKUPS")
    assert maintenance.backup(warehouse, said.append) is None and said[-1].startswith("no backup:")
