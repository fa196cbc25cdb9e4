"""Every validation error path: each names the argument, the expectation and the value.

And nothing is half-updated: a call that raises leaves the network as it was.
"""
import ast
import re

import numpy as np
import pytest

import fastdl

NAMES = ["leaky_relu", "linear", "relu", "sigmoid", "tanh"]


def _Network(*args, **kwargs):
    """fastdl.Network on the numpy reference backend (the one these checks guard)."""
    kwargs.setdefault("backend", "numpy")
    return fastdl.Network(*args, **kwargs)


def _net(layer_dims=(3, 2, 1), **kwargs):
    kwargs.setdefault("seed", 0)
    return _Network(list(layer_dims), **kwargs)


def _data(n_x=3, m=5, n_y=1):
    X = np.arange(n_x * m, dtype=float).reshape(n_x, m) / 10
    Y = (np.arange(n_y * m).reshape(n_y, m) % 2).astype(float)
    return X, Y


def _choices(message):
    """The list after 'expected one of' in an error message."""
    return ast.literal_eval(re.search(r"expected one of (\[.*?\])", message).group(1))


def _assert_unchanged(net, before):
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[key])


# -- layer_dims ---------------------------------------------------------------------------------
@pytest.mark.parametrize("layer_dims", ["abc", 5, None, b"12"])
def test_layer_dims_not_a_list(layer_dims):
    with pytest.raises(TypeError, match=r"layer_dims must be a list of layer sizes \[n_x, n_1, \.\.\., n_L\]"):
        _Network(layer_dims)


@pytest.mark.parametrize("layer_dims", [[], [3]])
def test_too_few_layer_dims(layer_dims):
    with pytest.raises(ValueError, match=r"layer_dims needs the input size and at least one layer"):
        _Network(layer_dims)


@pytest.mark.parametrize("layer_dims, position, what, shown", [
    ([0, 1], 0, r"n_x", "0"),
    ([3, 0, 1], 1, r"n\[1\]", "0"),
    ([3, -2, 1], 1, r"n\[1\]", "-2"),
    ([3, 2.5, 1], 1, r"n\[1\]", "2.5"),
    ([3, 4, "1"], 2, r"n\[2\]", "'1'"),
    ([3, True, 1], 1, r"n\[1\]", "True"),
    ([3, None], 1, r"n\[1\]", "None"),
], ids=["zero-input", "zero-units", "negative", "float", "string", "bool", "none"])
def test_layer_sizes_must_be_positive_ints(layer_dims, position, what, shown):
    with pytest.raises(ValueError, match=rf"layer_dims\[{position}\] \({what}\) must be a positive "
                                         rf"integer; got {re.escape(shown)}"):
        _Network(layer_dims)


# -- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize("argument", ["hidden", "output"])
@pytest.mark.parametrize("name", ["relux", "ReLU", "", "sigmoid "])
def test_unknown_activation_names_lists_sorted_choices(argument, name):
    with pytest.raises(ValueError, match=rf"{argument}={re.escape(repr(name))} is not supported; "
                                         r"expected one of \[") as info:
        _Network([3, 2, 1], **{argument: name})
    choices = _choices(str(info.value))
    assert choices == sorted(choices)
    assert set(NAMES) <= set(choices)


def test_hidden_choices_are_exactly_the_hidden_names():
    with pytest.raises(ValueError) as info:
        _Network([3, 2, 1], hidden="relux")
    assert _choices(str(info.value)) == NAMES


@pytest.mark.parametrize("name", [None, 3, np.tanh])
def test_activation_that_is_not_a_name(name):
    with pytest.raises(ValueError, match=r"hidden=.* is not supported; expected one of \["):
        _Network([3, 2, 1], hidden=name)


def test_unknown_name_in_the_activations_list():
    with pytest.raises(ValueError, match=r"activations\[1\] \(layer 2\)='relux' is not supported; "
                                         r"expected one of \["):
        _Network([3, 2, 1], ["relu", "relux"])


@pytest.mark.parametrize("activations, given", [(["relu"], 1), (["relu", "relu", "sigmoid"], 3), ([], 0)])
def test_wrong_number_of_activations(activations, given):
    with pytest.raises(ValueError, match=rf"activations has {given} names but the network has L = 2 "
                                         r"layers; give one name per layer"):
        _Network([3, 2, 1], activations)


@pytest.mark.parametrize("activations", ["relu", 5])
def test_activations_not_a_list(activations):
    with pytest.raises(TypeError, match=r"activations must be a list of 2 names, one per layer"):
        _Network([3, 2, 1], activations)


