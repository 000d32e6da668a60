"""The shared image, built by the real Docker engine, running both models in containers."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from jobs import SMALL, assert_complete, read, run_cli, write_spec

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("mirror")]


def docker(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def image() -> str:
    tag = os.environ.get("GANBLR_BENCH_IMAGE_TAG", "ganblr-bench:test")
    if docker("version").returncode != 0:
        pytest.fail("no Docker engine answers: run scripts/test.sh (or scripts/docker-engine.sh start)")
    if docker("image", "inspect", tag).returncode != 0:
        pytest.fail(f"image {tag} is not built: run scripts/test.sh (or scripts/build-image.sh {tag})")
    return tag


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The host fills the dataset cache; containers mount it read-only (they have no network)."""
    from ganblr_bench import dataset_files

    folder = tmp_path_factory.mktemp("container-cache")
    folder.chmod(0o755)  # readable by the image's unprivileged user
    dataset_files.fetch("adult", cache=folder)
    return folder


def run_container(image, cache, folder, *extra: str) -> subprocess.CompletedProcess:
    out = folder / "out"
    out.mkdir(parents=True)
    out.chmod(0o777)  # the image runs as an unprivileged user
    return docker(
        "run",
        "--rm",
        "--network",
        "none",
        *extra,
        "-v",
        f"{cache}:/data/cache:ro",
        "-v",
        f"{folder / 'spec.json'}:/job/spec.json:ro",
        "-v",
        f"{out}:/results",
        "-e",
        f"GANBLR_BENCH_IMAGE={image}",
        image,
        "run",
        "--spec",
        "/job/spec.json",
        "--out",
        "/results",
    )


def test_image_is_labelled_and_runs_unprivileged(image):
    info = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert info["User"] == "bench"
    assert info["Entrypoint"] == ["ganblr-bench"]
    assert info["Labels"]["io.ganblr-bench.ganblr.version"] == "0.1.3"
    version = docker("run", "--rm", "--network", "none", image, "--version")
    assert version.returncode == 0 and version.stdout.startswith("ganblr-bench ")


@pytest.mark.parametrize("model", ["ganblr", "ganblr++", "independent", "naive-bayes"])
def test_every_model_runs_in_containers_with_no_network(image, cache, tmp_path, model):
    write_spec(tmp_path, model=model, dataset="adult", seed=1, **SMALL)
    proc = run_container(image, cache, tmp_path, "--memory", "3g", *HARDENED)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = read(tmp_path / "out")
    assert_complete(result)
    # The model's figure is its process's, per phase (the mark can be reset even hardened); the job's, the cgroup's.
    assert result.resources.memory_source == "process-peak-rss"
    assert result.resources.job_memory_source in ("cgroup-v1", "cgroup-v2")
    assert result.environment.in_container and result.environment.image == image
    assert (tmp_path / "out" / "synthetic.csv").stat().st_size > 0


HARDENED = ("--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only", "--tmpfs", "/tmp")

# Known parts, in the hardened container: fit allocates 200 MiB through TensorFlow's native allocator,
# evaluation 500 MiB through NumPy; both are freed before the next phase.
PHASE_PROBE = """
import json, numpy as np, tensorflow as tf
from ganblr_bench.job import usage
phases = usage.Phases(usage.process_start_time())
phases.startup_done()
with phases("fit"):
    t = tf.fill((200 * 2**20 // 4,), 1.0)  # one tensor, written by TensorFlow's kernel: resident
    float(tf.reduce_sum(t[:10]))
    del t
with phases("sample"):
    pass
with phases("evaluate"):
    a = np.ones(500 * 2**20 // 8)
    del a
u, _ = usage.usage(usage.process_start_time(), phases)
print(json.dumps(u.model_dump()))
"""


def test_phase_peaks_in_a_container_count_native_memory_and_keep_evaluation_out_of_the_model(image, tmp_path):
    proc = docker(
        "run",
        "--rm",
        "--network",
        "none",
        "--memory",
        "3g",
        *HARDENED,
        "--entrypoint",
        "python",
        image,
        "-c",
        PHASE_PROBE,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    u = json.loads(proc.stdout.strip().splitlines()[-1])
    phases = {k: v["peak_memory_bytes"] for k, v in u["phases"].items()}
    assert u["memory_source"] == "process-peak-rss"
    # TensorFlow's native allocation is counted (and its allocator keeps the pages: sample starts from there)
    assert 190 * 2**20 <= phases["fit"] - phases["startup"] <= 260 * 2**20, phases
    assert 490 * 2**20 <= phases["evaluate"] - phases["sample"] <= 530 * 2**20, phases
    assert u["peak_memory_bytes"] == max(phases["fit"], phases["sample"]) < phases["evaluate"]  # not evaluation
    # The cgroup's mark is not an upper bound of the resident set: pages of shared libraries first read by
    # another cgroup (TensorFlow's, say) are resident here but charged there.
    assert u["job_memory_source"] in ("cgroup-v1", "cgroup-v2") and u["job_peak_memory_bytes"] > 0
    print(f"\nphase peaks in the container (MiB): { {k: round(v / 2**20) for k, v in phases.items()} }")


def test_the_container_cannot_download_a_missing_dataset(image, cache, tmp_path):
    write_spec(tmp_path, model="ganblr", dataset="magic", **SMALL)  # magic is not in the mounted cache
    proc = run_container(image, cache, tmp_path)
    result = read(tmp_path / "out")
    assert proc.returncode == 1 and result.status == "failed"
    assert "dataset magic: magic04.data is not in the cache" in result.error


def test_the_image_is_lean():
    """The runtime image keeps what a job uses (docs/models.md): at most 1.6 GB, no pip, no C++ headers."""
    tag = os.environ.get("GANBLR_BENCH_IMAGE_TAG", "ganblr-bench:test")
    size = int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)
    assert size <= 1.6e9, f"{tag} is {size / 1e9:.2f} GB"
    listing = docker(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        tag,
        "-c",
        "ls /opt/ganblr-bench/lib/python3.11/site-packages /opt/ganblr-bench/lib/python3.11/site-packages/tensorflow",
    ).stdout.split()
    assert "pip" not in listing and "include" not in listing and "clang" not in listing


