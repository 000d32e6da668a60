"""The documented contract names every field the code has, so docs cannot drift silently."""

import typing
from pathlib import Path

from pydantic import BaseModel

from ganblr_bench import contract, params

DOC = (Path(__file__).resolve().parents[1] / "docs" / "contract.md").read_text()


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Leaf field names, dotted; a list field is written `name[]`."""
    names = []
    for name, info in model.model_fields.items():
        kinds = typing.get_args(info.annotation) or (info.annotation,)  # unwrap "X | None"
        kind = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
        if typing.get_origin(info.annotation) is list and kind is not None:
            names.append(f"{prefix}{name}[]")
        elif kind is not None and kind is not contract.JobSpec:
            names.extend(_fields(kind, f"{prefix}{name}."))
        else:
            names.append(prefix + name)
    return names


def test_every_spec_result_run_and_parameter_field_is_documented():
    documented = _fields(contract.JobSpec) + _fields(contract.JobResult) + _fields(contract.RunInfo)
    missing = [f for f in documented + list(params.RunParams.model_fields) if f"`{f}`" not in DOC]
    assert not missing, f"docs/contract.md lacks {missing}"


def test_every_setting_is_in_the_operations_guide_with_its_default():
    from ganblr_bench import settings

    guide = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    for variable in settings.VARIABLES:
        row = next((line for line in guide.splitlines() if line.startswith(f"| `{variable.name}` |")), None)
        assert row is not None, f"docs/operations.md lacks {variable.name}"
        shown = variable.shown_default or (variable.default if isinstance(variable.default, str) else "")
        assert (shown or "none") in row, (variable.name, row)
