"""The numpy reference engine against the loop-based reference in ``tests/naive.py``.

Every activation, as a hidden layer and as the output, at depths L = 1, 2, 4, in float32
and float64: forward (A[L] and every cached Z[l], A[l-1]), cost and gradients.
"""
import numpy as np
import pytest

import fastdl
import naive
from fastdl import _numpy_backend as nb

# Relative tolerance per dtype; float32 is compared against float64 loops on the same
# (float32) inputs, so it carries the rounding of a few float32 operations per entry.
TOL = {np.float32: 1e-5, np.float64: 1e-12}
DTYPES = [np.float32, np.float64]
DIMS = {1: [3, 2], 2: [3, 4, 2], 3: [3, 4, 3, 2], 4: [3, 5, 4, 3, 2]}
M = 6


def _cases():
    cases = []
    for name in naive.NAMES + ("exp",):
        for L in (1, 2, 4):  # as the output layer, tanh below it
            cases.append(pytest.param(["tanh"] * (L - 1) + [name], id=f"{name}-output-L{L}"))
        if name == "exp":  # output layers only
            continue
        for L in (2, 4):  # as every hidden layer, sigmoid output above it
            cases.append(pytest.param([name] * (L - 1) + ["sigmoid"], id=f"{name}-hidden-L{L}"))
    return cases


CASES = _cases()


