"""``fastdl.activations``: every function and derivative, against closed forms and differences."""
import warnings

import numpy as np
import pytest

from fastdl import activations as act

NAMES = ["leaky_relu", "linear", "relu", "sigmoid", "tanh"]

# Closed forms written independently of the module, straight from the notes.
CLOSED_FORMS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
}
CLOSED_DERIVATIVES = {
    "sigmoid": lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
    "tanh": lambda z: 4 / (np.exp(z) + np.exp(-z)) ** 2,  # sech²
    "relu": lambda z: np.where(z > 0, 1.0, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.01),
    "linear": lambda z: np.ones_like(z),
}
TOL = {np.float32: 1e-6, np.float64: 1e-13}


def _z(rng, dtype=np.float64, shape=(4, 25)):
    """Random z in [-5, 5], none within 1e-3 of the ReLU kink."""
    z = rng.uniform(-5, 5, size=shape)
    z[np.abs(z) < 1e-3] = 0.5
    return z.astype(dtype)


def test_names_and_tables_agree():
    assert act.NAMES == NAMES
    assert sorted(act.ACTIVATIONS) == NAMES
    assert sorted(act.DERIVATIVES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_function_matches_closed_form(rng, name):
    z = _z(rng)
    np.testing.assert_allclose(act.ACTIVATIONS[name](z), CLOSED_FORMS[name](z), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_closed_form(rng, name):
    z = _z(rng)
    np.testing.assert_allclose(act.DERIVATIVES[name](z), CLOSED_DERIVATIVES[name](z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_differences(rng, name):
    z = _z(rng)
    h = 1e-6
    g = act.ACTIVATIONS[name]
    numeric = (g(z + h) - g(z - h)) / (2 * h)
    np.testing.assert_allclose(act.DERIVATIVES[name](z), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_get_returns_the_pair(name):
    entry = act.get(name)
    assert entry.name == name
    assert entry.function is act.ACTIVATIONS[name]
    assert entry.derivative is act.DERIVATIVES[name]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_dtype_and_shape_are_kept(rng, name, dtype):
    z = _z(rng, dtype)
    for f in (act.ACTIVATIONS[name], act.DERIVATIVES[name]):
        out = f(z)
        assert out.dtype == dtype
        assert out.shape == z.shape
    np.testing.assert_allclose(act.ACTIVATIONS[name](z), CLOSED_FORMS[name](z.astype(np.float64)),
                               rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("name", NAMES)
def test_integer_input_becomes_float64(name):
    z = np.array([[-2, -1, 1, 2]])
    assert act.ACTIVATIONS[name](z).dtype == np.float64
    assert act.DERIVATIVES[name](z).dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
def test_input_is_not_modified_or_aliased(rng, name):
    z = _z(rng)
    before = z.copy()
    for f in (act.ACTIVATIONS[name], act.DERIVATIVES[name]):
        out = f(z)
        assert not np.shares_memory(out, z)
    np.testing.assert_array_equal(z, before)


def test_sigmoid_is_stable_at_large_magnitude():
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            s = act.sigmoid(z)
            d = act.sigmoid_derivative(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(d))
    assert d[0] == 0.0 and d[-1] == 0.0
    np.testing.assert_allclose(s[1], np.exp(-50.0), rtol=1e-12)  # no cancellation for z ≪ 0


def test_sigmoid_float32_is_stable_at_large_magnitude():
    z = np.array([-1000.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = act.sigmoid(z)
    np.testing.assert_array_equal(s, np.array([0.0, 1.0], dtype=np.float32))
    assert s.dtype == np.float32


def test_seed_values_at_zero():
    """σ'(0) = 1/4 and tanh'(0) = 1 (the notes' worked values); σ(0) = 1/2, tanh(0) = 0."""
    assert act.sigmoid(0.0) == 0.5
    assert act.sigmoid_derivative(0.0) == 0.25
    assert act.tanh(0.0) == 0.0
    assert act.tanh_derivative(0.0) == 1.0


def test_saturation_flattens_sigmoid_and_tanh():
    """The notes: at z = ±10 the slopes of σ and tanh are ≈ 0."""
    for z in (-10.0, 10.0):
        assert act.sigmoid_derivative(z) < 5e-5
        assert act.tanh_derivative(z) < 1e-8


def test_relu_derivative_is_one_or_zero():
    z = np.array([-3.0, -1e-12, 0.0, 1e-12, 3.0])
    np.testing.assert_array_equal(act.relu(z), [0.0, 0.0, 0.0, 1e-12, 3.0])
    # The notes: at the kink z = 0 either 1 or 0 works; fastdl uses 0.
    np.testing.assert_array_equal(act.relu_derivative(z), [0.0, 0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize("slope", [0.01, 0.0, 0.2, 0.5])
def test_leaky_relu_slope(slope):
    z = np.array([-4.0, -1.0, 2.0])
    np.testing.assert_allclose(act.leaky_relu(z, slope), [-4.0 * slope, -1.0 * slope, 2.0], rtol=1e-15)
    np.testing.assert_array_equal(act.leaky_relu_derivative(z, slope), [slope, slope, 1.0])


def test_leaky_relu_default_slope_is_001():
    assert act.DEFAULT_LEAKY_SLOPE == 0.01
    assert act.leaky_relu(np.array([-2.0]))[0] == pytest.approx(-0.02, rel=1e-15)
    assert act.leaky_relu_derivative(np.array([-2.0]))[0] == 0.01


def test_derivatives_from_the_output_form(rng):
    """σ' = a(1 − a) and tanh' = 1 − a², the forms written from the output."""
    z = _z(rng)
    a = act.sigmoid(z)
    np.testing.assert_allclose(act.sigmoid_derivative(z), a * (1 - a), rtol=1e-14)
    t = act.tanh(z)
    np.testing.assert_allclose(act.tanh_derivative(z), 1 - t * t, rtol=1e-14)


def test_resolve_applies_the_leaky_slope():
    g, g_prime = act.resolve("leaky_relu", 0.3)
    np.testing.assert_allclose(g(np.array([-1.0, 1.0])), [-0.3, 1.0])
    np.testing.assert_allclose(g_prime(np.array([-1.0, 1.0])), [0.3, 1.0])
    assert act.resolve("tanh") == (act.tanh, act.tanh_derivative)


@pytest.mark.parametrize("name", ["relux", "ReLU", "", "softmax"])
def test_get_unknown_name(name):
    with pytest.raises(ValueError, match=r"is not supported; expected one of \['leaky_relu', 'linear', "
                                         r"'relu', 'sigmoid', 'tanh'\]"):
        act.get(name)


def test_get_unknown_name_names_it():
    with pytest.raises(ValueError, match="activation 'relux' is not supported"):
        act.get("relux")
