"""A candidate build of ganblr, named by the run parameter ``candidate``: what it may be, and what it plans."""

import pytest

from ganblr_bench.errors import ContractError
from ganblr_bench.params import parse_params
from ganblr_bench.run.candidate import Candidate, Kind
from ganblr_bench.run.plan import plan_run


def test_a_candidate_is_a_version_a_wheel_or_a_source_folder(tmp_path):
    assert Candidate.parse("0.1.2").requirement == "ganblr==0.1.2"
    assert Candidate.parse("ganblr==0.1.3").kind is Kind.VERSION
    wheel = tmp_path / "ganblr-0.1.3+mine-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    assert Candidate.parse(str(wheel)).kind is Kind.WHEEL
    source = tmp_path / "src"
    (source / "ganblr").mkdir(parents=True)
    (source / "pyproject.toml").write_text("[project]\nname = 'ganblr'\nversion = '0.1.3+mine'\n")
    (source / "ganblr" / "__init__.py").write_text("")
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref")
    found = Candidate.parse(str(source))
    assert found.kind is Kind.SOURCE and [f.name for f in found.files()] == ["__init__.py", "pyproject.toml"]
    before = found.digest()
    (source / "ganblr" / "__init__.py").write_text("X = 1\n")
    assert Candidate.parse(str(source)).digest() != before  # a changed source is another candidate
    (source / ".git" / "HEAD").write_text("other")
    assert Candidate.parse(str(source)).digest() == Candidate.parse(str(source)).digest()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("/nowhere/ganblr-0.1.3-py3-none-any.whl", "no such wheel file"),
        ("relative/folder", "give an absolute path"),
        ("/etc", "a source folder needs a pyproject.toml or setup.py"),
        ("/nowhere/at/all", "not a wheel file, a source folder or a version of ganblr"),
    ],
)
def test_a_candidate_that_is_not_a_build_of_ganblr_is_refused_naming_it(text, words):
    with pytest.raises(ContractError, match=f"run parameters: candidate: .*{words}"):
        Candidate.parse(text)


def test_a_wheel_of_another_package_is_not_a_candidate(tmp_path):
    other = tmp_path / "numpy-2.0-cp311-none-any.whl"
    other.write_bytes(b"PK")
    with pytest.raises(ContractError, match="not a wheel of ganblr"):
        Candidate.parse(str(other))


def test_a_candidate_runs_every_job_on_the_locked_and_the_candidate_stack(tmp_path):
    params = parse_params({"candidate": "0.1.2", "models": ["ganblr"], "datasets": ["iris"], "seeds": [0, 1]})
    assert params.stacks == ["locked", "candidate"]
    planned = plan_run(params.model_dump(mode="json"), "manual__cand", tmp_path, backend="docker")
    assert planned.candidate == "0.1.2" and planned.stacks == ["locked", "candidate"]
    names = sorted(j.name for j in planned.jobs if j.model == "ganblr")
    assert names == ["ganblr-iris-s0", "ganblr-iris-s0-candidate", "ganblr-iris-s1", "ganblr-iris-s1-candidate"]
    with pytest.raises(ContractError, match="stacks: 'candidate' needs the candidate parameter"):
        parse_params({"stacks": ["locked", "candidate"]})
    with pytest.raises(ContractError, match="'candidate' needs the docker backend"):
        plan_run({"candidate": "0.1.2"}, "manual__cand2", tmp_path / "p", backend="process")
    with pytest.raises(ContractError, match="candidate: '/nowhere': not a wheel file"):
        plan_run({"candidate": "/nowhere"}, "manual__cand3", tmp_path / "q", backend="docker")
    assert not (tmp_path / "p").exists() and not (tmp_path / "q").exists()