def assert_close(actual, expected, dtype):
    """Equal within TOL[dtype], relative to the largest entry of ``expected``."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 1.0
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected,
                               rtol=TOL[dtype], atol=TOL[dtype] * scale)


def _setup(rng, activations, dtype, slope=0.01):
    dims = DIMS[len(activations)]
    params, X, Y = naive.random_case(rng, dims, activations, M, dtype=dtype, slope=slope)
    net = fastdl.Network(dims, activations, dtype=dtype, backend="numpy", leaky_slope=slope)
    net.set_parameters(params)
    return net, params, X, Y


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("activations", CASES)
def test_forward_matches_naive(rng, activations, dtype):
    net, params, X, _ = _setup(rng, activations, dtype)
    A = net.forward(X)
    assert A.shape == (DIMS[len(activations)][-1], M)
    assert A.dtype == dtype
    assert_close(A, naive.forward(params, X, activations), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("activations", CASES)
def test_cached_layers_match_naive(rng, activations, dtype):
    """forward_propagation caches (A[l-1], W[l], b[l], Z[l]) for every layer."""
    net, params, X, _ = _setup(rng, activations, dtype)
    pairs = [(params[f"W{l}"], params[f"b{l}"]) for l in range(1, len(activations) + 1)]
    AL, caches = nb.forward_propagation(pairs, X, activations, 0.01)
    Zs, As = naive.forward_layers(params, X, activations)
    assert len(caches) == len(activations)
    for l, (A_prev, W, b, Z) in enumerate(caches, start=1):
        assert W is pairs[l - 1][0] and b is pairs[l - 1][1]
        assert Z.dtype == dtype and A_prev.dtype == dtype
        assert_close(Z, Zs[l - 1], dtype)
        assert_close(A_prev, As[l - 1], dtype)
    assert_close(AL, As[-1], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("activations", CASES)
def test_cost_matches_naive(rng, activations, dtype):
    net, params, X, Y = _setup(rng, activations, dtype)
    J = net.cost(X, Y)
    assert isinstance(J, float)
    assert J == pytest.approx(naive.cost(params, X, Y, activations), rel=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("activations", CASES)
def test_gradients_match_naive(rng, activations, dtype):
    net, params, X, Y = _setup(rng, activations, dtype)
    grads = net.gradients(X, Y)
    expected = naive.gradients(params, X, Y, activations)
    assert sorted(grads) == sorted(expected)
    for key, value in expected.items():
        assert grads[key].shape == params[key[1:]].shape, key
        assert grads[key].dtype == dtype, key
        assert_close(grads[key], value, dtype)


@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_leaky_slope_reaches_forward_and_backward(rng, slope):
    """A non-default slope is used by both passes, not only by the activation module."""
    activations = ["leaky_relu", "leaky_relu", "linear"]
    net, params, X, Y = _setup(rng, activations, np.float64, slope=slope)
    assert_close(net.forward(X), naive.forward(params, X, activations, slope), np.float64)
    expected = naive.gradients(params, X, Y, activations, slope)
    grads = net.gradients(X, Y)
    for key, value in expected.items():
        assert_close(grads[key], value, np.float64)


def test_engine_step_is_gradient_descent(rng):
    """NumpyEngine.step applies W := W − α dW, b := b − α db and returns J before it."""
    activations = ["tanh", "sigmoid"]
    net, params, X, Y = _setup(rng, activations, np.float64)
    expected_grads = naive.gradients(params, X, Y, activations)
    J = net.step(X, Y, 0.5)
    assert J == pytest.approx(naive.cost(params, X, Y, activations), rel=1e-12)
    after = net.parameters
    for key in params:
        assert_close(after[key], params[key] - 0.5 * expected_grads["d" + key], np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_cross_entropy_is_stable_for_large_z(dtype):
    """No log(0) and no overflow: with |Z| = 1000 the loss is |Z| when wrong, 0 when right."""
    net = fastdl.Network([1, 1], init="zeros", dtype=dtype, backend="numpy")
    net.set_parameters({"W1": np.array([[1000.0]]), "b1": np.zeros((1, 1))})
    X = np.array([[1.0, -1.0]])
    assert net.cost(X, np.array([[0.0, 1.0]])) == pytest.approx(1000.0, rel=1e-6)
    assert net.cost(X, np.array([[1.0, 0.0]])) == pytest.approx(0.0, abs=1e-12)
    grads = net.gradients(X, np.array([[0.0, 1.0]]))
    # dZ = A − Y = [1 − 0, 0 − 1] exactly, so dW = (1/2)(1·1 + (−1)(−1)) = 1, db = 0.
    np.testing.assert_array_equal(grads["dW1"], [[1.0]])
    np.testing.assert_array_equal(grads["db1"], [[0.0]])


def test_linear_backward_skips_dA_for_the_input():
    dZ = np.array([[1.0, 2.0]])
    dA_prev, dW, db = nb.linear_backward(dZ, np.ones((3, 2)), np.ones((1, 3)), need_dA_prev=False)
    assert dA_prev is None
    np.testing.assert_array_equal(dW, [[1.5, 1.5, 1.5]])
    np.testing.assert_array_equal(db, [[1.5]])


def test_engine_is_the_numpy_one():
    net = fastdl.Network([2, 1], backend="numpy")
    assert net.backend == "numpy"
    assert "numpy" in fastdl.available_backends()


def _weights(rng, dtype):
    """Per-example weights in [0, 3), a few of them 0."""
    weights = rng.uniform(0, 3, M).astype(dtype)
    weights[rng.permutation(M)[:2]] = 0
    return weights


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("activations", CASES)
def test_weighted_cost_and_gradients_match_naive(rng, activations, dtype):
    net, params, X, Y = _setup(rng, activations, dtype)
    weights = _weights(rng, dtype)
    assert net.cost(X, Y, sample_weight=weights) == pytest.approx(
        naive.cost(params, X, Y, activations, weights=weights), rel=TOL[dtype])
    grads = net.gradients(X, Y, sample_weight=weights)
    for key, value in naive.gradients(params, X, Y, activations, weights=weights).items():
        assert_close(grads[key], value, dtype)


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear", "exp"])
def test_weight_two_is_the_example_twice_and_zero_leaves_it_out(rng, output):
    """The contract of sample_weight, on cost, gradients and a few steps of fit."""
    dims = [3, 4, 3]
    net = fastdl.Network(dims, hidden="tanh", output=output, seed=1, backend="numpy")
    X = rng.standard_normal((3, 8))
    Y = naive.random_labels(rng, "sigmoid" if output == "softmax" else output, (3, 8))
    if output == "softmax":
        Y = np.eye(3)[:, rng.integers(0, 3, 8)]
    weights = np.array([2.0, 1, 0, 1, 1, 2, 0, 1])
    repeated = np.repeat(np.arange(8), weights.astype(int))
    X_rep, Y_rep = X[:, repeated], Y[:, repeated]
    assert net.cost(X, Y, sample_weight=weights) == pytest.approx(net.cost(X_rep, Y_rep), rel=1e-12)
    grads, expected = net.gradients(X, Y, sample_weight=weights), net.gradients(X_rep, Y_rep)
    for key, value in expected.items():
        np.testing.assert_allclose(grads[key], value, rtol=1e-12, atol=1e-15)
