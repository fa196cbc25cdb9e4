"""The worked numbers of the notes (seed/000_ba53ccbfc68db282.txt), as test cases.

σ'(0) = 1/4, tanh'(0) = 1, ReLU' ∈ {1, 0}, leaky ReLU's slope, dz = a − y for a sigmoid
output with cross-entropy, the computation graph J = 3(a + bc), the dimension table, and
one hand-computed step of logistic regression.
"""
import math

import numpy as np
import pytest

import fastdl
from fastdl import _numpy_backend as nb
from fastdl import activations as act


# -- activation derivatives ---------------------------------------------------------------
def test_sigmoid_derivative_at_zero_is_a_quarter():
    # g'(0) = g(0)(1 − g(0)) = (1/2)(1/2) = 1/4
    assert act.sigmoid_derivative(np.array([0.0]))[0] == 0.25


def test_tanh_derivative_at_zero_is_one():
    # g'(0) = 1 − tanh(0)² = 1 − 0 = 1
    assert act.tanh_derivative(np.array([0.0]))[0] == 1.0


def test_relu_derivative_is_one_for_positive_zero_for_negative():
    np.testing.assert_array_equal(act.relu_derivative(np.array([-2.0, -0.5, 0.5, 2.0])), [0, 0, 1, 1])


@pytest.mark.parametrize("slope", [None, 0.2])
def test_leaky_relu_slope_in_a_network(slope):
    """A 1-layer leaky-ReLU network with W = [[1]], b = [[0]] computes max(slope·z, z)."""
    kwargs = {} if slope is None else {"leaky_slope": slope}
    expected_slope = 0.01 if slope is None else slope
    net = fastdl.Network([1, 1], output="leaky_relu", init="zeros", backend="numpy", **kwargs)
    assert net.leaky_slope == expected_slope
    net.set_parameters({"W1": [[1.0]], "b1": [[0.0]]})
    X = np.array([[-2.0, 3.0]])
    np.testing.assert_allclose(net.forward(X), [[-2.0 * expected_slope, 3.0]], rtol=1e-15)
    # Squared error with Y = 0: dZ = (A − Y)·g'(Z) = [−2s·s, 3·1]; dW = (1/2)(dZ · x).
    grads = net.gradients(X, np.zeros((1, 2)))
    s = expected_slope
    dZ = np.array([-2.0 * s * s, 3.0])
    assert grads["dW1"][0, 0] == pytest.approx(np.mean(dZ * X[0]), rel=1e-14)
    assert grads["db1"][0, 0] == pytest.approx(np.mean(dZ), rel=1e-14)


# -- dz = a − y ---------------------------------------------------------------------------------
def test_dz_is_a_minus_y_by_the_chain_rule():
    """(−y/a + (1−y)/(1−a)) · a(1−a) = a − y for every a in (0, 1) and y in {0, 1}."""
    for z in (-3.0, -0.4, 0.0, 0.7, 2.5):
        a = act.sigmoid(z)
        for y in (0.0, 1.0):
            da = -y / a + (1 - y) / (1 - a)
            assert da * act.sigmoid_derivative(z) == pytest.approx(a - y, rel=1e-12, abs=1e-15)


def test_single_example_logistic_gradients(rng):
    """One example: dw1 = dz·x1, dw2 = dz·x2, db = dz, with dz = a − y."""
    net = fastdl.Network([2, 1], init="zeros", backend="numpy")
    w, b = rng.normal(size=(1, 2)), rng.normal(size=(1, 1))
    net.set_parameters({"W1": w, "b1": b})
    x, y = rng.normal(size=(2, 1)), np.array([[1.0]])
    a = 1 / (1 + math.exp(-(w[0, 0] * x[0, 0] + w[0, 1] * x[1, 0] + b[0, 0])))
    dz = a - y[0, 0]
    grads = net.gradients(x, y)
    assert grads["dW1"][0, 0] == pytest.approx(dz * x[0, 0], rel=1e-12)
    assert grads["dW1"][0, 1] == pytest.approx(dz * x[1, 0], rel=1e-12)
    assert grads["db1"][0, 0] == pytest.approx(dz, rel=1e-12)


