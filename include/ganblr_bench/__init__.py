"""ganblr-bench: containerised, trend-tracked benchmarks of GANBLR and GANBLR++.

The package is the pure core: no Airflow import anywhere below this folder.
"""

__version__ = "0.2.0"  # CHANGELOG.md; the image, run.json and the warehouse record it