# -- other constructor arguments ---------------------------------------------------------------------
@pytest.mark.parametrize("slope", [-0.1, 1.0, 2, "0.1", True, float("nan"), None])
def test_bad_leaky_slope(slope):
    with pytest.raises(ValueError, match=rf"leaky_slope must be a number in \[0, 1\); got {re.escape(repr(slope))}"):
        _Network([3, 2, 1], hidden="leaky_relu", leaky_slope=slope)


@pytest.mark.parametrize("dtype", ["float16", "int32", "banana", np.int64, "complex128"])
def test_bad_dtype(dtype):
    with pytest.raises(ValueError, match=r"dtype=.* is not supported; expected one of \['float32', 'float64'\]"):
        _Network([3, 1], dtype=dtype)


@pytest.mark.parametrize("dtype, expected", [("float32", np.float32), (np.float32, np.float32),
                                             (np.dtype("float64"), np.float64), ("f8", np.float64)])
def test_accepted_dtype_spellings(dtype, expected):
    assert _Network([3, 1], dtype=dtype).dtype == expected


@pytest.mark.parametrize("init", ["uniform", "He", "", None])
def test_bad_init(init):
    with pytest.raises(ValueError, match=rf"init={re.escape(repr(init))} is not supported; expected one of "
                                         r"\['he', 'scaled', 'small', 'xavier', 'zeros'\]"):
        _Network([3, 1], init=init)


@pytest.mark.parametrize("backend", ["gpu", "Numpy", None])
def test_bad_backend(backend):
    with pytest.raises(ValueError, match=rf"backend={re.escape(repr(backend))} is not supported; "
                                         r"expected one of \[") as info:
        fastdl.Network([3, 1], backend=backend)
    choices = _choices(str(info.value))
    assert choices == sorted(choices) and {"auto", "numpy"} <= set(choices)


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match=rf"seed must be None or a non-negative integer; got {re.escape(repr(seed))}"):
        _Network([3, 1], seed=seed)


def test_numpy_integer_seed_is_accepted():
    a, b = _net(seed=np.int64(5)), _net(seed=5)
    np.testing.assert_array_equal(a.parameters["W1"], b.parameters["W1"])


# -- X and Y -----------------------------------------------------------------------------------------
# Each public entry point that takes data, called with (net, X, Y).
ENTRIES = {
    "forward": lambda net, X, Y: net.forward(X),
    "predict": lambda net, X, Y: net.predict(X),
    "cost": lambda net, X, Y: net.cost(X, Y),
    "gradients": lambda net, X, Y: net.gradients(X, Y),
    "step": lambda net, X, Y: net.step(X, Y, 0.1),
    "fit": lambda net, X, Y: net.fit(X, Y, learning_rate=0.1, epochs=2),
    "accuracy": lambda net, X, Y: net.accuracy(X, Y),
    "gradient_check": lambda net, X, Y: fastdl.gradient_check(net, X, Y),
}
X_ENTRIES = pytest.mark.parametrize("entry", list(ENTRIES))
Y_ENTRIES = pytest.mark.parametrize("entry", [e for e in ENTRIES if e not in ("forward", "predict")])


def _raises(entry, X, Y, error, match, **net_kwargs):
    net = _net(**net_kwargs)
    before = net.parameters
    with pytest.raises(error, match=match):
        ENTRIES[entry](net, X, Y)
    _assert_unchanged(net, before)  # nothing half-updated


@X_ENTRIES
@pytest.mark.parametrize("shape, ndim", [((3,), 1), ((3, 5, 1), 3), ((), 0)])
def test_X_not_2d(entry, shape, ndim):
    _, Y = _data()
    _raises(entry, np.zeros(shape), Y, ValueError,
            rf"X must be 2-D with one example per column; got {ndim}-D shape {re.escape(str(shape))}")


@X_ENTRIES
def test_1d_X_hints_at_both_readings(entry):
    _, Y = _data()
    _raises(entry, np.zeros(3), Y, ValueError,
            r"got 1-D shape \(3,\) \(one example with n_x features: X\.reshape\(-1, 1\); "
            r"m examples of one feature: X\.reshape\(1, -1\)\)")


@Y_ENTRIES
def test_Y_not_2d(entry):
    X, Y = _data()
    _raises(entry, X, Y[0], ValueError,
            r"Y must be 2-D with one example per column; got 1-D shape \(5,\) "
            r"\(for a single output row use Y\.reshape\(1, -1\)\)")


