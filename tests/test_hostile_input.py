"""Hostile input at every public entry, on every backend: the systematic matrix.

Each case is one input at one entry (Network(...), fit, forward, predict, predict_proba,
accuracy, cost, gradients, step, set_parameters, fastdl.workflow, the command line, the
scikit-learn estimators, fastdl.compat). It must either be refused with a ValueError or
TypeError whose message names the argument (asserted by a regex), leaving the network as it
was, or be handled correctly, which is then asserted too: a view, an integer array, a
read-only or memory-mapped X trains and predicts exactly like its contiguous float copy,
and m = 1 works. numpy's RuntimeWarnings (an overflow deep inside) count as failures here.
tests/test_validation.py holds the detailed message tests of the numpy backend; this file
crosses inputs with entries and backends.
"""
import warnings

import numpy as np
import pytest

import fastdl
from cli_helpers import assert_one_line_error, run, write_csv
from entry_calls import READS

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

BACKENDS = fastdl.available_backends()
N_X, M = 3, 6


def _net(layer_dims=(N_X, 4, 1), **kwargs):
    kwargs.setdefault("seed", 0)
    return fastdl.Network(list(layer_dims), **kwargs)


@pytest.fixture
def data(rng):
    """A float64 X (3, 6) and 0/1 labels Y (1, 6) holding both classes."""
    X = rng.standard_normal((N_X, M))
    Y = np.array([[0.0, 1.0, 0.0, 1.0, 1.0, 0.0]])
    return X, Y


def _assert_same_params(net, expected):
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, expected[key], err_msg=key)


ENTRIES = {
    "fit": lambda net, X, Y: net.fit(X, Y, learning_rate=0.1, epochs=2),
    **READS,
    "step": lambda net, X, Y: net.step(X, Y, 0.1),
}
WITH_Y = [name for name in ENTRIES if name not in ("forward", "predict", "predict_proba")]


class _Unreachable:
    """Stands in for a network's engine: a refused input must never get as far as it."""

    def __getattr__(self, name):
        raise AssertionError(f"the engine was reached (its {name!r}) by input that is refused")


def _refused(entry, backend, X, Y, error, match, **net_kwargs):
    net = _net(backend=backend, **net_kwargs)
    before = net.parameters
    engine, net._engine = net._engine, _Unreachable()
    with pytest.raises(error, match=match):
        ENTRIES[entry](net, X, Y)
    net._engine = engine
    _assert_same_params(net, before)  # nothing half-updated


# -- X ------------------------------------------------------------------------------------------
def _masked(X):
    return np.ma.masked_greater(X, 0.5)


