"""The queue's policy against its lower bound: recorded job durations replayed through the scheduler's rules.

The scheduler starts waiting job tasks by ``priority_weight`` (then map index), each when its pool slots (its
cores) are free, skipping one that does not fit for the next that does, as Airflow's does. The policy under
test is the plan's: the longest *expected* job first (``run/queue.py``: expected from the series' history).
Its makespan is set against the lower bound max(longest job, core-seconds / cores), and beside it the orders
one would get without it: the matrix order (every job the same priority: the scheduler's map-index order) and
a random order (the median of 200).

Durations are real: the result.json files of two recorded runs of the same matrix (``--history`` and
``--actual``, run folders). The first gives the expectations (as the warehouse would), the second the durations
replayed (startup + wall of each job). Matrices:

- *nightly*: the recorded matrix itself;
- *100 jobs*: the recorded jobs repeated over seeds to 100 (each copy's duration varied by the spread the two
  runs show between seeds of a job), on the same cores;

and, from the ``--actual`` run's own task times (when ``--airflow-timeline`` is given, the JSON the quick start
writes), the real run's makespan against its lower bound.

    .venv/bin/python benchmarks/bench_queue.py --history RUN_FOLDER --actual RUN_FOLDER [--cores 2]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from ganblr_bench import layout
from ganblr_bench.contract import PlannedJob
from ganblr_bench.run import queue


@dataclass(frozen=True)
class Job:
    name: str
    model: str
    cores: int
    seconds: float  # what it takes, replayed
    expected: float  # what the plan expected


def recorded(folder: Path) -> dict[str, tuple[str, int, float]]:
    """Job name -> (model, cores, startup + wall seconds) of a run folder's ok results."""
    found = {}
    for path in sorted(folder.glob("*/result.json")):
        r = layout.load_result(path)
        if r.status == "ok" and r.timings.wall_s:
            found[r.job] = (r.spec.model, r.spec.cores, (r.timings.startup_s or 0) + r.timings.wall_s)
    return found


def simulate(jobs: list[Job], order: list[Job], cores: int) -> float:
    """The makespan of list scheduling in ``order`` with ``cores`` pool slots, as Airflow's scheduler admits."""
    waiting = list(order)
    running: list[tuple[float, int]] = []  # (ends at, slots)
    now, free = 0.0, cores
    while waiting or running:
        for job in list(waiting):  # by priority; a job that does not fit is skipped, the next may
            if job.cores <= free:
                waiting.remove(job)
                running.append((now + job.seconds, job.cores))
                free -= job.cores
        running.sort()
        ends, slots = running.pop(0)
        now, free = ends, free + slots
    return now


def lower_bound(jobs: list[Job], cores: int) -> float:
    return max(max(j.seconds for j in jobs), sum(j.seconds * j.cores for j in jobs) / cores)


def policy_order(jobs: list[Job]) -> list[Job]:
    """The plan's order: queue.longest_first on the expected seconds, as the priorities give it."""
    planned = queue.longest_first(
        [
            PlannedJob(
                name=j.name, model=j.model, stack="locked", cores=j.cores, memory_limit="6g", expected_s=j.expected
            )
            for j in jobs
        ]
    )
    by_name = {j.name: j for j in jobs}
    return [by_name[p.name] for p in planned]


def matrix_order(jobs: list[Job]) -> list[Job]:
    """Equal priorities: the scheduler takes map index 0 of every branch, then 1, ... (branches in model order)."""
    branches: dict[str, list[Job]] = {}
    for j in jobs:
        branches.setdefault(j.model, []).append(j)
    depth = max(len(b) for b in branches.values())
    return [b[i] for i in range(depth) for b in branches.values() if i < len(b)]


def report(name: str, jobs: list[Job], cores: int, rng: random.Random) -> None:
    bound = lower_bound(jobs, cores)
    ours = simulate(jobs, policy_order(jobs), cores)
    matrix = simulate(jobs, matrix_order(jobs), cores)
    shuffled = []
    for _ in range(200):
        order = list(jobs)
        rng.shuffle(order)
        shuffled.append(simulate(jobs, order, cores))
    print(
        f"{name:10} {len(jobs):4} jobs  lower bound {bound:8.0f} s   longest expected first {ours:8.0f} s "
        f"({ours / bound:.3f}x)   matrix order {matrix / bound:.3f}x   random order median "
        f"{statistics.median(shuffled) / bound:.3f}x (max {max(shuffled) / bound:.3f}x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=Path, required=True, help="a run folder: the expectations")
    parser.add_argument("--actual", type=Path, required=True, help="a run folder of the same matrix: the durations")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--airflow-timeline", type=Path, help="the actual run's task times (quickstart's JSON)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    before, after = recorded(args.history), recorded(args.actual)
    common = sorted(before.keys() & after.keys())
    if not common:
        sys.exit("bench_queue: the two runs share no ok job")
    nightly = [Job(n, after[n][0], after[n][1], after[n][2], before[n][2]) for n in common]
    # The spread between repeats of a job: the two runs' ratio, per job.
    spread = statistics.pstdev([after[n][2] / before[n][2] for n in common]) or 0.02
    big = []
    for i in range(100):
        j = nightly[i % len(nightly)]
        factor = max(0.5, rng.gauss(1.0, spread))
        big.append(Job(f"{j.name}-x{i}", j.model, j.cores, j.seconds * factor, j.expected))
    print(f"durations: {args.actual} (expected from {args.history}); {args.cores} cores; spread {spread:.1%}")
    report("nightly", nightly, args.cores, rng)
    report("100 jobs", big, args.cores, rng)
    if args.airflow_timeline:
        tasks = json.loads(args.airflow_timeline.read_text())["jobs"]
        spans = [(t["start_s"], t["end_s"]) for t in tasks]
        real = [Job(t["job"], t["job"].split("-")[0], 1, t["end_s"] - t["start_s"], 0) for t in tasks]
        makespan = max(e for _, e in spans) - min(s for s, _ in spans)
        bound = lower_bound(real, args.cores)
        print(
            f"{'real run':10} {len(real):4} jobs  lower bound {bound:8.0f} s   the run's makespan {makespan:8.0f} s "
            f"({makespan / bound:.3f}x; task times, from the scheduler's start of each job task to its end)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
