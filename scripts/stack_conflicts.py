"""Why two model stacks cannot share one image, in the resolver's words (scripts/lock.sh --variant NAME).

Resolves requirements-models.in together with the variant's .in. Each failure names one pin of ours that the
variant's requirements exclude; that pin is loosened (its version dropped) and the union resolved again, until
it resolves or a failure names no pin of ours. Prints one comment line per conflicting pin, the resolver's
explanation beside it, for the variant lock's header, where the image build and the report read them
(``ganblr_bench.run.image.lock_conflicts``). Usage: stack_conflicts.py UV MAIN.in VARIANT.in [--find-links DIR]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

MARK = "# conflict: "  # the header line the build and the report read
_PIN = re.compile(r"you require ([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)==([^\s,]+)")
_ROUNDS = 20


def _names(text: str) -> dict[str, str]:
    """name -> its line, for the pinned requirements of an .in file."""
    found = {}
    for line in text.splitlines():
        req = line.split("#", 1)[0].strip()
        if "==" in req:
            found[re.split(r"[\[=<>!~ ]", req, maxsplit=1)[0].lower()] = line
    return found


def conflicts(uv: str, main: Path, variant: Path, extra: list[str]) -> list[str]:
    text = main.read_text()
    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "models.in"
        for _ in range(_ROUNDS):
            ours.write_text(text)
            done = subprocess.run(
                [uv, "pip", "compile", "--quiet", "--python-version", "3.11", "--python-platform",
                 "x86_64-manylinux_2_28", "--no-header", *extra, str(ours), str(variant)],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode == 0:
                return out
            because = " ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
            pin = next((m for m in _PIN.finditer(because) if m.group(1).lower() in _names(text)), None)
            if pin is None:
                raise SystemExit(f"stack_conflicts: the union fails on no pin of {main.name}: {because}")
            name = pin.group(1).lower()
            reason = re.search(r"Because .*?incompatible\.", because)
            out.append(f"{MARK}{name}=={pin.group(2)}: {reason.group(0) if reason else because}")
            text = text.replace(_names(text)[name], name)  # loosen it; the next round finds the next one
    raise SystemExit(f"stack_conflicts: still no resolution after {_ROUNDS} loosened pins")


if __name__ == "__main__":
    uv, main, variant, *rest = sys.argv[1:]
    print("\n".join(conflicts(uv, Path(main), Path(variant), rest)))
