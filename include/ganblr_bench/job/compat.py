"""The one place that knows how ganblr 0.1.3 breaks on current libraries.

ganblr 0.1.3 (and the pyitlib copy it bundles) uses names that NumPy 2 removed
(``np.NaN``, ``np.NINF``) and imports ``pgmpy.models.BayesianNetwork``, which pgmpy 1.0
renamed ``DiscreteBayesianNetwork`` (pgmpy 1.x keeps a ``BayesianNetwork`` stub that
raises on use). ``apply()`` points those three names at their current equivalents,
nothing else, and must run before ``ganblr`` is imported. When upstream is fixed, deleting this
module and its call in ``models.py`` should be the whole change.
"""

from __future__ import annotations

# (module, missing name, name whose value stands in for it)
_ALIASES = (
    ("numpy", "NaN", "nan"),
    ("numpy", "NINF", None),  # -inf has no surviving alias; set below
    ("pgmpy.models", "BayesianNetwork", "DiscreteBayesianNetwork"),
)


_MISSING = object()


def _get(module: object, name: str) -> object:
    # NumPy 2's module __getattr__ raises AttributeError for removed names.
    try:
        return getattr(module, name)
    except AttributeError:
        return _MISSING


def apply() -> list[str]:
    """Restore the names ganblr 0.1.3 needs; return the ones that were restored."""
    import importlib

    import numpy as np

    restored = []
    for module_name, missing, source in _ALIASES:
        module = importlib.import_module(module_name)
        value = -np.inf if source is None else _get(module, source)
        current = _get(module, missing)
        if value is _MISSING or current is value or (source is None and current is not _MISSING):
            continue  # nothing to point at, already right, or an old library that still has it
        setattr(module, missing, value)
        restored.append(f"{module_name}.{missing}")
    return restored
