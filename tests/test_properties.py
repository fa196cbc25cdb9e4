"""Properties over random networks and random input (hypothesis).

- For random valid networks (depth 1-4, widths 1-8, every activation including leaky ReLU,
  softmax, exp outputs, float32 and float64) and random data, the compiled engine and the
  numpy reference agree on forward, cost and gradients, to the tolerances of
  tests/test_cython_backend.py.
- Their gradients pass fastdl.gradient_check in float64.
- Random invalid input (shapes, dtypes, values, hyperparameters) at any entry is a
  ValueError or a TypeError: never a crash, a leaked numpy warning or another exception.

The runs are derandomized and keep no example database, so CI sees the same cases every
time; ``FASTDL_PROPERTY_EXAMPLES`` scales the number of examples for a longer campaign.
"""
import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings, strategies as st

import fastdl
from fastdl import _numpy_backend
from fastdl.activations import NAMES, OUTPUT_NAMES

from entry_calls import READS

pytestmark = [pytest.mark.filterwarnings("error::RuntimeWarning"),
              pytest.mark.skipif("cython" not in fastdl.available_backends(),
                                 reason="compares the compiled engine with the numpy reference")]

SCALE = float(os.environ.get("FASTDL_PROPERTY_EXAMPLES", "1"))


def _profile(examples):
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, derandomize=True,
                    database=None, suppress_health_check=[HealthCheck.too_slow])


# Same formulas, so only rounding differs (see tests/test_cython_backend.py).
RTOL = {"float64": 1e-10, "float32": 1e-4}
ATOL = {"float64": 1e-12, "float32": 1e-5}


def _close(actual, expected, dtype, what):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=ATOL[dtype] * scale,
                               err_msg=what)


# -- valid networks and data ---------------------------------------------------------------
@st.composite
def cases(draw, dtypes=("float32", "float64")):
    """(network keywords, X, Y): a random valid network and data its output can fit."""
    L = draw(st.integers(1, 4))
    dims = [draw(st.integers(1, 8)) for _ in range(L + 1)]
    hidden = [draw(st.sampled_from(NAMES)) for _ in range(L - 1)]
    output = draw(st.sampled_from(OUTPUT_NAMES))
    kwargs = {"layer_dims": dims, "activations": hidden + [output],
              "dtype": draw(st.sampled_from(dtypes)),
              "leaky_slope": draw(st.sampled_from([0.0, 0.01, 0.3])),
              "init": draw(st.sampled_from(["he", "xavier", "scaled", "small"])),
              "seed": draw(st.integers(0, 2**16))}
    m = draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.standard_normal((dims[0], m))
    n_y = dims[-1]
    if output == "sigmoid":
        Y = (rng.random((n_y, m)) > 0.5).astype(float)
    elif output == "softmax":
        Y = np.eye(n_y)[:, rng.integers(0, n_y, m)]
    elif output == "tanh":
        Y = rng.uniform(-1, 1, (n_y, m))
    elif output in ("relu", "exp"):
        Y = np.abs(rng.standard_normal((n_y, m)))
    else:
        Y = rng.standard_normal((n_y, m))
    return kwargs, X, Y


def _pair(kwargs):
    """The same network on the compiled engine and on the numpy reference."""
    kwargs = dict(kwargs)
    dims = kwargs.pop("layer_dims")
    fast = fastdl.Network(dims, backend="cython", **kwargs)
    reference = fastdl.Network(dims, backend="numpy", **kwargs)
    reference.set_parameters(fast.parameters)
    return fast, reference


@_profile(120)
@given(cases())
def test_the_engines_agree(case):
    kwargs, X, Y = case
    fast, reference = _pair(kwargs)
    dtype = kwargs["dtype"]
    _close(fast.forward(X), reference.forward(X), dtype, "forward")
    _close(fast.cost(X, Y), reference.cost(X, Y), dtype, "cost")
    _close(fast.cost(X, Y, l2=0.3), reference.cost(X, Y, l2=0.3), dtype, "cost with l2")
    grads, grads_ref = fast.gradients(X, Y), reference.gradients(X, Y)
    assert grads.keys() == grads_ref.keys()
    for key in grads:
        assert grads[key].dtype == np.dtype(dtype) and grads[key].shape == grads_ref[key].shape
        _close(grads[key], grads_ref[key], dtype, key)