@X_ENTRIES
def test_wrong_n_x(entry):
    X, Y = _data(n_x=4)
    _raises(entry, X, Y, ValueError, r"X has shape \(4, 5\) but the network expects \(n_x, m\) = \(3, m\)$")


@X_ENTRIES
def test_transposed_X_gets_a_hint(entry):
    X, Y = _data()
    _raises(entry, X.T, Y, ValueError,
            r"X has shape \(5, 3\) but the network expects \(n_x, m\) = \(3, m\); fastdl takes one "
            r"example per column, so pass X\.T")


@Y_ENTRIES
def test_mismatched_m(entry):
    X, _ = _data()
    _, Y = _data(m=6)
    _raises(entry, X, Y, ValueError, r"Y has shape \(1, 6\) but expected \(n_y, m\) = \(1, 5\)$")


@Y_ENTRIES
def test_transposed_Y_gets_a_hint(entry):
    X, Y = _data()
    _raises(entry, X, Y.T, ValueError,
            r"Y has shape \(5, 1\) but expected \(n_y, m\) = \(1, 5\); fastdl takes one example per "
            r"column, so pass Y\.T")


@Y_ENTRIES
def test_wrong_n_y(entry):
    X, Y = _data(n_y=2)
    _raises(entry, X, Y, ValueError, r"Y has shape \(2, 5\) but expected \(n_y, m\) = \(1, 5\)")


@X_ENTRIES
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_X_not_finite(entry, bad):
    X, Y = _data()
    X[2, 3] = bad
    _raises(entry, X, Y, ValueError, r"X holds NaN or infinite values, e\.g\. at \[2, 3\]")


@Y_ENTRIES
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_Y_not_finite(entry, bad):
    X, Y = _data()
    Y[0, 4] = bad
    _raises(entry, X, Y, ValueError, r"Y holds NaN or infinite values, e\.g\. at \[0, 4\]")


@X_ENTRIES
def test_empty_X(entry):
    _raises(entry, np.zeros((3, 0)), np.zeros((1, 0)), ValueError,
            r"X is empty: it has shape \(3, 0\), with no examples \(m = 0\)")


@Y_ENTRIES
def test_empty_Y(entry):
    X, _ = _data()
    _raises(entry, X, np.zeros((1, 0)), ValueError, r"Y is empty: it has shape \(1, 0\)")


@X_ENTRIES
@pytest.mark.parametrize("X", [
    np.full((3, 5), "a"),
    np.zeros((3, 5), dtype=object),
    np.zeros((3, 5), dtype=complex),
    np.zeros((3, 5), dtype="datetime64[s]"),
], ids=["str", "object", "complex", "datetime"])
def test_non_numeric_X(entry, X):
    _, Y = _data()
    _raises(entry, X, Y, TypeError, rf"X must hold real numbers; got an array of dtype {re.escape(str(X.dtype))}")


@X_ENTRIES
def test_ragged_X(entry):
    _, Y = _data()
    _raises(entry, [[1.0, 2.0], [3.0]], Y, TypeError, r"X must be a numeric 2-D array")


@Y_ENTRIES
def test_non_numeric_Y(entry):
    X, _ = _data()
    _raises(entry, X, np.full((1, 5), "1"), TypeError, r"Y must hold real numbers; got an array of dtype <U1")


def test_boolean_and_integer_data_are_accepted():
    net = _net()
    X = np.ones((3, 4), dtype=np.int32)
    Y = np.array([[True, False, True, False]])
    assert np.isfinite(net.cost(X, Y))


RANGE_CASES = [
    ("sigmoid", 2.0, "0.0", "1.0"),
    ("sigmoid", -1.0, "0.0", "1.0"),
    ("tanh", 1.5, "-1.0", "1.0"),
    ("tanh", -1.01, "-1.0", "1.0"),
    ("relu", -0.5, "0.0", "inf"),
]


# accuracy refuses a non-sigmoid network before it looks at Y, so it is paired with sigmoid only.
@pytest.mark.parametrize("entry, output, value, low, high", [
    pytest.param(entry, *case, id=f"{entry}-{case[0]}-{case[1]}")
    for entry in ENTRIES if entry not in ("forward", "predict")
    for case in RANGE_CASES if entry != "accuracy" or case[0] == "sigmoid"
])
def test_Y_outside_the_output_range(entry, output, value, low, high):
    X, Y = _data()
    Y[0, 3] = value
    match = (rf"Y holds {re.escape(repr(value))} at \[0, 3\], outside the range \[{low}, {high}\] "
             rf"of the '{output}' output layer")
    if output == "sigmoid":
        match += "; use labels 0 and 1"
    _raises(entry, X, Y, ValueError, match, output=output)


