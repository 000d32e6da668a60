import importlib

import numpy as np
import pgmpy.models

from ganblr_bench.job import compat


def test_apply_restores_the_names_ganblr_needs_and_is_idempotent():
    compat.apply()
    assert np.NaN is np.nan
    assert -np.inf == np.NINF
    assert pgmpy.models.BayesianNetwork is pgmpy.models.DiscreteBayesianNetwork
    assert compat.apply() == []  # a second call changes nothing


def test_ganblr_imports_and_builds_a_network_after_apply():
    compat.apply()
    ganblr = importlib.import_module("ganblr.models.ganblr")
    network = ganblr.BayesianNetwork([("0", "1")])
    assert set(network.nodes()) == {"0", "1"}