BAD_X = [
    ("1-D", lambda X: X[0], ValueError, r"X must be 2-D with one example per column; got 1-D shape \(6,\)"),
    ("3-D", lambda X: X[None], ValueError, r"X must be 2-D .*got 3-D shape \(1, 3, 6\)"),
    ("0-D", lambda X: np.float64(1.5), ValueError, r"X must be 2-D .*got 0-D shape \(\)"),
    ("scalar", lambda X: 2.0, ValueError, r"X must be 2-D .*got 0-D"),
    ("n_x-too-small", lambda X: X[:2], ValueError,
     r"X has shape \(2, 6\) but the network expects \(n_x, m\) = \(3, m\)$"),
    ("n_x-too-large", lambda X: np.vstack([X, X]), ValueError, r"X has shape \(6, 6\) but the network"),
    ("transposed", lambda X: X.T, ValueError, r"X has shape \(6, 3\).*so pass X\.T"),
    ("no-examples", lambda X: X[:, :0], ValueError, r"X is empty: it has shape \(3, 0\), with no examples"),
    ("no-features", lambda X: X[:0], ValueError, r"X has shape \(0, 6\) but the network expects"),
    ("nan", lambda X: np.where(np.arange(M) == 4, np.nan, X), ValueError,
     r"X holds NaN or infinite values, e\.g\. at \[0, 4\]"),
    ("inf", lambda X: np.where(np.arange(M) == 1, np.inf, X), ValueError, r"X holds NaN or infinite"),
    ("-inf", lambda X: -np.where(np.arange(M) == 1, np.inf, X), ValueError, r"X holds NaN or infinite"),
    ("complex", lambda X: X + 1j, TypeError, r"X must hold real numbers; got an array of dtype complex128"),
    ("object", lambda X: X.astype(object), TypeError, r"X must hold real numbers; got .*dtype object"),
    ("str", lambda X: X.astype(str), TypeError, r"X must hold real numbers; got .*dtype <U"),
    ("bytes", lambda X: X.astype(bytes), TypeError, r"X must hold real numbers; got .*dtype \|S"),
    ("datetime", lambda X: X.astype("datetime64[s]"), TypeError, r"X must hold real numbers"),
    ("structured", lambda X: np.zeros((N_X, M), dtype=[("a", float)]), TypeError,
     r"X must hold real numbers"),
    ("ragged", lambda X: [[1.0, 2.0], [3.0]], TypeError, r"X must be a numeric 2-D array"),
    ("none", lambda X: None, TypeError, r"X must hold real numbers; got an array of dtype object"),
    ("dict", lambda X: {"a": 1}, TypeError, r"X must hold real numbers"),
    ("masked", _masked, TypeError, r"X is a masked array; fill or drop the masked entries first"),
    ("absurd-broadcast", lambda X: np.broadcast_to(X[:, :1], (N_X, 10**12)), ValueError,
     r"X of shape \(3, 1000000000000\) as float64 would need 21.83 TiB, more than the memory limit"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry", list(ENTRIES))
@pytest.mark.parametrize("make, error, match", [pytest.param(*case[1:], id=case[0]) for case in BAD_X])
def test_bad_X_is_refused(data, backend, entry, make, error, match):
    X, Y = data
    _refused(entry, backend, make(X), Y, error, match)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_X_beyond_float32_in_a_float32_network(data, backend, entry):
    X, Y = data
    X[2, 5] = 1e300
    _refused(entry, backend, X, Y, ValueError, r"X holds 1e\+300 at \[2, 5\], beyond the range of "
                                               r"float32 .*use dtype='float64'", dtype="float32")


# -- Y ------------------------------------------------------------------------------------------
BAD_Y = [
    ("1-D", lambda Y: Y[0], ValueError, r"Y must be 2-D .*got 1-D shape \(6,\).*Y\.reshape\(1, -1\)"),
    ("3-D", lambda Y: Y[None], ValueError, r"Y must be 2-D .*got 3-D"),
    ("n_y-too-large", lambda Y: np.vstack([Y, Y]), ValueError,
     r"Y has shape \(2, 6\) but expected \(n_y, m\) = \(1, 6\)"),
    ("fewer-examples-than-X", lambda Y: Y[:, :5], ValueError, r"Y has shape \(1, 5\) but expected .*\(1, 6\)$"),
    ("more-examples-than-X", lambda Y: np.hstack([Y, Y]), ValueError, r"Y has shape \(1, 12\)"),
    ("transposed", lambda Y: Y.T, ValueError, r"Y has shape \(6, 1\).*so pass Y\.T"),
    ("empty", lambda Y: Y[:, :0], ValueError, r"Y is empty: it has shape \(1, 0\)"),
    ("nan", lambda Y: np.where(np.arange(M) == 2, np.nan, Y), ValueError,
     r"Y holds NaN or infinite values, e\.g\. at \[0, 2\]"),
    ("inf", lambda Y: np.where(np.arange(M) == 2, np.inf, Y), ValueError, r"Y holds NaN or infinite"),
    ("complex", lambda Y: Y + 0j, TypeError, r"Y must hold real numbers; got an array of dtype complex128"),
    ("object", lambda Y: Y.astype(object), TypeError, r"Y must hold real numbers; got .*dtype object"),
    ("str", lambda Y: Y.astype(str), TypeError, r"Y must hold real numbers; got .*dtype <U"),
    ("label-2", lambda Y: Y * 2, ValueError,
     r"Y holds 2\.0 at \[0, 1\], outside the range \[0\.0, 1\.0\] of the 'sigmoid' output layer; "
     r"use labels 0 and 1"),
    ("label-negative", lambda Y: Y - 1, ValueError, r"Y holds -1\.0 at \[0, 0\], outside the range"),
    ("label-huge", lambda Y: Y * 1e300, ValueError, r"Y holds 1e\+300 at \[0, 1\], outside the range"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry", WITH_Y)
@pytest.mark.parametrize("make, error, match", [pytest.param(*case[1:], id=case[0]) for case in BAD_Y])
def test_bad_Y_is_refused(data, backend, entry, make, error, match):
    X, Y = data
    _refused(entry, backend, X, make(Y), error, match)


OUTPUT_CASES = [  # (output, n_y, Y, match): labels outside what the output can produce
    ("tanh", 1, [[0.5, 1.5]], r"Y holds 1\.5 at \[0, 1\], outside the range \[-1\.0, 1\.0\] of the 'tanh'"),
    ("relu", 1, [[-0.5, 1.0]], r"Y holds -0\.5 at \[0, 0\], outside the range \[0\.0, inf\] of the 'relu'"),
    ("exp", 1, [[-1.0, 1.0]], r"Y holds -1\.0 .*of the 'exp' output layer"),
    ("softmax", 3, [[0, 3]], r"Y holds the label 3\.0, but a softmax output with K = 3 classes takes "
                             r"integer labels 0\.\.2"),
    ("softmax", 3, [[0, -1]], r"Y holds the label -1\.0, but a softmax output"),
    ("softmax", 3, [[0, 0.5]], r"Y holds the label 0\.5, but a softmax output"),
    ("softmax", 2, [[0, 0.25], [1, 0.25]], r"Y's column 1 sums to 0\.5; a softmax output needs one-hot"),
    ("linear", 1, [[1.0, 1e300]], r"Y holds 1e\+300 at \[0, 1\]: beyond ±1\.34e\+154 the squared error "
                                  r"\(A − Y\)² of the 'linear' output overflows float64; rescale Y"),
    ("leaky_relu", 1, [[-1e200, 0.0]], r"Y holds -1e\+200 at \[0, 0\]: beyond ±1\.34e\+154"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry", ["fit", "cost", "gradients", "step"])
@pytest.mark.parametrize("output, n_y, Y, match", OUTPUT_CASES,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(OUTPUT_CASES)])
def test_labels_outside_the_output_are_refused(backend, entry, output, n_y, Y, match):
    X = np.linspace(-1, 1, 2 * N_X).reshape(N_X, 2)
    _refused(entry, backend, X, np.array(Y, dtype=float), ValueError, match,
             layer_dims=(N_X, 4, n_y), output=output)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_targets_beyond_its_square_root(backend):
    X = np.ones((N_X, 2))
    _refused("fit", backend, X, np.array([[0.0, 1e20]]), ValueError,
             r"Y holds 1e\+20 at \[0, 1\]: beyond ±1\.84e\+19 .* overflows float32",
             output="linear", dtype="float32")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("output, Y", [("sigmoid", [[1.0] * M]), ("sigmoid", [[0.0] * M]),
                                       ("softmax", [[2] * M])], ids=["all-ones", "all-zeros", "softmax-one-class"])
def test_one_class_labels_train(data, backend, output, Y):
    """One class is a legal (if pointless) training set: it trains, towards that class."""
    X, _ = data
    n_y = 3 if output == "softmax" else 1
    net = _net((N_X, 4, n_y), output=output, backend=backend)
    history = net.fit(X, np.array(Y, dtype=float), learning_rate=0.5, epochs=20)
    assert history.stop_reason == "finished" and history.costs[-1] < history.costs[0]
    assert net.accuracy(X, np.array(Y, dtype=float)) == 1.0


# -- X and Y that must work exactly like their contiguous float copies ----------------------------
def _memmap(tmp_path, X):
    mapped = np.memmap(tmp_path / "X.dat", dtype=X.dtype, mode="w+", shape=X.shape)
    mapped[:] = X
    mapped.flush()
    return np.memmap(tmp_path / "X.dat", dtype=X.dtype, mode="r", shape=X.shape)


def _read_only(X):
    X = X.copy()
    X.flags.writeable = False
    return X


GOOD_X = [  # (id, the variant of X, its float64 copy)
    ("columns-of-a-wider-array", lambda X, tmp: np.repeat(X, 2, axis=1)[:, ::2]),
    ("rows-of-a-taller-array", lambda X, tmp: np.repeat(X, 3, axis=0)[::3]),
    ("reversed-columns", lambda X, tmp: X[:, ::-1]),
    ("reversed-rows", lambda X, tmp: X[::-1]),
    ("reversed-both", lambda X, tmp: X[::-1, ::-1]),
    ("every-other-reversed", lambda X, tmp: np.repeat(X, 2, axis=1)[::-1, ::-2]),
    ("read-only", lambda X, tmp: _read_only(X)),
    ("memmap", lambda X, tmp: _memmap(tmp, X)),
    ("memmap-view", lambda X, tmp: _memmap(tmp, np.repeat(X, 2, axis=1))[:, 1::2]),
    ("int64", lambda X, tmp: np.round(X * 10).astype(np.int64)),
    ("int8", lambda X, tmp: np.round(X * 10).astype(np.int8)),
    ("uint8", lambda X, tmp: np.round(np.abs(X) * 10).astype(np.uint8)),
    ("bool", lambda X, tmp: X > 0),
    ("float32", lambda X, tmp: X.astype(np.float32)),
    ("float16", lambda X, tmp: X.astype(np.float16)),
    ("nested-lists", lambda X, tmp: X.tolist()),
    ("broadcast-columns", lambda X, tmp: np.broadcast_to(X[:, :1], X.shape)),
    ("huge-but-finite", lambda X, tmp: X * 1e150),
]
RESULTS = {
    **READS,
    "step": lambda net, X, Y: (net.step(X, Y, 0.1), net.parameters),
    "fit": lambda net, X, Y: (net.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=4).costs,
                              net.parameters),
}


def _assert_same(actual, expected):
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            _assert_same(actual[key], expected[key])
    elif isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _assert_same(a, e)
    else:
        np.testing.assert_array_equal(actual, expected)
        assert np.asarray(actual).dtype == np.asarray(expected).dtype


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry", list(RESULTS))
@pytest.mark.parametrize("make", [pytest.param(case[1], id=case[0]) for case in GOOD_X])
def test_views_and_other_dtypes_of_X_work_like_a_contiguous_float_copy(data, tmp_path, backend,
                                                                       entry, make):
    X, Y = data
    variant = make(X, tmp_path)
    copy = np.ascontiguousarray(np.asarray(variant), dtype=np.float64)
    net, reference = _net(backend=backend), _net(backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fastdl.DivergenceWarning)  # the huge X diverges, alike
        _assert_same(RESULTS[entry](net, variant, Y), RESULTS[entry](reference, copy, Y))
    np.testing.assert_array_equal(np.asarray(variant), copy)  # and X was not written to


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("make", [
    pytest.param(lambda Y: np.repeat(Y, 2, axis=1)[:, ::2], id="view"),
    pytest.param(lambda Y: Y[:, ::-1][:, ::-1], id="reversed-twice"),
    pytest.param(_read_only, id="read-only"),
    pytest.param(lambda Y: Y.astype(bool), id="bool"),
    pytest.param(lambda Y: Y.astype(np.int8), id="int8"),
    pytest.param(lambda Y: Y.astype(np.float32), id="float32"),
    pytest.param(lambda Y: Y.tolist(), id="nested-lists"),
])
def test_views_and_other_dtypes_of_Y_work_like_a_contiguous_float_copy(data, backend, make):
    X, Y = data
    variant = make(Y)
    net, reference = _net(backend=backend), _net(backend=backend)
    for entry in ("cost", "gradients", "accuracy", "fit"):
        _assert_same(RESULTS[entry](net, X, variant), RESULTS[entry](reference, X, Y))


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_F_ordered_X_trains_like_its_C_copy_to_rounding(data, backend):
    """F order is read as a transpose by BLAS: one call is the same bits, a fit may differ in
    the last bits of the parameters (the GEMM sums in another order)."""
    X, Y = data
    net, reference = _net(backend=backend), _net(backend=backend)
    np.testing.assert_array_equal(net.forward(np.asfortranarray(X)), reference.forward(X))
    net.fit(np.asfortranarray(X), Y, learning_rate=0.1, epochs=5)
    reference.fit(X, Y, learning_rate=0.1, epochs=5)
    for key, value in reference.parameters.items():
        np.testing.assert_allclose(net.parameters[key], value, rtol=1e-12, atol=1e-15)


# -- m = 1 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("options", [
    {}, {"batch_size": 1}, {"optimizer": "adam"}, {"optimizer": "momentum", "nesterov": True},
    {"keep_prob": 0.5}, {"l2": 0.1}, {"first_layer": "dual"}, {"dev": "self", "patience": 1},
    {"sample_weight": [2.0]},
], ids=["plain", "batch-1", "adam", "nesterov", "dropout", "l2", "dual", "early-stopping", "weighted"])
def test_one_example_trains(data, backend, options):
    X, Y = data
    X1, Y1 = X[:, 1:2], Y[:, 1:2]
    if options.get("dev") == "self":
        options = dict(options, dev=(X1, Y1))
    net = _net((N_X, 4, 4, 1), backend=backend)
    history = net.fit(X1, Y1, learning_rate=0.1, epochs=3, **options)
    assert history.stop_reason in ("finished", "early stopping") and np.isfinite(history.costs).all()
    assert net.predict(X1).shape == (1, 1) and net.forward(X1).shape == (1, 1)
    assert net.accuracy(X1, Y1) in (0.0, 1.0)
    assert all(np.isfinite(g).all() for g in net.gradients(X1, Y1).values())
    assert np.isfinite(net.step(X1, Y1, 0.1))
    reference = _net((N_X, 4, 4, 1), backend="numpy")
    reference.set_parameters(net.parameters)
    np.testing.assert_allclose(net.forward(X1), reference.forward(X1), rtol=1e-12)


# -- NaN never comes back ------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("entry, what", [("forward", "forward"), ("predict", "forward"),
                                         ("predict_proba", "forward"), ("cost", "cost"),
                                         ("gradients", "gradients")])
