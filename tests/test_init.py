"""Weight initialisation: scales, zero biases, seeds, and float32/float64 agreement."""
import numpy as np
import pytest

import fastdl

N_PREV, N = 800, 300  # a wide layer: 240,000 draws, so the sample std is within ~0.3%

EXPECTED_STD = {
    "small": lambda n_prev, n: 0.01,
    "he": lambda n_prev, n: np.sqrt(2 / n_prev),
    "xavier": lambda n_prev, n: np.sqrt(2 / (n_prev + n)),
    "scaled": lambda n_prev, n: 1 / np.sqrt(n_prev),
}
SCHEMES = ["he", "scaled", "small", "xavier", "zeros"]


def _net(layer_dims, **kwargs):
    kwargs.setdefault("backend", "numpy")
    return fastdl.Network(layer_dims, **kwargs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("init", list(EXPECTED_STD))
def test_scale_on_a_wide_layer(init, dtype, seed):
    W = _net([N_PREV, N], init=init, seed=seed, dtype=dtype).parameters["W1"]
    expected = EXPECTED_STD[init](N_PREV, N)
    assert W.std() == pytest.approx(expected, rel=0.02)
    assert abs(W.mean()) < 0.02 * expected
    # Normal draws: about 68.3% within one standard deviation.
    assert np.mean(np.abs(W) < expected) == pytest.approx(0.683, abs=0.01)


@pytest.mark.parametrize("init", list(EXPECTED_STD))
def test_each_layer_scales_with_its_own_fan_in(init, seed):
    dims = [600, 400, 200, 100]
    params = _net(dims, init=init, seed=seed).parameters
    for l in range(1, len(dims)):
        expected = EXPECTED_STD[init](dims[l - 1], dims[l])
        assert params[f"W{l}"].std() == pytest.approx(expected, rel=0.05), f"W{l}"


@pytest.mark.parametrize("init", SCHEMES)
def test_biases_start_at_zero(init, seed):
    dims = [5, 1] if init == "zeros" else [5, 4, 3, 1]
    params = _net(dims, init=init, seed=seed).parameters
    for l in range(1, len(dims)):
        b = params[f"b{l}"]
        assert b.shape == (dims[l], 1)
        np.testing.assert_array_equal(b, 0.0)


def test_zeros_gives_zero_weights():
    params = _net([7, 1], init="zeros", seed=0).parameters
    np.testing.assert_array_equal(params["W1"], 0.0)


@pytest.mark.parametrize("init", list(EXPECTED_STD))
def test_random_schemes_break_symmetry(init, seed):
    """No two units of a layer start equal (the reason the notes want random init)."""
    W = _net([4, 6, 1], init=init, seed=seed).parameters["W1"]
    assert len({tuple(row) for row in W}) == 6


@pytest.mark.parametrize("init", SCHEMES[:-1])
def test_same_seed_same_weights(init, seed):
    a = _net([5, 4, 2], init=init, seed=seed).parameters
    b = _net([5, 4, 2], init=init, seed=seed).parameters
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_other_seed_or_no_seed_other_weights(seed):
    a = _net([5, 4, 2], seed=seed).parameters["W1"]
    assert not np.array_equal(a, _net([5, 4, 2], seed=seed + 1).parameters["W1"])
    assert not np.array_equal(_net([5, 4, 2]).parameters["W1"], _net([5, 4, 2]).parameters["W1"])


@pytest.mark.parametrize("init", SCHEMES[:-1])
def test_float32_and_float64_from_one_seed_agree_after_rounding(init, seed):
    p32 = _net([6, 5, 3], init=init, seed=seed, dtype="float32").parameters
    p64 = _net([6, 5, 3], init=init, seed=seed, dtype="float64").parameters
    for key in p64:
        assert p32[key].dtype == np.float32 and p64[key].dtype == np.float64
        np.testing.assert_array_equal(p32[key], p64[key].astype(np.float32))


def test_the_network_keeps_init_and_seed():
    net = _net([3, 2, 1], init="xavier", seed=11)
    assert (net.init, net.seed) == ("xavier", 11)


@pytest.mark.parametrize("layer_dims", [[3, 2, 1], [3, 2, 2, 1]])
def test_zeros_with_hidden_layers_is_refused(layer_dims):
    L = len(layer_dims) - 1
    with pytest.raises(ValueError, match=rf"init='zeros' cannot train a network with hidden layers "
                                         rf"\(L = {L}\): every unit of a layer would stay identical; "
                                         r"use one of \['he', 'scaled', 'small', 'xavier'\]"):
        _net(layer_dims, init="zeros")


def test_why_zeros_is_refused_symmetry_never_breaks(rng):
    """With equal weights (zero is one case) every hidden unit gets the same gradient, so
    the units stay equal however long it trains."""
    net = _net([3, 4, 1], hidden="tanh", seed=0)
    net.set_parameters({"W1": np.full((4, 3), 0.5), "b1": np.zeros((4, 1)),
                        "W2": np.full((1, 4), 0.3), "b2": np.zeros((1, 1))})
    X = rng.normal(size=(3, 20))
    Y = (rng.random((1, 20)) > 0.5).astype(float)
    net.fit(X, Y, learning_rate=0.5, epochs=30)
    W1 = net.parameters["W1"]
    assert not np.array_equal(W1, np.full((4, 3), 0.5))  # it did train
    for row in W1[1:]:
        np.testing.assert_array_equal(row, W1[0])
    assert np.all(net.parameters["W2"] == net.parameters["W2"][0, 0])
