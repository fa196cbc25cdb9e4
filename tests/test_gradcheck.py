"""``fastdl.gradient_check``: backprop against two-sided finite differences.

ReLU kinks are avoided by drawing parameters and data with every |Z| ≥ 1e-3 (see
``naive.random_case``) and asserting it, so a perturbation of ε = 1e-7 never crosses 0.
"""
import numpy as np
import pytest

import fastdl
import naive
from fastdl import _numpy_backend as nb
from fastdl import activations as act

DIMS = {1: [3, 2], 2: [3, 4, 2], 3: [3, 4, 3, 2], 4: [3, 5, 4, 3, 2]}
M = 5


def _gradient_norm(net, X, Y):
    return float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in net.gradients(X, Y).values())))


def _net(rng, activations, dtype="float64", backend="numpy"):
    """A network and data with no Z near a kink and a gradient of norm > 0.1.

    The difference quotient's round-off is about 1e-16·J/ε per entry, so the relative
    difference can only get under 1e-7 when ||g|| is not tiny next to J; deep sigmoid
    stacks sometimes draw ||g|| ≈ 0.01, and those draws are retried (about 1 in 20).
    """
    dims = DIMS[len(activations)]
    for _ in range(50):
        params, X, Y = naive.random_case(rng, dims, activations, M, dtype=np.float64)
        net = fastdl.Network(dims, activations, dtype=dtype, backend=backend)
        net.set_parameters(params)
        if _gradient_norm(net, X, Y) > 0.1:
            break
    assert naive.min_abs_z(params, X, activations) > 1e-4  # no Z near a kink
    assert _gradient_norm(net, X, Y) > 0.1  # the check is about something
    return net, X, Y


def _cases():
    cases = []
    for name in naive.NAMES:
        for L in (1, 2, 4):
            cases.append(pytest.param([name] * L, id=f"{name}-everywhere-L{L}"))
        for L in (2, 4):
            cases.append(pytest.param([name] * (L - 1) + ["sigmoid"], id=f"{name}-hidden-sigmoid-out-L{L}"))
    return cases


@pytest.mark.parametrize("backend", fastdl.available_backends())
@pytest.mark.parametrize("activations", _cases())
def test_backprop_matches_finite_differences(rng, activations, backend):
    net, X, Y = _net(rng, activations, backend=backend)
    before = net.parameters
    difference = fastdl.gradient_check(net, X, Y)
    assert 0 <= difference < 1e-7
    for key, value in net.parameters.items():  # the check leaves the network alone
        np.testing.assert_array_equal(value, before[key])


def test_float32_network_is_checked_in_float64(rng):
    net, X, Y = _net(rng, ["relu", "sigmoid"], dtype="float32")
    assert fastdl.gradient_check(net, X.astype(np.float32), Y) < 1e-7
    assert net.dtype == np.float32


def test_a_wrong_gradient_entry_is_caught(rng, monkeypatch):
    """Perturb one entry of backprop's gradients: the check must report a large difference."""
    net, X, Y = _net(rng, ["tanh", "tanh", "sigmoid"])
    assert fastdl.gradient_check(net, X, Y) < 1e-7
    original = nb.NumpyEngine.gradients

    def wrong_gradients(self, params, X, Y):
        J, grads = original(self, params, X, Y)
        dW, db = grads[0]
        dW = dW.copy()
        dW[0, 0] += 0.1 * (1 + abs(dW[0, 0]))
        grads[0] = (dW, db)
        return J, grads

    monkeypatch.setattr(nb.NumpyEngine, "gradients", wrong_gradients)
    assert fastdl.gradient_check(net, X, Y) > 1e-3


def test_a_wrong_activation_derivative_is_caught(rng, monkeypatch):
    """tanh' written as 1 − tanh (a classic slip) is caught through the whole network."""
    net, X, Y = _net(rng, ["tanh", "tanh", "linear"])
    assert fastdl.gradient_check(net, X, Y) < 1e-7
    monkeypatch.setitem(act.DERIVATIVES, "tanh", lambda z: 1 - np.tanh(z))
    assert fastdl.gradient_check(net, X, Y) > 1e-3


def test_a_zero_gradient_reports_zero():
    """All-zero gradients (and so zero differences) give 0, not 0/0."""
    net = fastdl.Network([2, 1], init="zeros", output="linear", backend="numpy")
    X = np.ones((2, 3))
    assert fastdl.gradient_check(net, X, np.zeros((1, 3))) == 0.0


@pytest.mark.parametrize("epsilon", [0, -1e-7, float("nan"), "1e-7"])
def test_bad_epsilon(rng, epsilon):
    net, X, Y = _net(rng, ["sigmoid"])
    with pytest.raises(ValueError, match="epsilon must be a finite positive number"):
        fastdl.gradient_check(net, X, Y, epsilon=epsilon)


def test_bad_data_is_refused(rng):
    net, X, Y = _net(rng, ["sigmoid"])
    with pytest.raises(ValueError, match=r"X has shape \(2, 5\)"):
        fastdl.gradient_check(net, X[:2], Y)


@pytest.mark.parametrize("activations", [["tanh", "sigmoid"], ["relu", "relu", "linear"]])
def test_the_check_means_the_same_on_every_backend(rng, activations):
    """Catches the check keeping a view of the compiled engine's db buffer, which its later
    cost calls overwrite: at epsilon 1e-4 the compiled check read 1.7e-5 where numpy's read
    2e-9. Same network, same data: the two backends must report the same difference."""
    net, X, Y = _net(rng, activations)
    results = {}
    for backend in fastdl.available_backends():
        probe = fastdl.Network(net.layer_dims, net.activations, backend=backend)
        probe.set_parameters(net.parameters)
        results[backend] = fastdl.gradient_check(probe, X, Y, epsilon=1e-4)
    reference = results["numpy"]
    assert reference < 1e-6
    for backend, difference in results.items():
        assert difference == pytest.approx(reference, rel=0.05, abs=1e-12), backend
