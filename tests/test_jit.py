"""Custom activations compiled by Numba (fastdl.jit), on every available backend."""
import math
import sys
import warnings

import numpy as np
import pytest

import fastdl
from fastdl.jit import NumbaCacheWarning, custom_activation

BACKENDS = fastdl.available_backends()


def _softsign(z):
    return z / (1 + abs(z))


def _softsign_prime(z):
    return 1 / (1 + abs(z)) ** 2


def _swish(z):
    return z / (1 + math.exp(-z))


def _swish_prime(z):
    s = 1 / (1 + math.exp(-z))
    return s + z * s * (1 - s)


@pytest.fixture(scope="module")
def softsign():
    return custom_activation("softsign", _softsign, _softsign_prime)


@pytest.fixture(scope="module")
def swish():
    return custom_activation("swish", _swish, _swish_prime)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_functions_keep_dtype_and_match_python(softsign, dtype, rng):
    z = rng.standard_normal(50).astype(dtype)
    assert softsign(z).dtype == dtype and softsign.prime(z).dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(softsign(z), [_softsign(float(v)) for v in z], rtol=tol)
    np.testing.assert_allclose(softsign.prime(z), [_softsign_prime(float(v)) for v in z], rtol=tol)
    g, g_prime = softsign.addresses(dtype)
    assert isinstance(g, int) and isinstance(g_prime, int) and g != g_prime


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("where", ["hidden", "output"])
def test_custom_activation_gradients_pass_gradient_check(backend, where, swish, rng):
    X = rng.standard_normal((3, 9))
    if where == "hidden":
        net = fastdl.Network([3, 5, 4, 1], hidden=swish, seed=1, backend=backend)
        Y = (X[:1] > 0).astype(float)
    else:
        net = fastdl.Network([3, 5, 2], hidden="tanh", output=swish, seed=1, backend=backend)
        Y = rng.standard_normal((2, 9))
    assert fastdl.gradient_check(net, X, Y) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_custom_activation_matches_the_same_builtin(backend, dtype, rng):
    """A custom tanh must give what the built-in tanh gives, through every backend."""
    custom_tanh = custom_activation("my_tanh", lambda z: math.tanh(z), lambda z: 1 - math.tanh(z) ** 2)
    X = rng.standard_normal((3, 11)).astype(dtype)
    Y = (X[:1] > 0).astype(dtype)
    a = fastdl.Network([3, 6, 1], hidden=custom_tanh, seed=2, dtype=dtype, backend=backend)
    b = fastdl.Network([3, 6, 1], hidden="tanh", seed=2, dtype=dtype, backend=backend)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(a.forward(X), b.forward(X), rtol=rtol)
    a.fit(X, Y, learning_rate=0.5, epochs=5)
    b.fit(X, Y, learning_rate=0.5, epochs=5)
    for key, value in a.parameters.items():
        assert value.dtype == np.dtype(dtype)
        np.testing.assert_allclose(value, b.parameters[key], rtol=rtol, atol=rtol, err_msg=key)


def test_custom_network_trains_and_round_trips_through_a_file(softsign, tmp_path):
    X, Y = fastdl.datasets.make_planar(m=200)
    net = fastdl.Network([2, 8, 1], hidden=softsign, seed=0)
    history = net.fit(X, Y, learning_rate=0.5, epochs=1500)
    assert history.costs[-1] < history.costs[0] and net.accuracy(X, Y) > 0.8
    path = tmp_path / "softsign.npz"
    net.save(path)
    with pytest.raises(ValueError, match=r"custom activations \['softsign'\]; pass them"):
        fastdl.load(path)
    again = fastdl.load(path, custom_activations={"softsign": softsign})
    np.testing.assert_array_equal(again.forward(X), net.forward(X))


def test_uncacheable_function_falls_back_with_one_warning():
    namespace = {}
    exec("def f(z):\n    return 2.0 * z\ndef d(z):\n    return 2.0\n", namespace)  # no source file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        act = custom_activation("double", namespace["f"], namespace["d"])
    assert [w.category for w in caught] == [NumbaCacheWarning]
    np.testing.assert_array_equal(act(np.array([1.5])), [3.0])


def test_cache_off_compiles_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        act = custom_activation("cube", lambda z: z ** 3, lambda z: 3 * z ** 2, cache=False)
    np.testing.assert_array_equal(act(np.array([2.0])), [8.0])


def test_uncompilable_function_names_the_problem():
    with pytest.raises(TypeError, match="'bad': Numba cannot compile its function"):
        custom_activation("bad", lambda z: z.no_such_attribute, lambda z: 1.0, cache=False)


@pytest.mark.parametrize("name, function, derivative, error, match", [
    ("has space", _softsign, _softsign_prime, ValueError, "identifier-like"),
    ("ok", 3, _softsign_prime, TypeError, "function must be a Python function"),
    ("ok", math.tanh, _softsign_prime, TypeError, r"wrap built-ins as lambda z: math.tanh\(z\)"),
])
def test_bad_arguments(name, function, derivative, error, match):
    with pytest.raises(error, match=match):
        custom_activation(name, function, derivative)