@pytest.mark.parametrize("output, Y", [("tanh", [[-1.0, 1.0]]), ("relu", [[0.0, 7.0]]),
                                       ("linear", [[-50.0, 50.0]]), ("leaky_relu", [[-3.0, 3.0]]),
                                       ("sigmoid", [[0.0, 1.0]])])
def test_Y_inside_the_output_range_is_accepted(output, Y):
    assert np.isfinite(_net(output=output).cost(np.ones((3, 2)), Y))


# -- hyperparameters -------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["step", "fit"])
@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1", True, None])
def test_bad_learning_rate(how, lr):
    X, Y = _data()
    net = _net()
    before = net.parameters
    with pytest.raises(ValueError, match=rf"learning_rate must be a finite positive number; got {re.escape(repr(lr))}"):
        if how == "step":
            net.step(X, Y, lr)
        else:
            net.fit(X, Y, learning_rate=lr, epochs=2)
    _assert_unchanged(net, before)


@pytest.mark.parametrize("argument", ["epochs", "print_every"])
@pytest.mark.parametrize("value", [0, -3, 2.5, "10", True, float("inf")])
def test_bad_epochs_and_print_every(argument, value):
    X, Y = _data()
    net = _net()
    before = net.parameters
    kwargs = {"epochs": 2, argument: value}
    with pytest.raises(ValueError, match=rf"{argument} must be a positive integer; got {re.escape(repr(value))}"):
        net.fit(X, Y, learning_rate=0.1, **kwargs)
    _assert_unchanged(net, before)


# -- set_parameters ----------------------------------------------------------------------------------------
def _big_net():
    return _net([12, 20, 7, 5, 1])  # the notes' [n_x, 20, 7, 5, 1]


def test_set_parameters_not_a_dict():
    net = _net()
    with pytest.raises(TypeError, match=r"parameters must be a dict like \{'W1': \.\.\., 'b1': \.\.\.\}; got list"):
        net.set_parameters([np.zeros((2, 3))])


def test_set_parameters_missing_keys():
    net = _big_net()
    params = net.parameters
    del params["b2"], params["W4"]
    with pytest.raises(ValueError, match=r"parameters do not match a network with L = 4 layers: "
                                         r"missing \['W4', 'b2'\], unexpected \[\]"):
        net.set_parameters(params)


def test_set_parameters_extra_keys():
    net = _big_net()
    params = net.parameters
    params["W5"] = np.zeros((1, 1))
    params["gamma"] = 1.0
    with pytest.raises(ValueError, match=r"missing \[\], unexpected \['W5', 'gamma'\]"):
        net.set_parameters(params)


@pytest.mark.parametrize("key, shape, message", [
    ("W2", (7, 21), r"W2 has shape \(7, 21\) but layer 2 expects \(7, 20\) = \(n\[2\], n\[1\]\)"),
    ("W2", (20, 7), r"W2 has shape \(20, 7\) but layer 2 expects \(7, 20\) = \(n\[2\], n\[1\]\)"),
    ("W1", (20,), r"W1 has shape \(20,\) but layer 1 expects \(20, 12\) = \(n\[1\], n\[0\]\)"),
    ("b3", (5,), r"b3 has shape \(5,\) but layer 3 expects \(5, 1\) = \(n\[3\], 1\)"),
    ("b4", (1, 5), r"b4 has shape \(1, 5\) but layer 4 expects \(1, 1\) = \(n\[4\], 1\)"),
])
def test_set_parameters_wrong_shapes(key, shape, message):
    net = _big_net()
    before = net.parameters
    params = net.parameters
    params["W1"] = params["W1"] + 1  # a valid change that must not be applied either
    params[key] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        net.set_parameters(params)
    _assert_unchanged(net, before)


