import numpy as np

import pairspace


def test_published_toy_values():
    X = [[0], [1], [3], [7]]
    Y = [[0], [2], [3], [10]]
    assert pairspace.nngs(X, Y, 1, metric="euclidean", dtype=np.float64) == 0.75