def test_without_numba_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` fail
    with pytest.raises(ImportError, match=r"pip install 'fastdl\[jit\]'"):
        custom_activation("softsign", _softsign, _softsign_prime)


# -- a custom activation that raises -----------------------------------------------------
def _capped(z):
    if z > 2.0:
        raise ValueError("z is above 2")
    return z


def _one(z):
    return 1.0


def _identity(z):
    return z


def _capped_one(z):
    if z > 2.0:
        raise ValueError("z is above 2")
    return 1.0


@pytest.fixture(scope="module")
def raisers():
    return {"function": custom_activation("capped", _capped, _one),
            "derivative": custom_activation("capped_slope", _identity, _capped_one)}


def _growing_problem(raisers, which, where, backend):
    """A regression that starts with z = 2 in both layers and pushes z up: the custom
    activation's 'z > 2' fails from the second step on."""
    act = raisers[which]
    activations = [act, "linear"] if where == "hidden" else ["linear", act]
    net = fastdl.Network([1, 1, 1], activations, seed=0, backend=backend)
    net.set_parameters({"W1": [[1.0]], "b1": [[1.0]], "W2": [[1.0]], "b2": [[0.0]]})
    X = np.ones((1, 30))
    return net, X, 10 * X


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("where", ["hidden", "output"])
@pytest.mark.parametrize("which", ["function", "derivative"])
def test_an_exception_in_a_custom_activation_reaches_the_caller(raisers, which, where, backend,
                                                                capfd):
    """Catches the compiled engine turning the exception into 0 for those entries (with an
    'Exception ignored' line per element) and training on: the call must raise the user's
    own exception, as the numpy engine does, and update nothing."""
    net, X, _ = _growing_problem(raisers, which, where, backend)
    big = 5.0 * np.ones((1, 4))
    before = net.parameters
    if which == "function":
        with pytest.raises(ValueError, match="z is above 2"):
            net.forward(big)
        with pytest.raises(ValueError, match="z is above 2"):
            net.cost(big, big)
    else:  # g' is only needed for gradients
        net.cost(big, big)
    with pytest.raises(ValueError, match="z is above 2"):
        net.gradients(big, big)
    with pytest.raises(ValueError, match="z is above 2"):
        net.step(big, big, 0.1)
    for key, value in before.items():
        np.testing.assert_array_equal(net.parameters[key], value, err_msg=key)
    assert "Exception ignored" not in capfd.readouterr().err


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("where", ["hidden", "output"])
@pytest.mark.parametrize("which", ["function", "derivative"])
def test_fit_stops_on_a_custom_activation_error_and_keeps_the_last_step(raisers, which, where,
                                                                         backend):
    """Catches fit ending 'finished' after a custom activation raised: the exception must
    reach the caller, the network keep the parameters of its last complete step, and the
    History (net.history) say why it stopped."""
    net, X, Y = _growing_problem(raisers, which, where, backend)
    seen = []
    with pytest.raises(ValueError, match="z is above 2"):
        net.fit(X, Y, learning_rate=0.01, epochs=50,
                callbacks=[lambda history: seen.append(net.parameters)])
    history = net.history
    assert history.stop_reason == "error" and history.error == "ValueError: z is above 2"
    assert 0 < len(seen) == history.iterations < 50  # it trained, then stopped part-way
    for key, value in seen[-1].items():
        np.testing.assert_array_equal(net.parameters[key], value, err_msg=key)
    net.forward(X[:, :1] * 0)  # still usable


def test_a_custom_activation_cannot_take_a_builtin_name():
    """Catches custom_activation('sigmoid', ...): model files name layers' activations, so
    after load the built-in sigmoid output became the custom one, with the squared error."""
    with pytest.raises(ValueError, match="name 'sigmoid' is a built-in activation's"):
        custom_activation("sigmoid", _softsign, _softsign_prime)


def test_two_custom_activations_with_one_name_are_refused(softsign):
    """Catches two different activations under one name: a model file could not tell which
    layer had which."""
    other = custom_activation("softsign", _identity, _one)
    with pytest.raises(ValueError, match="two different custom activations are both named 'softsign'"):
        fastdl.Network([2, 3, 1], [softsign, other])
    fastdl.Network([2, 3, 3, 1], [softsign, softsign, "sigmoid"])  # the same one twice is fine


def test_a_custom_hidden_layer_keeps_the_builtin_output_through_a_file(softsign, tmp_path):
    net = fastdl.Network([2, 3, 1], hidden=softsign, output="sigmoid", seed=0)
    net.save(tmp_path / "m.npz")
    again = fastdl.load(tmp_path / "m.npz", custom_activations={"softsign": softsign})
    assert again.activations == [softsign, "sigmoid"] and again.loss == "cross_entropy"


def test_a_custom_activation_pickles_as_its_recipe(softsign, rng):
    import pickle

    again = pickle.loads(pickle.dumps(softsign))
    z = rng.standard_normal(7)
    assert again.name == "softsign"
    np.testing.assert_array_equal(again(z), softsign(z))
    np.testing.assert_array_equal(again.prime(z), softsign.prime(z))