@pytest.mark.parametrize("value, error, message", [
    (np.full((2, 3), "x"), TypeError, r"W1 must hold real numbers; got dtype <U1"),
    (np.zeros((2, 3), dtype=complex), TypeError, r"W1 must hold real numbers; got dtype complex128"),
    (np.full((2, 3), np.nan), ValueError, r"W1 holds NaN or infinite values"),
    (np.full((2, 3), np.inf), ValueError, r"W1 holds NaN or infinite values"),
    (np.ma.zeros((2, 3)), TypeError, r"W1 is a masked array"),
], ids=["str", "complex", "nan", "inf", "masked"])
def test_set_parameters_bad_values(value, error, message):
    net = _net()
    before = net.parameters
    params = net.parameters
    params["b2"] = params["b2"] + 1
    params["W1"] = value
    with pytest.raises(error, match=message):
        net.set_parameters(params)
    _assert_unchanged(net, before)


# -- nothing half-updated -------------------------------------------------------------------------------
def test_failed_fit_leaves_the_network_alone():
    X, Y = _data()
    net = _net()
    before = net.parameters
    with pytest.raises(ValueError):
        net.fit(X, Y * 3, learning_rate=0.1, epochs=5)  # Y outside [0, 1]
    _assert_unchanged(net, before)
    net.fit(X, Y, learning_rate=0.1, epochs=1)  # and it still works
    assert not np.array_equal(net.parameters["W1"], before["W1"])


# -- predict_proba -----------------------------------------------------------------------------------
@pytest.mark.parametrize("output", ["linear", "tanh", "relu", "leaky_relu"])
def test_predict_proba_on_a_non_sigmoid_output(output):
    net = _net(output=output)
    with pytest.raises(ValueError, match=rf"predict_proba needs a 'sigmoid'.* output layer; this "
                                         rf"network's output is '{output}'"):
        net.predict_proba(np.zeros((3, 2)))


def test_set_parameters_refuses_values_that_overflow_float32():
    """Catches the finiteness check made before the cast: 1e39 became inf in a float32
    network without a word."""
    net = _net(dtype="float32")
    before = net.parameters
    params = net.parameters
    params["W1"] = np.full((2, 3), 1e39)
    with pytest.raises(ValueError, match=r"W1 holds 1e\+39 at \[0, 0\], beyond the range of "
                                         r"float32 \(±3.4e\+38\)"):
        net.set_parameters(params)
    _assert_unchanged(net, before)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e != "gradient_check"])  # float64 inside
def test_X_beyond_float32_is_named_as_such(entry):
    """Catches a finite float64 X beyond float32's range reported as 'NaN or infinite'."""
    X, Y = _data()
    X[1, 2] = -1e39
    _raises(entry, X, Y, ValueError, r"X holds -1e\+39 at \[1, 2\], beyond the range of float32 "
                                     r"\(±3.4e\+38\); rescale X or use dtype='float64'",
            dtype="float32")


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("backend", fastdl.available_backends())
def test_matrix_subclasses_are_plain_arrays(backend):
    """Catches np.matrix labels reaching the numpy engine, where '*' multiplies matrices:
    every result must equal the plain-array one."""
    X, Y = _data()
    net, plain = _net(backend=backend), _net(backend=backend)
    assert net.cost(np.matrix(X), np.matrix(Y)) == plain.cost(X, Y)
    grads, expected = net.gradients(np.matrix(X), np.matrix(Y)), plain.gradients(X, Y)
    for key, value in expected.items():
        assert type(grads[key]) is np.ndarray
        np.testing.assert_array_equal(grads[key], value)
    net.fit(np.matrix(X), np.matrix(Y), learning_rate=0.1, epochs=3)
    plain.fit(X, Y, learning_rate=0.1, epochs=3)
    assert type(net.forward(np.matrix(X))) is np.ndarray
    np.testing.assert_array_equal(net.forward(np.matrix(X)), plain.forward(X))


@X_ENTRIES
def test_masked_arrays_are_refused(entry):
    """A masked array's mask would be dropped silently (training on the hidden values)."""
    X, Y = _data()
    _raises(entry, np.ma.masked_greater(X, 0.5), Y, TypeError, "X is a masked array")


@pytest.mark.parametrize("masks", [5, np.ones((4, 6)), "mask"], ids=["int", "array", "str"])
def test_dropout_masks_must_be_a_list_per_hidden_layer(masks):
    """Catches an int reaching len() ("object of type 'int' has no len()") or an array
    being taken row by row as masks."""
    net = fastdl.Network([3, 4, 1], seed=0)
    X, Y = np.ones((3, 6)), np.ones((1, 6))
    with pytest.raises(TypeError, match=r"dropout_masks must be a list with one mask .* per hidden layer \(1\)"):
        net.cost(X, Y, dropout_masks=masks)