def test_overflowing_parameters_give_an_error_not_nan(backend, entry, what):
    """Catches a silent NaN: finite parameters 1e300 made inf − inf in the second layer, and
    predict returned NaN (and predict_proba, cost, gradients NaN) without a word."""
    net = _net((N_X, 4, 4, 1), backend=backend)
    params = net.parameters
    params["W1"] = np.full((4, N_X), 1e300)
    params["W2"] = np.tile([[1e300, -1e300, 1.0, 1.0]], (4, 1))
    net.set_parameters(params)
    X, Y = np.ones((N_X, 2)), np.ones((1, 2))
    with pytest.raises(ValueError, match=rf"^{what} gives NaN: the arithmetic overflowed float64 \(the "
                                         rf"largest \|x\| in X is 1, the largest parameter 1e\+300\); "
                                         rf"standardise X"):
        ENTRIES[entry](net, X, Y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_overflowing_X_diverges_with_a_warning_that_names_it(data, backend):
    X, Y = data
    net = _net((N_X, 4, 1), output="linear", backend=backend)
    before = net.parameters
    with pytest.warns(fastdl.DivergenceWarning, match=r"the cost at the starting parameters is inf: "
                                                      r"the forward pass overflows float64 \(the "
                                                      r"largest \|x\| in X is [\d.]+e\+307\)"):
        history = net.fit(X * 1e307, Y, learning_rate=0.1, epochs=3)
    assert history.stop_reason == "diverged"
    _assert_same_params(net, before)
    assert net.cost(X * 1e307, Y) == np.inf  # an overflowed cost is inf, never NaN


# -- Network(...) ---------------------------------------------------------------------------------
CONSTRUCTOR = [  # (id, args, kwargs, error, match)
    ("dims-zero", ([3, 0, 1],), {}, ValueError, r"layer_dims\[1\] \(n\[1\]\) must be a positive integer; got 0"),
    ("dims-negative", ([3, 4, -1],), {}, ValueError, r"layer_dims\[2\] \(n\[2\]\) must be a positive integer; got -1"),
    ("dims-float", ([3.0, 4, 1],), {}, ValueError, r"layer_dims\[0\] \(n_x\) must be a positive integer; got 3\.0"),
    ("dims-numpy-float", ([3, np.float64(4), 1],), {}, ValueError, r"layer_dims\[1\] .*got np\.float64\(4\.0\)"),
    ("dims-bool", ([3, True, 1],), {}, ValueError, r"layer_dims\[1\] .*got True"),
    ("dims-str", ("341",), {}, TypeError, r"layer_dims must be a list of layer sizes"),
    ("dims-none", (None,), {}, TypeError, r"layer_dims must be a list of layer sizes"),
    ("dims-one", ([3],), {}, ValueError, r"layer_dims needs the input size and at least one layer"),
    ("dims-2-D-array", (np.array([[3, 4, 1]]),), {}, ValueError, r"layer_dims needs the input size"),
    ("dims-2**31", ([3, 2**31, 1],), {}, ValueError,
     r"layer_dims\[1\] \(n\[1\]\) is 2147483648, more than the largest layer the engines take"),
    ("dims-2**62", ([2**62, 1],), {}, ValueError, r"layer_dims\[0\] \(n_x\) is 4611686018427387904, more"),
    ("dims-uint64-max", ([3, np.uint64(2**64 - 1)],), {}, ValueError, r"is 18446744073709551615, more"),
    ("dims-absurd-memory", ([10**6, 10**6, 1],), {}, ValueError,
     r"Network\(\[1000000, 1000000, 1\], dtype='float64'\) would need 21.83 TiB, more than the memory "
     r"limit .*FASTDL_MAX_MEMORY"),
    ("activation-unknown", ([3, 4, 1],), {"hidden": "swish"}, ValueError,
     r"hidden='swish' is not supported; expected one of \["),
    ("output-unknown", ([3, 4, 1],), {"output": "Sigmoid"}, ValueError, r"output='Sigmoid' is not supported"),
    ("softmax-hidden", ([3, 4, 1],), {"hidden": "softmax"}, ValueError,
     r"hidden='softmax' is only valid for the output layer"),
    ("activations-count", ([3, 4, 1], ["relu"]), {}, ValueError, r"activations has 1 names but the network has L = 2"),
    ("activations-none-entry", ([3, 4, 1], [None, "sigmoid"]), {}, ValueError,
     r"activations\[0\] \(layer 1\)=None is not supported"),
    ("init-unknown", ([3, 4, 1],), {"init": "glorot"}, ValueError, r"init='glorot' is not supported"),
    ("init-zeros-deep", ([3, 4, 1],), {"init": "zeros"}, ValueError, r"init='zeros' cannot train a network with hidden layers"),
    ("dtype-float16", ([3, 1],), {"dtype": "float16"}, ValueError, r"dtype='float16' is not supported"),
    ("dtype-int", ([3, 1],), {"dtype": int}, ValueError, r"dtype=<class 'int'> is not supported"),
    ("dtype-complex", ([3, 1],), {"dtype": np.complex128}, ValueError, r"dtype=.*complex128.* is not supported"),
    ("dtype-nonsense", ([3, 1],), {"dtype": "banana"}, ValueError, r"dtype='banana' is not supported"),
    ("backend-unknown", ([3, 1],), {"backend": "gpu"}, ValueError, r"backend='gpu' is not supported"),
    ("backend-none", ([3, 1],), {"backend": None}, ValueError, r"backend=None is not supported"),
    ("leaky-slope-nan", ([3, 1],), {"leaky_slope": float("nan")}, ValueError, r"leaky_slope must be a number in \[0, 1\); got nan"),
    ("leaky-slope-1", ([3, 1],), {"leaky_slope": 1}, ValueError, r"leaky_slope must be a number in \[0, 1\)"),
    ("seed-negative", ([3, 1],), {"seed": -1}, ValueError, r"seed must be None or a non-negative integer; got -1"),
    ("seed-float", ([3, 1],), {"seed": 1.5}, ValueError, r"seed must be None or a non-negative integer"),
]


@pytest.mark.parametrize("args, kwargs, error, match", [pytest.param(*c[1:], id=c[0]) for c in CONSTRUCTOR])
def test_bad_constructor_arguments_are_refused(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fastdl.Network(*args, **kwargs)


@pytest.mark.parametrize("layer_dims", [np.array([3, 4, 1]), (np.int8(3), np.uint64(4), 1), range(3, 0, -1)],
                         ids=["ndarray", "numpy-ints", "range"])
def test_layer_sizes_of_any_integer_type_are_taken(layer_dims):
    assert fastdl.Network(layer_dims).layer_dims == [int(n) for n in layer_dims]


# -- fit's and step's hyperparameters ------------------------------------------------------------------
HYPERPARAMETERS = [  # (id, fit keywords, error, match)
    ("lr-zero", {"learning_rate": 0}, ValueError, r"learning_rate must be a finite positive number; got 0"),
    ("lr-negative", {"learning_rate": -0.1}, ValueError, r"learning_rate must be a finite positive number"),
    ("lr-nan", {"learning_rate": float("nan")}, ValueError, r"learning_rate must be .*got nan"),
    ("lr-inf", {"learning_rate": float("inf")}, ValueError, r"learning_rate must be .*got inf"),
    ("lr-str", {"learning_rate": "0.1"}, ValueError, r"learning_rate must be .*got '0\.1'"),
    ("lr-none", {"learning_rate": None}, ValueError, r"learning_rate must be .*got None"),
    ("epochs-zero", {"epochs": 0}, ValueError, r"epochs must be a positive integer; got 0"),
    ("epochs-negative", {"epochs": -3}, ValueError, r"epochs must be a positive integer; got -3"),
    ("epochs-float", {"epochs": 2.0}, ValueError, r"epochs must be a positive integer; got 2\.0"),
    ("epochs-bool", {"epochs": True}, ValueError, r"epochs must be a positive integer; got True"),
    ("epochs-none", {"epochs": None}, ValueError, r"epochs must be a positive integer; got None"),
    ("batch-zero", {"batch_size": 0}, ValueError, r"batch_size must be a positive integer; got 0"),
    ("batch-negative", {"batch_size": -32}, ValueError, r"batch_size must be a positive integer; got -32"),
    ("batch-float", {"batch_size": 2.5}, ValueError, r"batch_size must be a positive integer; got 2\.5"),
    ("batch-bool", {"batch_size": True}, ValueError, r"batch_size must be a positive integer; got True"),
    ("batch-str", {"batch_size": "4"}, ValueError, r"batch_size must be a positive integer; got '4'"),
    ("keep-zero", {"keep_prob": 0}, ValueError, r"keep_prob for hidden layer 1 must be in \(0, 1\]; got 0"),
    ("keep-above-one", {"keep_prob": 1.5}, ValueError, r"keep_prob for hidden layer 1 must be in \(0, 1\]; got 1\.5"),
    ("keep-negative", {"keep_prob": -0.5}, ValueError, r"keep_prob for hidden layer 1 must be in \(0, 1\]"),
    ("keep-nan", {"keep_prob": float("nan")}, ValueError, r"keep_prob for hidden layer 1 .*got nan"),
    ("keep-str", {"keep_prob": "0.5"}, ValueError, r"keep_prob must be a number in \(0, 1\], or a list"),
    ("keep-count", {"keep_prob": [0.5, 0.5]}, ValueError, r"keep_prob has 2 values but the network has 1 hidden"),
    ("l2-negative", {"l2": -1}, ValueError, r"l2 must be a finite non-negative number; got -1"),
    ("l2-nan", {"l2": float("nan")}, ValueError, r"l2 must be a finite non-negative number; got nan"),
    ("l2-inf", {"l2": float("inf")}, ValueError, r"l2 must be a finite non-negative number; got inf"),
    ("l2-str", {"l2": "0.1"}, ValueError, r"l2 must be a finite non-negative number; got '0\.1'"),
    ("beta-one", {"optimizer": "momentum", "beta": 1}, ValueError, r"beta must be in \[0, 1\); got 1"),
    ("beta-negative", {"optimizer": "momentum", "beta": -0.1}, ValueError, r"beta must be in \[0, 1\); got -0\.1"),
    ("beta-nan", {"optimizer": "momentum", "beta": float("nan")}, ValueError, r"beta must be in \[0, 1\); got nan"),
    ("beta-str", {"optimizer": "momentum", "beta": "0.9"}, ValueError, r"beta must be in \[0, 1\); got '0\.9'"),
    ("beta1-one", {"optimizer": "adam", "beta1": 1.0}, ValueError, r"beta1 must be in \[0, 1\); got 1\.0"),
    ("beta2-none", {"optimizer": "adam", "beta2": None}, ValueError, r"beta2 must be in \[0, 1\); got None"),
    ("beta2-bool", {"optimizer": "adam", "beta2": True}, ValueError, r"beta2 must be in \[0, 1\); got True"),
    ("epsilon-zero", {"optimizer": "adam", "epsilon": 0}, ValueError, r"epsilon must be a finite positive number"),
    ("lr-decay-negative", {"lr_decay": -1}, ValueError, r"lr_decay must be a finite non-negative number"),
    ("decay-every-zero", {"decay_every": 0}, ValueError, r"decay_every must be a positive integer; got 0"),
    ("optimizer-unknown", {"optimizer": "sgd"}, ValueError, r"optimizer='sgd' is not supported; expected one of"),
    ("optimizer-none", {"optimizer": None}, ValueError, r"optimizer=None is not supported"),
    ("first-layer-unknown", {"first_layer": "both"}, ValueError, r"first_layer='both' is not supported"),
    ("dual-with-adam", {"first_layer": "dual", "optimizer": "adam"}, ValueError,
     r"first_layer='dual' cannot apply: optimizer 'adam' updates W\[1\] elementwise"),
    ("on-divergence-unknown", {"on_divergence": "ignore"}, ValueError, r"on_divergence='ignore' is not supported"),
    ("verbose-3", {"verbose": 3}, ValueError, r"verbose must be 0, 1 or 2; got 3"),
    ("print-every-zero", {"print_every": 0}, ValueError, r"print_every must be a positive integer; got 0"),
    ("callbacks-int", {"callbacks": 5}, TypeError, r"callbacks must be a list of callables taking the History; got 5"),
    ("callbacks-one-callable", {"callbacks": print}, TypeError,
     r"callbacks must be a list of callables .*\(one callback: pass \[callback\]\)"),
    ("callbacks-entry", {"callbacks": [print, 5]}, TypeError, r"callbacks must be callables taking the History; got 5"),
    ("patience-without-dev", {"patience": 2}, ValueError, r"patience needs a dev set"),
    ("patience-zero", {"patience": 0, "dev": "data"}, ValueError, r"patience must be a positive integer; got 0"),
    ("dev-not-a-pair", {"dev": "X"}, TypeError, r"dev must be a pair \(X_dev, Y_dev\); got ndarray"),
    ("dev-wrong-shape", {"dev": "short"}, ValueError, r"dev set: X has shape \(2, 6\) but the network expects"),
    ("weights-nan", {"sample_weight": [np.nan] * M}, ValueError, r"sample_weight holds NaN or infinite values"),
    ("weights-negative", {"sample_weight": [-1.0] * M}, ValueError, r"sample_weight\[0\] is -1\.0; weights must be >= 0"),
    ("weights-count", {"sample_weight": [1.0] * (M - 1)}, ValueError, r"sample_weight has shape \(5,\) but there are m = 6"),
    ("weights-str", {"sample_weight": ["a"] * M}, TypeError, r"sample_weight must hold real numbers"),
    ("weights-zero", {"sample_weight": [0.0] * M}, ValueError, r"sample_weight is zero for every example"),
    ("weights-overflowing-sum", {"sample_weight": [1e308] * M}, ValueError,
     r"sample_weight sums to inf, beyond float64's range; rescale the weights"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kwargs, error, match", [pytest.param(*c[1:], id=c[0]) for c in HYPERPARAMETERS])
def test_bad_fit_arguments_are_refused(data, backend, kwargs, error, match):
    X, Y = data
    replacements = {"data": (X, Y), "X": X, "short": (X[:2], Y)}
    if "dev" in kwargs:
        kwargs = dict(kwargs, dev=replacements[kwargs["dev"]])
    kwargs = {"learning_rate": 0.1, "epochs": 2, **kwargs}
    net = _net(backend=backend)
    before = net.parameters
    with pytest.raises(error, match=match):
        net.fit(X, Y, **kwargs)
    _assert_same_params(net, before)
    assert net.history is None  # refused before any training started


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf"), "0.1", None, True, [0.1]], ids=repr)
def test_bad_step_rates_are_refused(data, backend, rate):
    X, Y = data
    net = _net(backend=backend)
    before = net.parameters
    with pytest.raises(ValueError, match=r"learning_rate must be a finite positive number; got "):
        net.step(X, Y, rate)
    _assert_same_params(net, before)


@pytest.mark.parametrize("backend", BACKENDS)
def test_absurdly_many_epochs_run_until_stopped(data, backend):
    X, Y = data
    history = _net(backend=backend).fit(X, Y, epochs=10**30, callbacks=[lambda h: len(h.costs) == 3])
    assert history.stop_reason == "stopped by a callback" and len(history.costs) == 3


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("size", [M, M + 1, 10**30, np.int64(2**62)], ids=["m", "m+1", "10**30", "2**62"])
def test_a_batch_larger_than_m_is_one_full_batch(data, backend, size):
    X, Y = data
    net, reference = _net(backend=backend), _net(backend=backend)
    costs = net.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=size).costs
    assert costs == reference.fit(X, Y, learning_rate=0.1, epochs=3).costs
    _assert_same_params(net, reference.parameters)


# -- set_parameters ----------------------------------------------------------------------------------
DIMS = (N_X, 5, 4, 2)


def _set_cases():
    for l in (1, 2, 3):
        n, n_prev = DIMS[l], DIMS[l - 1]
        yield (f"W{l}-too-wide", f"W{l}", np.zeros((n, n_prev + 1)), ValueError,
               rf"W{l} has shape \({n}, {n_prev + 1}\) but layer {l} expects \({n}, {n_prev}\) = "
               rf"\(n\[{l}\], n\[{l - 1}\]\)")
        yield (f"W{l}-transposed", f"W{l}", np.zeros((n_prev, n)), ValueError,
               rf"W{l} has shape \({n_prev}, {n}\) but layer {l} expects")
        yield (f"b{l}-1-D", f"b{l}", np.zeros(n), ValueError,
               rf"b{l} has shape \({n},\) but layer {l} expects \({n}, 1\) = \(n\[{l}\], 1\)")
        yield (f"W{l}-nan", f"W{l}", np.full((n, n_prev), np.nan), ValueError,
               rf"W{l} holds NaN or infinite values, e\.g\. at \[0, 0\]")
        yield (f"b{l}-inf", f"b{l}", np.full((n, 1), -np.inf), ValueError, rf"b{l} holds NaN or infinite")
    yield ("W1-complex", "W1", np.zeros((5, N_X), complex), TypeError, r"W1 must hold real numbers; got dtype complex128")
    yield ("W1-object", "W1", np.zeros((5, N_X), object), TypeError, r"W1 must hold real numbers; got dtype object")
    yield ("W1-str", "W1", np.full((5, N_X), "1"), TypeError, r"W1 must hold real numbers; got dtype <U1")
    yield ("W1-bool", "W1", np.zeros((5, N_X), bool), TypeError, r"W1 must hold real numbers; got dtype bool")
    yield ("W1-none", "W1", None, TypeError, r"W1 must hold real numbers; got dtype object")
    yield ("W1-masked", "W1", np.ma.zeros((5, N_X)), TypeError, r"W1 is a masked array")
    yield ("W1-ragged", "W1", [[1.0], [1.0, 2.0]], TypeError, r"W1 must be a numeric 2-D array")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("key, value, error, match", [pytest.param(*c[1:], id=c[0]) for c in _set_cases()])
def test_bad_parameters_are_refused_at_every_layer(backend, key, value, error, match):
    net = _net(DIMS, backend=backend, output="softmax")
    before = net.parameters
    params = net.parameters
    params["W3"] = params["W3"] + 1  # a valid change that must not be applied either
    params[key] = value
    with pytest.raises(error, match=match):
        net.set_parameters(params)
    _assert_same_params(net, before)


@pytest.mark.parametrize("params, error, match", [
    ([1, 2], TypeError, r"parameters must be a dict like \{'W1': \.\.\., 'b1': \.\.\.\}; got list"),
    (None, TypeError, r"parameters must be a dict .*got NoneType"),
    ({}, ValueError, r"parameters do not match a network with L = 3 layers: missing \['W1', 'W2', 'W3', 'b1'"),
    ({"W1": 1, 2: 3}, ValueError, r"missing \['W2', 'W3', 'b1', 'b2', 'b3'\], unexpected \['W1'\]|unexpected \[2\]"),
], ids=["list", "none", "empty", "odd-keys"])
def test_parameter_dicts_of_the_wrong_form_are_refused(params, error, match):
    with pytest.raises(error, match=match):
        _net(DIMS).set_parameters(params)


def test_float32_parameters_beyond_its_range_are_refused():
    net = _net(DIMS, dtype="float32")
    params = net.parameters
    params["b2"] = np.full((4, 1), -1e300)
    with pytest.raises(ValueError, match=r"b2 holds -1e\+300 at \[0, 0\], beyond the range of float32"):
        net.set_parameters(params)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("convert", [
    pytest.param(lambda a, tmp: a.tolist(), id="lists"),
    pytest.param(lambda a, tmp: np.asfortranarray(a), id="F-order"),
    pytest.param(lambda a, tmp: np.repeat(a, 2, axis=1)[:, ::2], id="views"),
    pytest.param(lambda a, tmp: a[::-1][::-1], id="reversed-twice"),
    pytest.param(lambda a, tmp: _read_only(a), id="read-only"),
    pytest.param(lambda a, tmp: a.astype(np.float32).astype(np.float64), id="float32-values"),
    pytest.param(lambda a, tmp: np.round(a * 4).astype(np.int16), id="int16"),
])
def test_parameters_in_other_forms_are_copied_in_exactly(backend, convert, tmp_path, rng):
    net, reference = _net(DIMS, backend=backend), _net(DIMS, backend=backend)
    source = {key: rng.standard_normal(value.shape) for key, value in net.parameters.items()}
    given = {key: convert(value, tmp_path) for key, value in source.items()}
    net.set_parameters(given)
    reference.set_parameters({key: np.array(np.asarray(value), dtype=np.float64)
                              for key, value in given.items()})
    _assert_same_params(net, reference.parameters)
    for key in source:  # and the caller's arrays are copies, not aliases
        assert not np.shares_memory(net._params[int(key[1:]) - 1][key[0] == "b"], np.asarray(given[key]))


# -- fastdl.workflow ---------------------------------------------------------------------------------
def _split(X=None, Y=None, **kwargs):
    X = np.ones((2, 10)) if X is None else X
    Y = np.ones((1, 10)) if Y is None else Y
    return fastdl.train_dev_test_split(X, Y, **kwargs)


WORKFLOW = [  # (id, call, error, match)
    ("split-X-1-D", lambda: _split(X=np.ones(10)), ValueError, r"X must be 2-D with one example per column"),
    ("split-Y-3-D", lambda: _split(Y=np.ones((1, 1, 10))), ValueError, r"Y must be 2-D"),
    ("split-mismatch", lambda: _split(Y=np.ones((1, 9))), ValueError, r"X has m = 10 examples \(columns\) but Y has 9"),
    ("split-empty", lambda: _split(X=np.ones((2, 0)), Y=np.ones((1, 0))), ValueError, r"X is empty"),
    ("split-nan", lambda: _split(X=np.full((2, 10), np.nan)), ValueError, r"X holds NaN or infinite values"),
    ("split-complex", lambda: _split(Y=np.ones((1, 10), complex)), TypeError, r"Y must hold real numbers"),
    ("split-str", lambda: _split(X=np.full((2, 10), "a")), TypeError, r"X must hold real numbers"),
    ("split-dev-nan", lambda: _split(dev=float("nan")), ValueError, r"dev must be a fraction in \[0, 1\); got nan"),
    ("split-dev-str", lambda: _split(dev="0.2"), ValueError, r"dev must be a fraction in \[0, 1\); got '0\.2'"),
    ("split-dev-bool", lambda: _split(dev=True), ValueError, r"dev must be a fraction in \[0, 1\); got True"),
    ("split-test-one", lambda: _split(test=1), ValueError, r"test must be a fraction in \[0, 1\); got 1"),
    ("split-test-negative", lambda: _split(test=-0.1), ValueError, r"test must be a fraction"),
    ("split-nothing-left", lambda: _split(dev=0.5, test=0.5), ValueError, r"dev \+ test must leave examples to train on"),
    ("split-seed-negative", lambda: _split(seed=-1), ValueError, r"seed must be None or a non-negative integer; got -1"),
    ("split-seed-str", lambda: _split(seed="1"), ValueError, r"seed must be None or a non-negative integer; got '1'"),
    ("split-seed-float", lambda: _split(seed=1.5), ValueError, r"seed must be None .*got 1\.5"),
    ("recommended-negative", lambda: fastdl.recommended_split(-1), ValueError, r"m must be a non-negative whole number"),
    ("recommended-nan", lambda: fastdl.recommended_split(float("nan")), ValueError, r"m must be a non-negative whole"),
    ("recommended-str", lambda: fastdl.recommended_split("100"), ValueError, r"m must be .*got '100'"),
    ("diagnose-nan", lambda: fastdl.diagnose(float("nan"), 0.1), ValueError, r"train_error must be an error rate in \[0, 1\]; got nan"),
    ("diagnose-str", lambda: fastdl.diagnose("0.1", 0.1), ValueError, r"train_error must be an error rate .*got '0\.1'"),
    ("diagnose-none", lambda: fastdl.diagnose(0.1, None), ValueError, r"dev_error must be an error rate .*got None"),
    ("diagnose-array", lambda: fastdl.diagnose(np.array([0.1, 0.2]), 0.1), ValueError, r"train_error must be an error rate"),
    ("diagnose-bool", lambda: fastdl.diagnose(True, 0.1), ValueError, r"train_error must be an error rate .*got True"),
    ("diagnose-above-one", lambda: fastdl.diagnose(0.1, 1.5), ValueError, r"dev_error must be an error rate .*got 1\.5"),
    ("diagnose-base-negative", lambda: fastdl.diagnose(0.1, 0.1, base_error=-0.1), ValueError, r"base_error must be"),
    ("diagnose-tolerance-inf", lambda: fastdl.diagnose(0.1, 0.1, tolerance=float("inf")), ValueError, r"tolerance must be"),
    ("diagnose-network-regression", lambda: fastdl.diagnose_network(
        _net((2, 1), output="linear"), (np.ones((2, 3)), np.ones((1, 3))), (np.ones((2, 3)), np.ones((1, 3)))),
     ValueError, r"accuracy needs a 'sigmoid' or 'softmax' output layer; got 'linear'"),
    ("diagnose-network-bad-dev", lambda: fastdl.diagnose_network(
        _net((2, 1)), (np.ones((2, 3)), np.ones((1, 3))), (np.ones((3, 3)), np.ones((1, 3)))),
     ValueError, r"X has shape \(3, 3\) but the network expects \(n_x, m\) = \(2, m\)"),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(*c[1:], id=c[0]) for c in WORKFLOW])
def test_bad_workflow_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("m", [1, 2, 3])
def test_tiny_data_splits_leave_something_to_train_on(m):
    train, dev, test = _split(X=np.arange(2 * m, dtype=float).reshape(2, m), Y=np.ones((1, m)), seed=0)
    assert train[0].shape[1] >= 1 and sum(part[0].shape[1] for part in (train, dev, test)) == m


def test_a_split_of_a_view_matches_the_split_of_its_copy(rng):
    X = rng.standard_normal((6, 40))[::-2]
    Y = rng.standard_normal((2, 40))[:, ::-1]
    for part, copy in zip(_split(X, Y, seed=3), _split(X.copy(), Y.copy(), seed=3)):
        np.testing.assert_array_equal(part[0], copy[0])
        np.testing.assert_array_equal(part[1], copy[1])


# -- the command line -----------------------------------------------------------------------------
@pytest.fixture
def csv_file(tmp_path):
    rows = [[i % 5, (i * 7) % 3, i % 2] for i in range(24)]
    return write_csv(tmp_path / "data.csv", rows, header=["a", "b", "label"])


CLI = [  # (id, argv after "train DATA", fragments of the one-line error)
    ("layers-zero", ["--layers", "0"], ["argument --layers: expected hidden layer sizes such as 20,7,5; got '0'"]),
    ("layers-negative", ["--layers", "4,-1"], ["argument --layers: expected hidden layer sizes"]),
    ("layers-float", ["--layers", "2.5"], ["argument --layers: expected hidden layer sizes"]),
    ("layers-2**62", ["--layers", str(2**62)], ["layer_dims[1] (n[1]) is 4611686018427387904, more than the largest layer"]),
    ("layers-absurd-memory", ["--layers", "1000000,1000000"],
     ["Network([2, 1000000, 1000000, 1], dtype='float64') would need 21.83 TiB", "FASTDL_MAX_MEMORY"]),
    ("epochs-zero", ["--epochs", "0"], ["argument --epochs: expected a positive integer; got '0'"]),
    ("epochs-text", ["--epochs", "ten"], ["argument --epochs: expected a positive integer; got 'ten'"]),
    ("lr-nan", ["--lr", "nan"], ["argument --lr: expected a finite positive number; got 'nan'"]),
    ("lr-negative", ["--lr", "-1"], ["argument --lr: expected a finite positive number"]),
    ("l2-negative", ["--l2", "-1"], ["argument --l2: expected a finite number >= 0"]),
    ("keep-zero", ["--keep-prob", "0"], ["argument --keep-prob: expected a probability in (0, 1]; got '0'"]),
    ("keep-above-one", ["--keep-prob", "1.5"], ["argument --keep-prob: expected a probability in (0, 1]"]),
    ("keep-without-hidden-layers", ["--keep-prob", "0.5"],
     ["--keep-prob 0.5 drops hidden units, but the network has no hidden layer; give --layers"]),
    ("batch-zero", ["--batch-size", "0"], ["argument --batch-size: expected a positive integer"]),
    ("dev-nan", ["--dev", "nan"], ["argument --dev: expected a fraction in [0, 1); got 'nan'"]),
    ("dev-and-test-all", ["--dev", "0.5", "--test", "0.5"], ["dev + test must leave examples to train on"]),
    ("seed-negative", ["--seed", "-1"], ["argument --seed: expected a non-negative integer"]),
    ("activation-unknown", ["--activation", "softmax"], ["argument --activation: invalid choice: 'softmax'"]),
    ("output-unknown", ["--output", "probit"], ["argument --output: invalid choice: 'probit'"]),
    ("optimizer-unknown", ["--optimizer", "sgd"], ["argument --optimizer: invalid choice: 'sgd'"]),
    ("init-zeros-deep", ["--init", "zeros", "--layers", "3"], ["init='zeros' cannot train a network with hidden layers"]),
    ("dtype-unknown", ["--dtype", "float16"], ["argument --dtype: invalid choice: 'float16'"]),
    ("backend-unknown", ["--backend", "gpu"], ["argument --backend: invalid choice: 'gpu'"]),
    ("unknown-option", ["--learning-rate", "0.1"], ["unrecognized arguments: --learning-rate 0.1"]),
]


@pytest.mark.parametrize("argv, fragments", [pytest.param(*c[1:], id=c[0]) for c in CLI])
def test_bad_command_line_options(csv_file, capsys, argv, fragments):
    assert_one_line_error(*run(["train", csv_file, "--epochs", "1", "--verbose", "0", *argv], capsys)[::2],
                          *fragments)


CLI_FILES = [  # (id, CSV text, extra argv, fragments)
    ("nan-cell", "a,label\n1,0\nnan,1\n", [], ["data.csv line 3, column 'a': 'nan' is not a finite number"]),
    ("text-cell", "a,label\n1,0\nx,1\n", [], ["data.csv line 3, column 'a': 'x' is not a number"]),
    ("beyond-float32", "a,label\n1e300,0\n1,1\n2,0\n3,1\n", ["--dtype", "float32"],
     ["X holds 1e+300 at [0, ", "beyond the range of float32"]),
    ("huge-regression-target", "a,y\n" + "".join(f"{i},{i}e300\n" for i in range(1, 9)), [],
     ["Y holds ", "e+300 at [0, ", "the squared error (A − Y)² of the 'linear' output overflows float64"]),
    ("text-target-for-numbers", "a,label\n1,x\n2,y\n3,x\n", ["--output", "linear"],
     ["column 'label' holds text, but a 'linear' output predicts numbers"]),
    ("one-text-class", "a,label\n1,x\n2,x\n3,x\n4,x\n", [],
     ["data.csv column 'label' holds one class only ('x'): a classifier learns from two classes or more"]),
    ("one-integer-class", "a,label\n1,3\n2,3\n3,3\n4,3\n", [], ["column 'label' holds one class only (3)"]),
    ("sigmoid-for-three-classes", "a,label\n1,x\n2,y\n3,z\n", ["--output", "sigmoid"],
     ["column 'label' has 3 classes; a sigmoid output takes two (use --output softmax)"]),
]


@pytest.mark.parametrize("text, argv, fragments", [pytest.param(*c[1:], id=c[0]) for c in CLI_FILES])
def test_bad_command_line_data(tmp_path, capsys, text, argv, fragments):
    path = tmp_path / "data.csv"
    path.write_text(text)
    assert_one_line_error(*run(["train", path, "--epochs", "1", "--verbose", "0", *argv], capsys)[::2],
                          *fragments)


@pytest.mark.parametrize("text", [
    pytest.param("a,label\n1,0\n", id="one-example"),
    pytest.param("a,label\n1,1\n2,1\n3,1\n4,1\n5,1\n", id="one-class"),
])
def test_tiny_and_one_class_data_train_from_the_command_line(tmp_path, capsys, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    status, out, err = run(["train", path, "--epochs", "2", "--verbose", "0", "--out", tmp_path / "m.npz"],
                           capsys)
    assert status == 0, err
    assert "stopped: finished after 2 epochs" in out
    status, out, err = run(["predict", tmp_path / "m.npz", path], capsys)
    assert status == 0 and len(out.splitlines()) == text.count("\n")  # a header and one line each


def test_predicting_from_the_command_line_checks_the_data(tmp_path, capsys, csv_file):
    model = tmp_path / "m.npz"
    assert run(["train", csv_file, "--epochs", "1", "--verbose", "0", "--out", model], capsys)[0] == 0
    bad = write_csv(tmp_path / "new.csv", [[1, "inf"]], header=["a", "b"])
    assert_one_line_error(*run(["predict", model, bad], capsys)[::2],
                          "new.csv line 2, column 'b': 'inf' is not a finite number")
    missing = write_csv(tmp_path / "other.csv", [[1, 2]], header=["a", "c"])
    assert_one_line_error(*run(["predict", model, missing], capsys)[::2],
                          "lacks the feature columns ['b'] that")


# -- the scikit-learn estimators ------------------------------------------------------------------
sklearn = pytest.importorskip("sklearn")
from fastdl.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def _estimator(kind="classifier", **kwargs):
    kwargs = {"hidden_layer_sizes": (3,), "max_iter": 2, "random_state": 0, **kwargs}
    return (MLPClassifier if kind == "classifier" else MLPRegressor)(**kwargs)


@pytest.fixture
def rows(rng):
    """scikit-learn's layout: 12 rows of 3 features, labels of both classes, a target."""
    X = rng.standard_normal((12, 3))
    return X, np.arange(12) % 2, X[:, 0] + 0.5 * X[:, 1]


SKLEARN = [  # (id, estimator kind, parameters, how X, y change, error, match)
    ("hidden-zero", {"hidden_layer_sizes": (0,)}, None, ValueError, r"hidden_layer_sizes must be > 0, got \[0\]"),
    ("hidden-float", {"hidden_layer_sizes": (2.5,)}, None, ValueError, r"hidden_layer_sizes must be > 0"),
    ("hidden-bool", {"hidden_layer_sizes": (True,)}, None, ValueError, r"hidden_layer_sizes must be > 0"),
    ("hidden-2**62", {"hidden_layer_sizes": (4, 2**62)}, None, ValueError,
     r"hidden_layer_sizes\[1\] is 4611686018427387904, more than the largest layer"),
    ("hidden-absurd-memory", {"hidden_layer_sizes": (10**6, 10**6)}, None, ValueError,
     r"Network\(\[3, 1000000, 1000000, 1\], dtype='float64'\) would need"),
    ("batch-zero", {"batch_size": 0}, None, ValueError, r"'batch_size' parameter"),
    ("max-iter-zero", {"max_iter": 0}, None, ValueError, r"'max_iter' parameter"),
    ("lr-nan", {"learning_rate_init": float("nan")}, None, ValueError, r"'learning_rate_init' parameter"),
    ("lr-negative", {"learning_rate_init": -1.0}, None, ValueError, r"'learning_rate_init' parameter"),
    ("alpha-negative", {"alpha": -1.0}, None, ValueError, r"'alpha' parameter"),
    ("momentum-one", {"solver": "sgd", "momentum": 1.0}, None, ValueError, r"'momentum' parameter"),
    ("beta-one", {"beta_1": 1.0}, None, ValueError, r"'beta_1' parameter"),
    ("keep-zero", {"keep_prob": 0.0}, None, ValueError, r"'keep_prob' parameter"),
    ("keep-list-zero", {"keep_prob": [0.0]}, None, ValueError,
     r"keep_prob for hidden layer 1 must be in \(0, 1\]; got 0\.0"),
    ("keep-list-text", {"keep_prob": ["a"]}, None, ValueError, r"keep_prob for hidden layer 1 must be in \(0, 1\]; got 'a'"),
    ("keep-list-count", {"keep_prob": [0.5, 0.5]}, None, ValueError, r"keep_prob has 2 values but there are 1 hidden"),
    ("activation-unknown", {"activation": "swish"}, None, ValueError, r"'activation' parameter"),
    ("activation-list-entry", {"activation": ["swish"]}, None, ValueError, r"activation of hidden layer 1 is 'swish'"),
    ("solver-unknown", {"solver": "newton"}, None, ValueError, r"'solver' parameter"),
    ("dtype-float16", {"dtype": "float16"}, None, ValueError, r"'dtype' parameter"),
    ("dtype-int", {"dtype": int}, None, ValueError, r"dtype=<class 'int'> is not supported"),
    ("backend-unknown", {"backend": "gpu"}, None, ValueError, r"'backend' parameter"),
    ("X-nan", {}, lambda X, y: (np.where(X > 1, np.nan, X), y), ValueError, r"Input X contains NaN"),
    ("X-inf", {}, lambda X, y: (np.where(X > 1, np.inf, X), y), ValueError, r"Input X contains infinity"),
    ("X-complex", {}, lambda X, y: (X + 1j, y), ValueError, r"Complex data not supported"),
    ("X-1-D", {}, lambda X, y: (X[:, 0], y), ValueError, r"Expected 2D array, got 1D array"),
    ("X-3-D", {}, lambda X, y: (X[None], y), ValueError, r"Found array with dim 3"),
    ("X-empty", {}, lambda X, y: (X[:0], y[:0]), ValueError, r"Found array with 0 sample\(s\)"),
    ("y-short", {}, lambda X, y: (X, y[:-1]), ValueError, r"inconsistent numbers of samples: \[12, 11\]"),
    ("weights-nan", {}, "weights-nan", ValueError, r"Input sample_weight contains NaN"),
    ("weights-negative", {}, "weights-negative", ValueError, r"Negative values in data passed to `sample_weight`"),
    ("weights-overflowing-sum", {}, "weights-huge", ValueError, r"sample_weight sums to inf, beyond float64's range"),
]
WEIGHTS = {"weights-nan": np.nan, "weights-negative": -1.0, "weights-huge": 1e308}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("params, change, error, match", [pytest.param(*c[1:], id=c[0]) for c in SKLEARN])
def test_bad_estimator_input_is_refused(rows, kind, params, change, error, match):
    X, labels, target = rows
    y = labels if kind == "classifier" else target
    weight = None
    if isinstance(change, str):
        weight, change = np.full(len(y), WEIGHTS[change]), None
    if change is not None:
        X, y = change(X, y)
    with pytest.raises(error, match=match):
        _estimator(kind, **params).fit(X, y, sample_weight=weight)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("change, error, match", [
    (lambda X: X[:, :2], ValueError, r"X has 2 features, but MLP\w+ is expecting 3 features"),
    (lambda X: np.where(X > 1, np.nan, X), ValueError, r"Input X contains NaN"),
    (lambda X: X.astype(complex), ValueError, r"Complex data not supported"),
    (lambda X: X[0], ValueError, r"Expected 2D array, got 1D array"),
], ids=["features", "nan", "complex", "1-D"])
def test_bad_input_to_a_fitted_estimator_is_refused(rows, kind, change, error, match):
    X, labels, target = rows
    estimator = _estimator(kind).fit(X, labels if kind == "classifier" else target)
    with pytest.raises(error, match=match):
        estimator.predict(change(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("make", [
    pytest.param(lambda X, tmp: X[::-1][::-1], id="reversed-twice"),
    pytest.param(lambda X, tmp: np.repeat(X, 2, axis=0)[::2], id="rows-of-a-taller-array"),
    pytest.param(lambda X, tmp: np.repeat(X, 2, axis=1)[:, ::-2][:, ::-1], id="reversed-columns"),
    pytest.param(lambda X, tmp: np.asfortranarray(X), id="F-order"),
    pytest.param(lambda X, tmp: _read_only(X), id="read-only"),
    pytest.param(lambda X, tmp: _memmap(tmp, X), id="memmap"),
    pytest.param(lambda X, tmp: np.round(X * 4).astype(np.int32), id="int32"),
])
def test_estimators_take_views_like_copies(rows, tmp_path, kind, make):
    X, labels, target = rows
    y = labels if kind == "classifier" else target
    variant = make(X, tmp_path)
    copy = np.array(np.asarray(variant), dtype=np.float64, order="C")
    a = _estimator(kind, solver="sgd").fit(variant, y)
    b = _estimator(kind, solver="sgd").fit(copy, y)
    for coef_a, coef_b in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(coef_a, coef_b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.predict(variant), b.predict(copy), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("case", ["one-row", "one-class", "batch-10**30"])
def test_estimators_handle_degenerate_but_legal_input(rows, kind, case):
    X, labels, target = rows
    y = labels if kind == "classifier" else target
    if case == "one-row":
        X, y = X[:1], y[:1]
    elif case == "one-class":
        y = np.zeros_like(y)
    params = {"solver": "sgd", "batch_size": 10**30} if case == "batch-10**30" else {}
    if case == "batch-10**30":
        with pytest.warns(UserWarning, match=r"Got `batch_size` less than 1 or larger than sample size"):
            estimator = _estimator(kind, **params).fit(X, y)
        full = _estimator(kind, solver="sgd", batch_size=len(y)).fit(X, y)
        np.testing.assert_array_equal(estimator.coefs_[0], full.coefs_[0])
    else:
        estimator = _estimator(kind, **params).fit(X, y)
    predicted = estimator.predict(X)
    assert predicted.shape == (len(y),) and np.isfinite(predicted.astype(float)).all()
    if kind == "classifier" and case == "one-class":
        assert (predicted == 0).all()


# -- fastdl.compat ------------------------------------------------------------------------------------
from fastdl.compat import deep, logistic, shallow  # noqa: E402


def _course_data():
    X = np.linspace(-1, 1, 30).reshape(3, 10)
    Y = (np.arange(10) % 2).reshape(1, 10).astype(float)
    return X, Y


def _parameters():
    return deep.initialize_parameters_deep([3, 4, 1])


COMPAT = [  # (id, call, error, match)
    ("deep-init-zero", lambda X, Y: deep.initialize_parameters_deep([3, 0, 1]), ValueError,
     r"layer_dims\[1\] must be a positive integer; got 0"),
    ("deep-init-text", lambda X, Y: deep.initialize_parameters_deep("341"), TypeError, r"layer_dims must be a list"),
    ("deep-init-2**62", lambda X, Y: deep.initialize_parameters_deep([2**62, 1]), ValueError,
     r"layer_dims\[0\] is 4611686018427387904, more than the largest layer the engines take"),
    ("deep-init-absurd", lambda X, Y: deep.initialize_parameters_deep([10**6, 10**6, 1]), ValueError,
     r"initialize_parameters_deep\(\[1000000, 1000000, 1\]\) would need 14.55 TiB"),
    ("two-layer-init-absurd", lambda X, Y: deep.initialize_parameters(10**6, 10**6, 1), ValueError,
     r"initialize_parameters\(\[1000000, 1000000, 1\]\) would need"),
    ("shallow-init-absurd", lambda X, Y: shallow.initialize_parameters(10**6, 10**6, 1), ValueError,
     r"initialize_parameters\(\[1000000, 1000000, 1\]\) would need"),
    ("logistic-init-absurd", lambda X, Y: logistic.initialize_with_zeros(10**13), ValueError,
     r"dim is 10000000000000, more than the largest layer"),
    ("L-model-forward-rows", lambda X, Y: deep.L_model_forward(X[:2], _parameters()), ValueError,
     r"W1 has shape \(4, 3\) but X has 2 rows \(layer 1\)"),
    ("L-model-forward-nan", lambda X, Y: deep.L_model_forward(X * np.nan, _parameters()), ValueError,
     r"X holds NaN or infinite values"),
    ("L-model-forward-complex", lambda X, Y: deep.L_model_forward(X + 1j, _parameters()), TypeError,
     r"X must hold real numbers"),
    ("L-model-forward-empty", lambda X, Y: deep.L_model_forward(X[:, :0], _parameters()), ValueError,
     r"X is empty: it has shape \(3, 0\)"),
    ("L-model-forward-nan-W", lambda X, Y: deep.L_model_forward(X, {**_parameters(), "W2": np.full((1, 4), np.nan)}),
     ValueError, r"W2 holds NaN or infinite values"),
    ("compute-cost-empty", lambda X, Y: deep.compute_cost(np.full((1, 0), 0.5), Y[:, :0]), ValueError,
     r"AL is empty: it has shape \(1, 0\)"),
    ("compute-cost-label-2", lambda X, Y: deep.compute_cost(np.full((1, 10), 0.5), Y * 2), ValueError,
     r"Y holds 2\.0 at \[0, 1\]; labels must be 0 or 1"),
    ("compute-cost-AL-above-one", lambda X, Y: deep.compute_cost(np.full((1, 10), 1.5), Y), ValueError,
     r"AL holds 1\.5 at \[0, 0\]; a sigmoid output lies in \[0, 1\]"),
    ("sigmoid-nan", lambda X, Y: deep.sigmoid(np.nan), ValueError, r"Z is nan; expected a number, not NaN"),
    ("sigmoid-text", lambda X, Y: deep.sigmoid("a"), TypeError, r"Z must hold real numbers"),
    ("L-layer-model-label-2", lambda X, Y: deep.L_layer_model(X, Y * 2, [3, 4, 1], num_iterations=2), ValueError,
     r"Y holds 2\.0 .*outside the range \[0\.0, 1\.0\] of the 'sigmoid' output layer"),
    ("L-layer-model-lr-nan", lambda X, Y: deep.L_layer_model(X, Y, [3, 4, 1], learning_rate=float("nan"),
                                                            num_iterations=2),
     ValueError, r"learning_rate must be a finite positive number; got nan"),
    ("L-layer-model-iterations", lambda X, Y: deep.L_layer_model(X, Y, [3, 4, 1], num_iterations=2.5),
     ValueError, r"num_iterations must be a positive integer; got 2\.5"),
    ("L-layer-model-dims", lambda X, Y: deep.L_layer_model(X, Y, [4, 4, 1], num_iterations=2), ValueError,
     r"X has shape \(3, 10\) but the network expects \(n_x, m\) = \(4, m\)"),
    ("L-layer-model-absurd", lambda X, Y: deep.L_layer_model(X, Y, [3, 10**6, 10**6, 1], num_iterations=2),
     ValueError, r"initialize_parameters_deep\(\[3, 1000000, 1000000, 1\]\) would need"),
    ("two-layer-model-dims", lambda X, Y: deep.two_layer_model(X, Y, [3, 4], num_iterations=2), ValueError,
     r"layers_dims must have 3 sizes; got 2"),
    ("nn-model-hidden-zero", lambda X, Y: shallow.nn_model(X, Y, 0, num_iterations=2), ValueError,
     r"n_h must be a positive integer; got 0"),
    ("nn-model-hidden-absurd", lambda X, Y: shallow.nn_model(X, Y, 10**12, num_iterations=2), ValueError,
     r"n_h is 1000000000000, more than the largest layer"),
    ("nn-model-mismatch", lambda X, Y: shallow.nn_model(X, Y[:, :4], 4, num_iterations=2), ValueError,
     r"Y has shape \(1, 4\) but expected \(n_y, m\) = \(1, 10\)"),
    ("shallow-forward-three-layers", lambda X, Y: shallow.forward_propagation(
        X, deep.initialize_parameters_deep([3, 4, 4, 1])), ValueError, r"parameters must hold W1, b1, W2, b2"),
    ("propagate-empty", lambda X, Y: logistic.propagate(np.zeros((3, 1)), 0.0, X[:, :0], Y[:, :0]), ValueError,
     r"X is empty: it has shape \(3, 0\)"),
    ("propagate-w-shape", lambda X, Y: logistic.propagate(np.zeros((2, 1)), 0.0, X, Y), ValueError,
     r"w has shape \(2, 1\) but X has 3 rows"),
    ("propagate-b-text", lambda X, Y: logistic.propagate(np.zeros((3, 1)), "a", X, Y), ValueError,
     r"b must be a finite real number \(the bias\); got 'a'"),
    ("propagate-b-nan", lambda X, Y: logistic.propagate(np.zeros((3, 1)), np.nan, X, Y), ValueError,
     r"b must be a finite real number"),
    ("propagate-label-negative", lambda X, Y: logistic.propagate(np.zeros((3, 1)), 0.0, X, -Y), ValueError,
     r"Y holds -1\.0 at \[0, 1\]; labels must be 0 or 1"),
    ("optimize-iterations-zero", lambda X, Y: logistic.optimize(np.zeros((3, 1)), 0.0, X, Y, num_iterations=0),
     ValueError, r"num_iterations must be a positive integer; got 0"),
    ("model-test-rows", lambda X, Y: logistic.model(X, Y, X[:2], Y, num_iterations=2), ValueError,
     r"X_test has 2 rows but X_train has 3"),
    ("initialize-with-zeros-bool", lambda X, Y: logistic.initialize_with_zeros(True), ValueError,
     r"dim must be a positive integer; got True"),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(*c[1:], id=c[0]) for c in COMPAT])
def test_bad_course_helper_input_is_refused(call, error, match):
    X, Y = _course_data()
    with pytest.raises(error, match=match):
        call(X, Y)


@pytest.mark.parametrize("make", [
    pytest.param(lambda X: X[:, ::-1], id="reversed-columns"),
    pytest.param(lambda X: np.repeat(X, 2, axis=0)[::2], id="rows-of-a-taller-array"),
    pytest.param(_read_only, id="read-only"),
    pytest.param(lambda X: np.round(X * 5).astype(np.int64), id="int64"),
])
def test_course_helpers_take_views_like_copies(make, capsys):
    X, Y = _course_data()
    variant, copy = make(X), np.ascontiguousarray(make(X), dtype=np.float64)
    parameters = _parameters()
    _assert_same(deep.L_model_forward(variant, parameters)[0], deep.L_model_forward(copy, parameters)[0])
    _assert_same(deep.L_layer_model(variant, Y, [3, 4, 1], num_iterations=3),
                 deep.L_layer_model(copy, Y, [3, 4, 1], num_iterations=3))
    _assert_same(shallow.nn_model(variant, Y, 2, num_iterations=3), shallow.nn_model(copy, Y, 2, num_iterations=3))
    _assert_same(logistic.propagate(np.ones((3, 1)), 0.5, variant, Y),
                 logistic.propagate(np.ones((3, 1)), 0.5, copy, Y))
    _assert_same(logistic.optimize(np.zeros((3, 1)), 0.0, variant, Y, num_iterations=3),
                 logistic.optimize(np.zeros((3, 1)), 0.0, copy, Y, num_iterations=3))


def test_course_helpers_take_one_example(capsys):
    X, Y = _course_data()
    X1, Y1 = X[:, 1:2], Y[:, 1:2]
    parameters, costs = deep.L_layer_model(X1, Y1, [3, 4, 1], num_iterations=2)
    assert deep.predict(X1, Y1, parameters).shape == (1, 1)
    assert shallow.predict(shallow.nn_model(X1, Y1, 2, num_iterations=2), X1).shape == (1, 1)
    result = logistic.model(X1, Y1, X1, Y1, num_iterations=2)
    assert result["Y_prediction_train"].shape == (1, 1) and np.isfinite(result["costs"]).all()
    assert np.isfinite(costs).all()
