"""Core leases: disjoint while held, waited for when taken, given back however the holder ends."""

import subprocess
import sys
import threading
import time

import pytest

from ganblr_bench import settings
from ganblr_bench.run import cores


def test_cpu_lists_parse_and_bad_ones_are_named():
    assert cores.parse_cpu_list("0-3,6") == [0, 1, 2, 3, 6]
    assert cores.format_cpu_list([3, 1]) == "1,3"
    for bad in ("", "a", "3-1", "-1"):
        with pytest.raises(cores.CoresError):
            cores.parse_cpu_list(bad)
    assert cores.usable_cores(8, {settings.CORES.name: "2-3"}) == [2, 3]
    assert cores.usable_cores(4, {}) == [0, 1, 2, 3]
    with pytest.raises(cores.CoresError, match="names core 5 but the host has 4"):
        cores.usable_cores(4, {settings.CORES.name: "2-5"})


def test_two_leases_get_disjoint_cores_and_see_each_other(tmp_path):
    a = cores.lease("a", 1, [0, 1], tmp_path, watch_s=0.05)
    b = cores.lease("b", 1, [0, 1], tmp_path, watch_s=0.05)
    time.sleep(0.3)
    assert sorted(a.cores + b.cores) == [0, 1]
    assert a.peers == 1 and b.peers == 1
    a.close(), b.close()
    alone = cores.lease("c", 2, [0, 1], tmp_path, watch_s=0.05)
    time.sleep(0.2)
    assert alone.cores == [0, 1] and alone.peers == 0
    alone.close()


def test_a_job_waits_while_its_cores_are_taken(tmp_path):
    first = cores.lease("first", 2, [0, 1], tmp_path)
    got = {}
    waiter = threading.Thread(
        target=lambda: got.setdefault("lease", cores.lease("second", 1, [0, 1], tmp_path, poll_s=0.05))
    )
    waiter.start()
    time.sleep(0.5)
    assert "lease" not in got  # both cores held: it waits
    first.close()
    waiter.join(5)
    assert got["lease"].cores == [0] and got["lease"].waited_s >= 0.4
    got["lease"].close()
    with pytest.raises(cores.CoresError, match="asks for 3 cores but the host has 2 usable"):
        cores.lease("big", 3, [0, 1], tmp_path)


def test_concurrent_starts_never_share_a_core(tmp_path):
    held, start = [], threading.Barrier(6)

    def take(i):
        start.wait()
        held.append(cores.lease(f"job{i}", 1, list(range(6)), tmp_path))

    threads = [threading.Thread(target=take, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert sorted(c for lease in held for c in lease.cores) == list(range(6))
    [lease.close() for lease in held]


def test_a_holder_killed_gives_its_core_back(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from ganblr_bench.run import cores; import pathlib, time; "
            f"l = cores.lease('doomed', 2, [0, 1], pathlib.Path({str(tmp_path)!r})); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    assert set(cores.holders(tmp_path)) == {0, 1}
    with pytest.raises(cores.CoresError, match="no 1 free core"):
        cores.lease("blocked", 1, [0, 1], tmp_path, poll_s=0.05, timeout_s=0.3)
    holder.kill()
    holder.wait()
    after = cores.lease("next", 2, [0, 1], tmp_path, timeout_s=2)
    assert after.cores == [0, 1]
    after.close()