@_profile(40)
@given(cases(), st.sampled_from(["gd", "momentum", "adam"]), st.integers(1, 4))
def test_the_engines_train_alike(case, optimizer, batch_size):
    kwargs, X, Y = case
    fast, reference = _pair(kwargs)
    options = {"learning_rate": 0.01, "epochs": 3, "optimizer": optimizer, "batch_size": batch_size,
               "shuffle": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fastdl.DivergenceWarning)  # exp outputs may explode, alike
        costs, costs_ref = fast.fit(X, Y, **options).costs, reference.fit(X, Y, **options).costs
    assert len(costs) == len(costs_ref)
    tolerance = {"float64": 1e-8, "float32": 1e-3}[kwargs["dtype"]]  # three epochs of rounding
    np.testing.assert_allclose(costs, costs_ref, rtol=tolerance, atol=tolerance)


def _min_abs_z_at_kinks(net, X):
    """The smallest |z| entering a ReLU or leaky ReLU: where a difference quotient of width
    ε = 1e-7 would straddle the kink."""
    params = net._params
    _, caches = _numpy_backend.forward_propagation(params, X, net.activations, net.leaky_slope)
    kinks = [np.min(np.abs(Z)) for (_, _, _, Z), name in zip(caches, net.activations)
             if name in ("relu", "leaky_relu")]
    return min(kinks, default=math.inf)


@_profile(60)
@given(cases(dtypes=("float64",)), st.sampled_from(["cython", "numpy"]))
def test_the_gradients_pass_the_gradient_check(case, backend):
    kwargs, X, Y = case
    kwargs = dict(kwargs)
    net = fastdl.Network(kwargs.pop("layer_dims"), backend=backend, **kwargs)
    assume(_min_abs_z_at_kinks(net, X) > 1e-4)
    norm = math.sqrt(sum(float(np.sum(g ** 2)) for g in net.gradients(X, Y).values()))
    # The difference quotient's round-off is ~1e-16·J/ε per entry: a check of a gradient
    # that is almost zero measures only that round-off (as in tests/test_gradcheck.py).
    assume(norm > 1e-2)
    assert fastdl.gradient_check(net, X, Y) < 1e-6


# -- invalid input ------------------------------------------------------------------------------
HOSTILE_VALUES = [0.0, 1.0, -1.0, 0.5, 2.0, -7.0, 1e300, -1e300, 1e39, 5e-324, np.nan, np.inf, -np.inf]
DTYPES = ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex128", "object",
          "str", "datetime64[s]"]


@st.composite
def arrays(draw, wanted_shape):
    """Arrays of random dtype, dimensions and values, often with the shape an entry expects."""
    if draw(st.booleans()):
        shape = wanted_shape
    else:
        shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=3)))
    size = int(np.prod(shape))
    values = np.array(draw(st.lists(st.sampled_from(HOSTILE_VALUES), min_size=size, max_size=size)),
                      dtype=np.float64).reshape(shape)
    dtype = draw(st.sampled_from(DTYPES))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the casts themselves may warn (nan to int)
        if dtype == "str":
            return values.astype(str)
        if dtype == "datetime64[s]":
            return np.zeros(shape, dtype=dtype)
        if dtype == "object":
            return np.array([draw(st.sampled_from([None, "a", 1, 2.5, [1]])) for _ in range(size)]
                            + [None], dtype=object)[:size].reshape(shape)
        array = values.astype(dtype)
    if array.ndim == 2 and draw(st.booleans()):
        array = array[::-1, ::-1]  # and views, now and then
    return array


N_X, N_Y, M = 3, 2, 4


def _network(output, backend):
    return fastdl.Network([N_X, 4, N_Y], output=output, seed=0, backend=backend)


CALLS = {
    **READS,
    "step": lambda net, X, Y: net.step(X, Y, 0.1),
    "fit": lambda net, X, Y: net.fit(X, Y, learning_rate=0.1, epochs=2, batch_size=2),
    "set_parameters": lambda net, X, Y: net.set_parameters({**net.parameters, "W2": X, "b2": Y}),
    "gradient_check": lambda net, X, Y: fastdl.gradient_check(net, X, Y),
    "split": lambda net, X, Y: fastdl.train_dev_test_split(X, Y, seed=0),
}