def test_vectorised_logistic_gradients(rng):
    """dZ = A − Y, dW = (1/m) dZ Xᵀ, db = (1/m) Σ dZ, through ``net.gradients``."""
    m = 7
    net = fastdl.Network([3, 1], init="small", seed=0, backend="numpy")
    X = rng.normal(size=(3, m))
    Y = rng.integers(0, 2, size=(1, m)).astype(float)
    A = net.forward(X)
    grads = net.gradients(X, Y)
    np.testing.assert_allclose(grads["db1"], [[np.mean(A - Y)]], rtol=1e-12)
    np.testing.assert_allclose(grads["dW1"], (A - Y) @ X.T / m, rtol=1e-12)


# -- the computation graph J = 3(a + bc) ------------------------------------------------------
def test_computation_graph_through_the_library_pieces():
    """u = bc, v = a + u, J = 3v at a = 5, b = 3, c = 2, as three linear layers with m = 1.

    Forward with ``linear_forward`` (b = 0 in every layer), backward with
    ``linear_backward(dZ, A_prev, W)``, which returns (dA_prev, dW, db_bias).
    """
    a, b, c = 5.0, 3.0, 2.0
    zero = np.zeros((1, 1))
    # u = b·c: a layer with W = [[b]] on A_prev = [[c]]
    W_u, A_u = np.array([[b]]), np.array([[c]])
    u = nb.linear_forward(A_u, W_u, zero)
    assert u[0, 0] == 6.0
    # v = a + u: a layer with W = [[1, 1]] on A_prev = [[a], [u]]
    W_v, A_v = np.array([[1.0, 1.0]]), np.array([[a], [u[0, 0]]])
    v = nb.linear_forward(A_v, W_v, zero)
    assert v[0, 0] == 11.0
    # J = 3v: a layer with W = [[3]] on A_prev = [[v]]
    W_J, A_J = np.array([[3.0]]), v
    J = nb.linear_forward(A_J, W_J, zero)
    assert J[0, 0] == 33.0

    # Backward: dJ/dJ = 1.
    dv, _, _ = nb.linear_backward(np.array([[1.0]]), A_J, W_J)
    assert dv[0, 0] == 3.0  # dv = dJ/dv = 3
    dA_v, _, _ = nb.linear_backward(dv, A_v, W_v)
    da, du = dA_v[0, 0], dA_v[1, 0]
    assert da == 3.0  # da = dJ/dv · dv/da = 3 · 1
    assert du == 3.0  # du = dJ/dv · dv/du = 3 · 1
    dc, dW_u, _ = nb.linear_backward(dA_v[1:], A_u, W_u)
    assert dW_u[0, 0] == 6.0  # db = dJ/du · du/db = 3 · c = 6 (b is the weight)
    assert dc[0, 0] == 9.0  # dc = dJ/du · du/dc = 3 · b = 9 (c is the input)


# -- the dimension table -------------------------------------------------------------------------
DIMENSION_NETS = [
    pytest.param([12, 20, 7, 5, 1], id="notes-12-20-7-5-1"),
    pytest.param([2, 3, 1], id="shallow-2-3-1"),
    pytest.param([5, 4, 3, 2, 6, 1], id="five-layers"),
    pytest.param([4, 1], id="logistic"),
]


@pytest.mark.parametrize("m", [1, 9])
@pytest.mark.parametrize("layer_dims", DIMENSION_NETS)
def test_dimension_table(layer_dims, m):
    """W[l]: (n[l], n[l−1]); b[l]: (n[l], 1); Z[l], A[l]: (n[l], m)."""
    net = fastdl.Network(layer_dims, seed=0, backend="numpy")
    L = len(layer_dims) - 1
    assert net.L == L
    table = net.dimensions(m)
    assert [row["layer"] for row in table] == list(range(1, L + 1))
    for row in table:
        n, n_prev = layer_dims[row["layer"]], layer_dims[row["layer"] - 1]
        assert row["W"] == (n, n_prev)
        assert row["b"] == (n, 1)
        assert row["Z"] == (n, m)
        assert row["A"] == (n, m)


