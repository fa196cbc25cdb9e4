"""fastdl._split_gradients: a full-batch gradient in parts, in threads, against the numpy
reference engine's whole call (cost and every gradient, to rounding)."""
import numpy as np
import pytest

import fastdl
from fastdl._numpy_backend import NumpyEngine
from fastdl._split_gradients import SplitGradients, pair_views, part_bounds

NETWORKS = {  # (layer_dims, activations)
    "sigmoid": ([6, 5, 4, 1], ["relu", "tanh", "sigmoid"]),
    "softmax": ([6, 7, 3], ["leaky_relu", "softmax"]),
    "linear": ([6, 4, 2], ["sigmoid", "linear"]),
}


def _labels(rng, output, n_y, m, dtype):
    if output == "softmax":
        return np.eye(n_y, dtype=dtype)[:, rng.integers(0, n_y, m)]
    if output == "sigmoid":
        return (rng.random((n_y, m)) < 0.5).astype(dtype)
    return rng.standard_normal((n_y, m)).astype(dtype)


@pytest.mark.parametrize("network", list(NETWORKS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("weighted, l2", [(False, 0.0), (True, 0.7), (False, 0.3)])
def test_parts_sum_to_the_reference_engines_whole_gradient(rng, network, dtype, layout, parts,
                                                           weighted, l2):
    dims, activations = NETWORKS[network]
    m = 41
    net = fastdl.Network(dims, activations=activations, dtype=dtype, seed=2)
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    X = np.asfortranarray(X) if layout == "F" else X
    Y = _labels(rng, activations[-1], dims[-1], m, dtype)
    weights = rng.uniform(0, 2, (1, m)).astype(dtype) if weighted else None
    reference = NumpyEngine(net._spec)
    J_ref, grads_ref = reference.gradients(net._params, X, Y, l2=l2, weights=weights)

    assert SplitGradients.applies(X, weights, parts)
    split = SplitGradients(net._engine, X, Y, weights, parts)
    flat = np.empty(sum(a.size for pair in net._params for a in pair))
    try:
        for _ in range(2):  # the second call reuses every buffer
            J = split.gradients(net._params, l2=l2, out=flat)
            rtol = 1e-10 if dtype == "float64" else 2e-4
            assert J == pytest.approx(J_ref, rel=rtol)
            for (dW, db), (dW_ref, db_ref) in zip(pair_views(flat, net._params), grads_ref):
                np.testing.assert_allclose(dW, dW_ref, rtol=rtol, atol=rtol * 1e-2)
                np.testing.assert_allclose(db, db_ref, rtol=rtol, atol=rtol * 1e-2)
    finally:
        split.close()


def test_the_same_parts_give_the_same_bits(rng):
    net = fastdl.Network([8, 6, 1], seed=0)
    X, Y = rng.standard_normal((8, 300)), (rng.random((1, 300)) < 0.5) * 1.0
    results = []
    for _ in range(2):
        split = SplitGradients(net._engine, X, Y, None, 2)
        flat = np.empty(8 * 6 + 6 + 6 + 1)
        results.append((split.gradients(net._params, l2=0.1, out=flat), flat.copy()))
        split.close()
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_what_cannot_be_split(rng):
    X = rng.standard_normal((3, 10))
    weights = np.ones((1, 10))
    assert SplitGradients.applies(X, weights, 2) and SplitGradients.applies(X, None, 10)
    assert not SplitGradients.applies(X, None, 1)
    assert not SplitGradients.applies(X, None, 11)  # more parts than examples
    weights[0, 5:] = 0  # the second part would weigh nothing: its cost divides by zero
    assert not SplitGradients.applies(X, weights, 2)
    scipy_sparse = pytest.importorskip("scipy.sparse")
    assert not SplitGradients.applies(scipy_sparse.csc_matrix(X), None, 2)


def test_part_bounds_cover_every_example_once():
    assert part_bounds(10, 3) == [0, 3, 6, 10]
    assert part_bounds(5, 5) == [0, 1, 2, 3, 4, 5]