def _outcome(call):
    """None when ``call`` returns, else the exception; DivergenceWarnings are expected news."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fastdl.DivergenceWarning)
        try:
            call()
        except (ValueError, TypeError) as error:
            assert str(error), "an error without a message"
            return error
        except fastdl.DivergenceError:  # step's documented answer to a non-finite cost
            return None
    return None


@_profile(300)
@given(st.sampled_from(sorted(CALLS)), st.sampled_from(["sigmoid", "softmax", "linear", "relu"]),
       st.sampled_from(["cython", "numpy"]), arrays((N_X, M)), arrays((N_Y, M)))
def test_random_input_is_a_value_or_type_error(entry, output, backend, X, Y):
    net = _network(output, backend)
    before = net.parameters
    error = _outcome(lambda: CALLS[entry](net, X, Y))
    event(f"{entry}: {'returned' if error is None else type(error).__name__}")
    if error is not None:  # a refusal leaves the network as it was
        for key, value in net.parameters.items():
            np.testing.assert_array_equal(value, before[key])
    for value in net.parameters.values():  # whatever happened, nothing is NaN
        assert np.isfinite(value).all()


HOSTILE_ARGUMENTS = st.sampled_from([0, -1, 1, 2, 2.5, 10**30, -10**30, 2**63, np.int64(3), np.nan,
                                     np.inf, -np.inf, 1e-300, 1e300, True, False, None, "1", "",
                                     [], [0.5], (1, 2), {}, np.array([1.0, 2.0]), 0.9, 1.0, -0.5])
FIT_OPTIONS = ["learning_rate", "epochs", "batch_size", "keep_prob", "l2", "beta", "beta1", "beta2",
               "epsilon", "lr_decay", "decay_every", "print_every", "patience", "verbose",
               "sample_weight", "callbacks", "optimizer", "first_layer", "on_divergence"]


@_profile(300)
@given(st.lists(st.tuples(st.sampled_from(FIT_OPTIONS), HOSTILE_ARGUMENTS), min_size=1,
                max_size=3).map(dict),
       st.sampled_from(["gd", "momentum", "adam"]), st.sampled_from(["cython", "numpy"]))
def test_random_hyperparameters_are_a_value_or_type_error(options, optimizer, backend):
    options = {"optimizer": optimizer, **options}
    if "epochs" in options and not (isinstance(options["epochs"], (int, np.integer))
                                    and 0 < options["epochs"] <= 3):
        options["callbacks"] = [lambda history: True]  # legal absurd epochs: stop after one
    net = fastdl.Network([N_X, 3, 3, 1], seed=0, backend=backend)
    X = np.linspace(-1, 1, N_X * M).reshape(N_X, M)
    Y = np.array([[0.0, 1.0, 1.0, 0.0]])
    if "patience" in options:
        options["dev"] = (X, Y)
    before = net.parameters
    error = _outcome(lambda: net.fit(X, Y, **options))
    event("returned" if error is None else type(error).__name__)
    if error is not None:
        for key, value in net.parameters.items():
            np.testing.assert_array_equal(value, before[key])


CONSTRUCTOR_ARGUMENTS = {
    "layer_dims": st.one_of(st.lists(HOSTILE_ARGUMENTS, min_size=0, max_size=4),
                            st.lists(st.integers(-2, 2**64), min_size=1, max_size=4), HOSTILE_ARGUMENTS),
    "hidden": st.sampled_from(NAMES + ["softmax", "exp", "", None, 3, "ReLU"]),
    "output": st.sampled_from(OUTPUT_NAMES + ["", None, 3, "Softmax"]),
    "init": st.sampled_from(["he", "zeros", "glorot", None, 1]),
    "dtype": st.sampled_from(["float32", "float64", "float16", "int8", None, "banana", object, complex]),
    "leaky_slope": HOSTILE_ARGUMENTS,
    "seed": HOSTILE_ARGUMENTS,
    "backend": st.sampled_from(["auto", "cython", "numpy", "gpu", None]),
}


@_profile(300)
@given(st.fixed_dictionaries({}, optional=CONSTRUCTOR_ARGUMENTS))
def test_random_constructor_arguments_are_a_value_or_type_error(kwargs):
    kwargs.setdefault("layer_dims", [3, 2, 1])
    layer_dims = kwargs.pop("layer_dims")
    error = _outcome(lambda: fastdl.Network(layer_dims, **kwargs))
    event("returned" if error is None else type(error).__name__)
