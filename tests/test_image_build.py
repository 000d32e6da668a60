"""image.py against the real Docker engine: fingerprint, build, skip when cached, clear failures."""

import os
import shutil
from pathlib import Path

import pytest

import docker
from ganblr_bench.run import image

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[1]


def test_the_fingerprint_covers_build_inputs_only(tmp_path):
    context = tmp_path / "ctx"
    shutil.copytree(ROOT / "include", context / "include", ignore=shutil.ignore_patterns("__pycache__"))
    for name in image._INPUTS:
        shutil.copy(ROOT / name, context / name)
    first = image.inputs_hash(context)
    (context / "docker" / "extra-ca").mkdir(parents=True)
    (context / "docker" / "extra-ca" / "proxy.crt").write_text("a CA changes how we reach PyPI, not what we build")
    (context / "notes.txt").write_text("not a build input")
    assert image.inputs_hash(context) == first
    (context / "include" / "ganblr_bench" / "__init__.py").write_text('__version__ = "9"\n')
    assert image.inputs_hash(context) != first
    assert image.inputs_hash(context, image.stack_args("latest")) != image.inputs_hash(context)
    (context / "requirements-models.lock").write_text("numpy==0.0.1 --hash=sha256:00\n")
    assert image.inputs_hash(context) != first  # the lock is part of what the tag pins


@pytest.fixture
def client():
    api = docker.APIClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    try:
        api.version()
    except docker.errors.DockerException:
        pytest.fail("no Docker engine answers: run scripts/test.sh (or scripts/docker-engine.sh start)")
    return api


def _context(tmp_path, body: str) -> Path:
    base = next(
        line.split("=", 1)[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("ARG BASE_IMAGE=")
    )
    context = tmp_path / "tiny"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base} AS bench\n{body}\n")
    return context


def test_build_then_skip_then_force(client, tmp_path):
    context = _context(tmp_path, f"RUN echo {tmp_path.name} > /marker")
    built = image.ensure(client, context)
    try:
        assert not built.facts.cached and built.facts.build_s > 0 and built.facts.digest.startswith("sha256:")
        assert built.facts.ref == f"ganblr-bench:inputs-{built.facts.inputs_hash[:16]}"
        again = image.ensure(client, context)
        assert again.facts.cached and again.facts.build_s == 0 and again.facts.digest == built.facts.digest
        forced = image.ensure(client, context, force=True)
        assert not forced.facts.cached
    finally:
        client.remove_image(built.facts.ref, force=True)


def test_a_failing_build_says_why(client, tmp_path):
    context = _context(tmp_path, "RUN echo about-to-fail && exit 3")
    with pytest.raises(
        image.ImageError, match="docker build of ganblr-bench:inputs-.* failed: .*returned a non-zero code: 3"
    ):
        image.ensure(client, context)
    with pytest.raises(image.ImageError, match="no Dockerfile"):
        image.inputs_hash(tmp_path / "nowhere")
