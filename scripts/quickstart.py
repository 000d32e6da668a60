"""The quick start's run: a real Airflow (api-server, scheduler, dag-processor; LocalExecutor, as many tasks at once
as the machine has usable cores) on the embedded PostgreSQL, for the length of one run of the real DAG: triggered,
followed (each job as it starts and ends, its phases and heartbeats), then stopped. Run by scripts/quickstart.sh
with the Airflow venv's python, which has set the environment; prints a timeline of the jobs at the end, so the
branches running side by side can be seen.

    .venv-airflow/bin/python scripts/quickstart.py CONF_JSON [--sequential]

--sequential runs the same DAG with ``airflow dags test`` (one task after another), for comparison
(benchmarks/bench_quickstart.py times both).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

from airflow_local import DAG_ID, POOL, LocalAirflow, usable_cores

HOME = Path(os.environ["GANBLR_BENCH_HOME"])
SHOWN = re.compile(r"\d\d:\d\d:\d\d (\S+): ((?:fit|sample|evaluate|load) (?:started|done after .*)|heartbeat: .*)")


def say(text: str) -> None:
    print(f"quickstart: {text}", flush=True)


def follow(airflow: LocalAirflow, run_id: str) -> dict:
    """Print each job task as it starts and ends (and its phases and heartbeats from its log) until the run ends."""
    seen: dict[str, str] = {}
    offsets: dict[Path, int] = {}
    logs = airflow.home / "logs"
    names: dict[str, list[str]] = {}  # a branch's job names in map-index order: its "jobs" task's list of folders
    order: list[str] = []  # jobs in the order they started: "job i of n"
    while True:
        run = airflow.run(run_id) or {}
        tis = airflow.task_instances(run_id)
        for t in tis:
            group = t["task_id"].removesuffix(".jobs")
            if t["task_id"].endswith(".jobs") and t.get("state") == "success" and group not in names:
                names[group] = [Path(folder).name for folder in airflow.xcom(run_id, t["task_id"]) or []]
        total = sum(len(v) for v in names.values())
        jobs = [t for t in tis if t["task_id"].endswith(".run") and t.get("map_index", -1) >= 0]
        for t in jobs:
            listed = names.get(t["task_id"].removesuffix(".run"), [])
            t["job"] = listed[t["map_index"]] if t["map_index"] < len(listed) else t.get("rendered_map_index")
        for t in sorted(tis, key=lambda t: (t.get("start_date") or "", t["task_id"])):
            key = f"{t['task_id']}#{t.get('map_index', -1)}"
            state = t.get("state") or "none"
            if seen.get(key) == state:
                continue
            seen[key] = state
            if "job" in t:
                if key not in order and state in ("running", "success", "failed"):
                    order.append(key)
                index = f"job {order.index(key) + 1} of {total}" if key in order else "job"
                if state == "running":
                    say(f"{index}: {t['job']} started")
                elif state in ("success", "failed"):
                    say(f"{index}: {t['job']} {'done' if state == 'success' else 'FAILED'}")
            elif state in ("success", "failed", "upstream_failed"):
                say(f"step {t['task_id']}: {state}")
        for path in logs.rglob("*.log") if logs.is_dir() else []:
            if f"run_id={run_id}" not in str(path):
                continue
            size = path.stat().st_size
            if size > offsets.get(path, 0):
                with open(path, errors="replace") as fh:
                    fh.seek(offsets.get(path, 0))
                    chunk = fh.read()
                offsets[path] = size
                for line in chunk.splitlines():
                    found = SHOWN.search(_event(line))
                    if found:
                        say(f"    {found.group(1)}: {found.group(2)}")
        if run.get("state") in ("success", "failed"):
            return {"run": run, "jobs": jobs}
        time.sleep(2)


def _event(line: str) -> str:
    """What a task log line says: Airflow 3 writes JSON lines whose event is the job's own output."""
    try:
        return str(json.loads(line).get("event", ""))
    except (ValueError, AttributeError):
        return line


