"""Katabatic's GANBLR (``katabatic.models.ganblr``, Katabatic 1.1.0) as a ganblr-bench generator: the facts.

Katabatic is the maintained framework that carries an adapted GANBLR; benchmarked beside tulip-lab's
``ganblr`` 0.1.3 on the same datasets and seeds, the report compares the two side by side (``implements``).
Its stack conflicts with ours (numpy<2, pandas<3, scipy<1.15), so its jobs run in the ``katabatic`` image
variant. Only these facts are read where the run is planned; ``model`` (which imports Katabatic) is imported in
the job's process only.
"""

from ganblr_bench.generator_catalog import Cost, GeneratorInfo, InputKind, Role

GANBLR = GeneratorInfo(
    name="katabatic-ganblr",
    label="Katabatic GANBLR",
    role=Role.UNDER_TEST,
    input=InputKind.DISCRETE,  # it ordinal-encodes every column: numbers arrive as the harness's bins
    factory="ganblr_bench_katabatic.model:KatabaticGanblr",
    tensorflow=True,
    cost=Cost(25.0, 0.6, 0.15),
    stack="katabatic",
    implements="ganblr",
    packages=("katabatic", "torch", "pyitlib", "ganblr-bench-katabatic"),
)