def test_the_lean_image_samples_exactly_what_the_unstripped_stack_samples(image, cache, tmp_path):
    """Same lock, same seed: the container (stripped libraries) and the venv (as installed) write the same CSV.

    The same environment too: OpenBLAS's kernel choice (OPENBLAS_CORETYPE, set on some hosts) changes the
    last bits of GANBLR++'s sample, so the container gets the host's OPENBLAS_* settings."""
    spec = {
        "model": "ganblr++",
        "dataset": "adult",
        "seed": 5,
        "row_limit": 800,
        "params": {"epochs": 2},
        "classifiers": ["lr"],
    }
    write_spec(tmp_path / "container", **spec)
    blas = [arg for name in os.environ if name.startswith("OPENBLAS_") for arg in ("-e", name)]
    assert run_container(image, cache, tmp_path / "container", *blas).returncode == 0
    local = write_spec(tmp_path / "process", **spec)
    code, _, err = run_cli(local, tmp_path / "process" / "out", GANBLR_BENCH_CACHE=str(cache))
    assert code == 0, err
    sample = (tmp_path / "container" / "out" / "synthetic.csv").read_bytes()
    assert len(sample) > 1000 and sample == (tmp_path / "process" / "out" / "synthetic.csv").read_bytes()
    versions = [read(tmp_path / where / "out").environment.versions for where in ("container", "process")]
    assert {k: v for k, v in versions[0].items() if k != "python"} == {
        k: v for k, v in versions[1].items() if k != "python"
    }


@pytest.mark.airflow
def test_job_containers_are_hardened_and_see_only_their_own_folder(image, tmp_path):
    """BenchDockerOperator for real (Airflow venv, real engine): the options provider 4.6.1 lacks reach
    the container, and a job's verdict (exit 1) fails without a retry while a crash (exit 3) may retry."""
    from airflow_stack import AIRFLOW_VENV, ROOT

    out = subprocess.run(
        [
            str(AIRFLOW_VENV / "bin" / "python"),
            str(ROOT / "tests" / "operator_probe.py"),
            str(ROOT / "dags"),
            image,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((l for l in out.stdout.splitlines() if l.startswith("PROBE")), None)
    assert line, out.stderr[-3000:]
    probe = json.loads(line[5:])
    seen = "\n".join(probe["output"])
    assert "CapEff:\t0000000000000000" in seen and "NoNewPrivs:\t1" in seen
    assert "root-read-only" in seen and "job-writable" in seen and "other-job" not in seen
    host = probe["host_config"]
    assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges"] and host["PidsLimit"] == 512
    assert host["ReadonlyRootfs"] is True and host["MemorySwap"] == host["Memory"] == 256 * 2**20
    assert host["LogConfig"]["Config"] == {"max-size": "20m", "max-file": "3"} and host["NetworkMode"] == "none"
    assert probe["verdict"] == "AirflowFailException" and probe["crash"] == "DockerContainerFailedException"
    # Two pinned jobs at once, as read inside each container: overlapping in time, on disjoint cores.
    seen = {}
    for name, job in probe["pinned"].items():
        out = dict(line.split(" ", 1) for line in job["output"] if " " in line and not line.startswith("Cpus"))
        allowed = next(line.split()[-1] for line in job["output"] if line.startswith("Cpus_allowed_list"))
        assert out["cpuset"] == allowed == job["cpuset_cpus"] == ",".join(map(str, job["placement"]["cores"]))
        assert job["nano_cpus"] == 10**9 and job["placement"]["peers"] == 1  # a quota of one core; one job beside
        seen[name] = (float(out["start"]), float(out["end"]), set(job["placement"]["cores"]))
    (a0, a1, a), (b0, b1, b) = seen.values()
    assert a0 < b1 and b0 < a1, seen  # at the same time
    assert not a & b, seen  # on cores of their own