@pytest.mark.parametrize("m", [1, 9])
@pytest.mark.parametrize("layer_dims", DIMENSION_NETS)
def test_arrays_have_the_table_shapes(rng, layer_dims, m):
    """parameters, gradients (dW like W, db like b), cached Z[l] and A[l] follow the table."""
    net = fastdl.Network(layer_dims, seed=0, backend="numpy")
    table = net.dimensions(m)
    X = rng.normal(size=(layer_dims[0], m))
    Y = rng.integers(0, 2, size=(layer_dims[-1], m)).astype(float)
    params, grads = net.parameters, net.gradients(X, Y)
    pairs = [(params[f"W{l}"], params[f"b{l}"]) for l in range(1, net.L + 1)]
    AL, caches = nb.forward_propagation(pairs, X, net.activations, net.leaky_slope)
    assert len(params) == len(grads) == 2 * net.L
    for row, (A_prev, W, b, Z) in zip(table, caches):
        l = row["layer"]
        assert params[f"W{l}"].shape == grads[f"dW{l}"].shape == W.shape == row["W"]
        assert params[f"b{l}"].shape == grads[f"db{l}"].shape == b.shape == row["b"]
        assert Z.shape == row["Z"]
        expected_prev = (layer_dims[0], m) if l == 1 else table[l - 2]["A"]
        assert A_prev.shape == expected_prev  # A[0] = X is (n_x, m)
    assert AL.shape == net.forward(X).shape == table[-1]["A"]


@pytest.mark.parametrize("m", [0, -1, 2.5, "3"])
def test_dimensions_needs_a_positive_m(m):
    net = fastdl.Network([2, 1], backend="numpy")
    with pytest.raises(ValueError, match="m must be a positive integer"):
        net.dimensions(m)


# -- one training step by hand ---------------------------------------------------------------------
def test_hand_computed_logistic_regression_step():
    """Logistic regression on 2 examples, one step of gradient descent at α = 0.1.

    X = [[1, 2], [3, −1]] (columns x⁽¹⁾ = (1, 3), x⁽²⁾ = (2, −1)), Y = [[1, 0]],
    w = (0.5, −0.25), b = 0.1.
    """
    net = fastdl.Network([2, 1], init="zeros", backend="numpy")
    net.set_parameters({"W1": [[0.5, -0.25]], "b1": [[0.1]]})
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    Y = np.array([[1.0, 0.0]])
    # z⁽¹⁾ = 0.5·1 − 0.25·3 + 0.1 = −0.15;  z⁽²⁾ = 0.5·2 − 0.25·(−1) + 0.1 = 1.35
    z1, z2 = -0.15, 1.35
    a1, a2 = 1 / (1 + math.exp(-z1)), 1 / (1 + math.exp(-z2))  # ≈ 0.462570, 0.794129
    # J = −(1/2)[1·log a1 + (1 − 0)·log(1 − a2)] ≈ −(1/2)(−0.770957 − 1.580509) ≈ 1.175733
    J = -(math.log(a1) + math.log(1 - a2)) / 2
    assert J == pytest.approx(1.175733, abs=1e-6)
    # dZ = A − Y = [a1 − 1, a2 − 0] ≈ [−0.537430, 0.794129]
    dz1, dz2 = a1 - 1, a2
    # dW = (1/2) dZ Xᵀ = (1/2)[dz1·1 + dz2·2, dz1·3 + dz2·(−1)] ≈ [0.525415, −1.203210]
    dw1, dw2 = (dz1 * 1 + dz2 * 2) / 2, (dz1 * 3 + dz2 * -1) / 2
    # db = (1/2)(dz1 + dz2) ≈ 0.128350
    db = (dz1 + dz2) / 2
    assert (dw1, dw2, db) == pytest.approx((0.525415, -1.203210, 0.128350), abs=1e-6)

    returned = net.step(X, Y, 0.1)
    assert returned == pytest.approx(J, rel=1e-14)  # the cost *before* the update
    after = net.parameters
    # w := w − α dw ≈ (0.5 − 0.0525415, −0.25 + 0.1203210) = (0.447459, −0.129679)
    # b := b − α db ≈ 0.1 − 0.0128350 = 0.087165
    np.testing.assert_allclose(after["W1"], [[0.5 - 0.1 * dw1, -0.25 - 0.1 * dw2]], rtol=1e-14)
    np.testing.assert_allclose(after["b1"], [[0.1 - 0.1 * db]], rtol=1e-14)
    np.testing.assert_allclose(after["W1"], [[0.447459, -0.129679]], atol=1e-6)
    np.testing.assert_allclose(after["b1"], [[0.087165]], atol=1e-6)
    assert net.cost(X, Y) < J  # the step went downhill