def timeline(jobs: list[dict]) -> list[dict]:
    """When each job ran, on one time axis: the branches side by side. Returns the spans (seconds from the first
    job task's start), which quickstart-run.json keeps."""
    spans = []
    for t in jobs:
        if t.get("start_date") and t.get("end_date"):
            spans.append(
                (
                    t.get("job") or t["task_id"],
                    datetime.fromisoformat(t["start_date"]),
                    datetime.fromisoformat(t["end_date"]),
                )
            )
    if not spans:
        return []
    first, last = min(s for _, s, _ in spans), max(e for _, _, e in spans)
    width, total = 50, max((last - first).total_seconds(), 1.0)
    print(f"quickstart: the jobs on one time axis ({total:.0f} s from the first job's start; # running):")
    for name, start, end in sorted(spans, key=lambda s: s[1]):
        a = int(width * (start - first).total_seconds() / total)
        b = max(a + 1, int(width * (end - first).total_seconds() / total))
        print(
            f"  {name:32} {(start - first).total_seconds():5.0f} s |{' ' * a}{'#' * (b - a)}{' ' * (width - b)}| "
            f"{(end - first).total_seconds():4.0f} s"
        )
    busy = sum((e - s).total_seconds() for _, s, e in spans)
    print(f"quickstart: {busy:.0f} s of job time in {total:.0f} s: {busy / total:.1f} jobs at once on average")
    return [
        {"job": name, "start_s": (start - first).total_seconds(), "end_s": (end - first).total_seconds()}
        for name, start, end in spans
    ]


def _seconds(start: str | None, end: str | None) -> float:
    """Seconds between two of Airflow's ISO timestamps (0 when one is missing)."""
    if not start or not end:
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _logged_run_seconds(log: str) -> float:
    """The DAG run's length in ``airflow dags test``'s log: from "Created dag run." to the run marked done, the
    same span Airflow records as a scheduled run's start and end."""
    stamps = [
        line.split(" ", 1)[0]
        for line in log.splitlines()
        if "Created dag run." in line or ("Marking run <DagRun ganblr_benchmark" in line)
    ]
    return _seconds(stamps[0], stamps[-1]) if len(stamps) >= 2 else 0.0


def main() -> int:
    conf = json.loads(sys.argv[1])
    cores = usable_cores()
    # As many tasks at once as cores (the job tasks wait in the pool for theirs), and one more for the other steps.
    airflow = LocalAirflow(
        Path(os.environ["AIRFLOW_HOME"]), Path(sys.executable).parent.parent, {}, parallelism=cores + 1
    )
    if "--sequential" in sys.argv:  # airflow dags test: one task after another, in this process
        airflow.airflow("db", "migrate", timeout=600)
        done = airflow.airflow("dags", "test", DAG_ID, "-c", json.dumps(conf), timeout=7200)
        log = done.stdout + done.stderr
        (HOME / "quickstart.log").write_text(log)
        ok = "DagRun Finished: " in log and "state=success" in log
        run_s = _logged_run_seconds(log)
        say(
            "the sequential run "
            + (f"succeeded: the DAG run took {run_s:.0f} s" if ok else f"failed; see {HOME / 'quickstart.log'}")
        )
        (HOME / "quickstart-run.json").write_text(json.dumps({"state": "success" if ok else "failed", "run_s": run_s}))
        return 0 if ok else 1
    say(
        f"starting Airflow (api-server on {airflow.base}, scheduler, dag-processor; LocalExecutor; "
        f"the jobs wait in pool {POOL} of {cores} cores)"
    )
    try:
        airflow.start(pool_slots=cores)
        status, run = airflow.trigger(conf)
        if status != 200:
            say(f"the trigger was refused ({status}): {run}")
            return 2
        say(f"triggered run {run['dag_run_id']}")
        started = time.monotonic()
        found = follow(airflow, run["dag_run_id"])
        verdict = "succeeded" if found["run"]["state"] == "success" else "FAILED (its report says why)"
        run_s = _seconds(found["run"].get("start_date"), found["run"].get("end_date"))
        say(f"the run {verdict} after {time.monotonic() - started:.0f} s (the DAG run took {run_s:.0f} s)")
        spans = timeline(found["jobs"])
        (HOME / "quickstart-run.json").write_text(
            json.dumps(
                {"run_id": run["dag_run_id"], "state": found["run"]["state"], "run_s": run_s, "jobs": spans}, indent=1
            )
        )
        return 0 if found["run"]["state"] == "success" else 1
    finally:
        airflow.stop()


if __name__ == "__main__":
    sys.exit(main())
