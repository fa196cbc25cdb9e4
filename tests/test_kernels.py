"""Each compiled kernel of fastdl._kernels alone, against a numpy expression; in-place
outputs, untouched inputs, and the build's floating-point contract."""
import os

import numpy as np
import pytest

import naive

K = pytest.importorskip("fastdl._kernels", reason="the compiled kernels are not built")

from fastdl import activations as act  # noqa: E402

ELEMENTWISE = ["linear", "sigmoid", "tanh", "relu", "leaky_relu"]
DTYPES = [np.float32, np.float64]
# Kernels compute the same formula as numpy, element by element; only the rounding of
# exp/tanh/log1p (libmvec: <= 4 ulp) and the order of sums differ.
RTOL = {np.float32: 1e-5, np.float64: 1e-13}
SLOPE = 0.05


def _close(actual, expected, dtype):
    # Sums over m examples carry an absolute rounding error proportional to the largest
    # term (not to the possibly cancelled result), hence atol scaled by the data.
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


def _data(rng, dtype, n=5, m=37):
    # m = 37: not a multiple of any vector width, so every loop runs its remainder too.
    lin = (3 * rng.standard_normal((n, m))).astype(dtype)
    b = rng.standard_normal((n, 1)).astype(dtype)
    return lin, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_forward_is_g_of_lin_plus_b(rng, name, dtype):
    lin, b = _data(rng, dtype)
    lin_copy, b_copy = lin.copy(), b.copy()
    A = np.empty_like(lin)
    K.activation_forward(K.ACTIVATION_CODES[name], lin, b, A, SLOPE)
    g, _ = act.resolve(name, SLOPE)
    _close(A, g(lin + b), dtype)
    np.testing.assert_array_equal(lin, lin_copy)  # inputs untouched
    np.testing.assert_array_equal(b, b_copy)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_in_place(rng, dtype):
    lin, b = _data(rng, dtype)
    expected = act.sigmoid(lin + b)
    K.activation_forward(K.ACTIVATION_CODES["sigmoid"], lin, b, lin)  # A is lin's own memory
    _close(lin, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_stable_at_the_extremes(dtype):
    lin = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]], dtype=dtype)
    A = np.empty_like(lin)
    K.activation_forward(K.ACTIVATION_CODES["sigmoid"], lin, np.zeros((1, 1), dtype), A)
    assert np.all(np.isfinite(A)) and A[0, 2] == 0.5
    assert A[0, 0] == 0.0 and A[0, -1] == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_backward_fuses_dZ_and_db(rng, name, dtype):
    lin, b = _data(rng, dtype)
    g, g_prime = act.resolve(name, SLOPE)
    Z = lin + b
    A = g(Z).astype(dtype)
    dA = rng.standard_normal(A.shape).astype(dtype)
    dA_copy, A_copy = dA.copy(), A.copy()
    dZ, db = np.empty_like(dA), np.empty((A.shape[0], 1), dtype)
    K.activation_backward(K.ACTIVATION_CODES[name], dA, A, dZ, db, SLOPE)
    expected = dA * g_prime(Z)
    _close(dZ, expected, dtype)
    _close(db, expected.sum(axis=1, keepdims=True) / A.shape[1], dtype)
    np.testing.assert_array_equal(dA, dA_copy)
    np.testing.assert_array_equal(A, A_copy)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("over", ["dA", "A"])
def test_activation_backward_in_place(rng, name, dtype, over):
    """dZ may be written over dA, or over A (what the engine does, A being spent)."""
    lin, b = _data(rng, dtype)
    g, g_prime = act.resolve(name, SLOPE)
    A = g(lin + b).astype(dtype)
    dA = rng.standard_normal(A.shape).astype(dtype)
    expected = dA * g_prime(lin + b)
    db = np.empty((A.shape[0], 1), dtype)
    target = dA if over == "dA" else A
    K.activation_backward(K.ACTIVATION_CODES[name], dA, A, target, db, SLOPE)
    _close(target, expected, dtype)
    _close(db, expected.sum(axis=1, keepdims=True) / A.shape[1], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax", "exp"])
def test_output_layer_in_place(rng, name, dtype):
    """dZ[L] may be written over lin, as the engine does: same J, same dZ."""
    n = 4 if name == "softmax" else 3
    lin, b = _data(rng, dtype, n=n)
    if name == "softmax":
        Y = np.eye(n, dtype=dtype)[:, rng.integers(0, n, lin.shape[1])]
    else:
        Y = naive.random_labels(rng, name, lin.shape, dtype)
    dZ, db, db_in_place = np.empty_like(lin), np.empty((n, 1), dtype), np.empty((n, 1), dtype)
    code = K.ACTIVATION_CODES[name]
    J = K.output_layer(code, lin, b, Y, dZ, db, SLOPE)
    J_in_place = K.output_layer(code, lin, b, Y, lin, db_in_place, SLOPE)
    assert J_in_place == J
    np.testing.assert_array_equal(lin, dZ)
    np.testing.assert_array_equal(db_in_place, db)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE + ["exp"])
def test_output_layer_cost_and_delta(rng, name, dtype, order, weighted):
    lin, b = _data(rng, dtype, n=3)
    if name == "exp":
        lin /= 3  # e^z of moderate z
    Y = np.asarray(naive.random_labels(rng, name, lin.shape, dtype), order=order)
    Y[0, 0] = 0  # y log y at y = 0, for the Poisson deviance
    dZ, db = np.empty_like(lin), np.empty((3, 1), dtype)
    w = rng.uniform(0, 2, lin.shape[1]).astype(dtype) if weighted else np.ones(lin.shape[1], dtype)
    J = K.output_layer(K.ACTIVATION_CODES[name], lin, b, Y, dZ, db, SLOPE,
                       w if weighted else None)
    Z = lin + b
    g, g_prime = act.resolve(name, SLOPE)
    A, norm = g(Z), w.sum(dtype=np.float64)
    if name == "sigmoid":
        # Cross-entropy from z (no log(0)); for σ with it dZ collapses to A − Y.
        loss, delta = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z))), A - Y
    elif name == "exp":  # half the Poisson deviance, whose dZ also collapses to A − Y
        safe_Y = np.where(Y > 0, Y, 1)
        loss, delta = np.where(Y > 0, Y * np.log(safe_Y / A), 0) - Y + A, A - Y
    else:
        loss, delta = np.square(A - Y) / 2, (A - Y) * g_prime(Z)
    expected_dZ = delta * w
    _close(J, np.sum(loss * w, dtype=np.float64) / norm, dtype)
    _close(dZ, expected_dZ, dtype)
    _close(db, expected_dZ.sum(axis=1, keepdims=True) / norm, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_has_no_log_of_zero(dtype):
    lin = np.array([[-800.0, 800.0]], dtype=dtype)
    Y = np.array([[1.0, 0.0]], dtype=dtype)  # both examples confidently wrong
    dZ, db = np.empty_like(lin), np.empty((1, 1), dtype)
    J = K.output_layer(K.ACTIVATION_CODES["sigmoid"], lin, np.zeros((1, 1), dtype), Y, dZ, db)
    assert J == pytest.approx(800.0)  # (800 + 800) / 2, finite
    np.testing.assert_array_equal(dZ, [[-1.0, 1.0]])


# The kernel goes through the columns in chunks of 64: less than one, several with a
# remainder, and an exact multiple.
@pytest.mark.parametrize("m", [37, 203, 128])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_output(rng, dtype, m):
    lin, b = _data(rng, dtype, n=4, m=m)
    lin[0, 0] = 900  # would overflow without subtracting the column maximum
    lin[2, m - 1] = -900
    A = np.empty_like(lin)
    K.softmax(lin, b, A)
    _close(A, act.softmax(lin + b), dtype)
    Y = np.eye(4, dtype=dtype)[:, rng.integers(0, 4, m)]
    dZ, db = np.empty_like(lin), np.empty((4, 1), dtype)
    J = K.output_layer(K.ACTIVATION_CODES["softmax"], lin, b, Y, dZ, db)
    shifted = (lin + b) - np.max(lin + b, axis=0, keepdims=True)
    log_A = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    _close(J, -np.sum(Y * log_A, dtype=np.float64) / m, dtype)
    _close(dZ, A - Y, dtype)
    # Y read through strides (a transposed view), with per-example weights
    w = np.linspace(0.5, 1.5, m, dtype=dtype)
    Y_strided = np.ascontiguousarray(Y.T).T
    J_w = K.output_layer(K.ACTIVATION_CODES["softmax"], lin, b, Y_strided, dZ, db, SLOPE, w)
    _close(J_w, -np.sum(w * Y * log_A, dtype=np.float64) / w.sum(dtype=np.float64), dtype)
    _close(dZ, w * (A - Y), dtype)


# (M, N, K): a general product, and the one-row / one-column outputs that go through GEMV.
GEMM_SHAPES = [(4, 5, 6), (1, 5, 6), (4, 1, 6), (1, 1, 6), (4, 5, 1), (1, 5, 1)]


@pytest.mark.parametrize("beta", [0.0, 2.0])
@pytest.mark.parametrize("shape", GEMM_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_row_major(rng, dtype, trans_a, trans_b, shape, beta):
    M, N, k = shape
    A = rng.standard_normal((k, M) if trans_a else (M, k)).astype(dtype)
    B = rng.standard_normal((N, k) if trans_b else (k, N)).astype(dtype)
    C = rng.standard_normal((M, N)).astype(dtype)
    expected = 0.5 * (A.T if trans_a else A) @ (B.T if trans_b else B) + beta * C
    if beta == 0:
        C[...] = np.nan  # beta = 0 ignores what C held, NaN included
    out = C
    K.gemm(trans_a, trans_b, 0.5, A, B, beta, out)
    assert out is C
    _close(C, expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gd_update_and_sum_of_squares(rng, dtype):
    W = rng.standard_normal((3, 4)).astype(dtype)
    dW = rng.standard_normal((3, 4)).astype(dtype)
    expected = W - dtype(0.1) * dW
    view = W[:]
    K.gd_update(view, dW, 0.1)
    assert np.shares_memory(view, W)
    _close(W, expected, dtype)
    _close(K.sum_of_squares(W), np.sum(W.astype(np.float64) ** 2), dtype)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_momentum_update_is_the_formula(rng, dtype, nesterov):
    W, dW, v = (rng.standard_normal((4, 37)).astype(dtype) for _ in range(3))
    v_expected = dtype(0.9) * v + dtype(0.1) * dW
    step = dtype(0.9) * v_expected + dtype(0.1) * dW if nesterov else v_expected
    W_expected = W - dtype(0.05) * step
    W_view, v_view = W[:], v[:]
    K.momentum_update(W_view, dW, v_view, 0.9, 0.05, nesterov)
    assert np.shares_memory(W_view, W) and np.shares_memory(v_view, v)
    _close(v, v_expected, dtype)
    _close(W, W_expected, dtype)


@pytest.mark.parametrize("t", [1, 7])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_is_the_formula(rng, dtype, t):
    W, dW, v = (rng.standard_normal((4, 37)).astype(dtype) for _ in range(3))
    s = rng.random((4, 37)).astype(dtype)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    v_expected = b1 * v.astype(np.float64) + (1 - b1) * dW
    s_expected = b2 * s.astype(np.float64) + (1 - b2) * dW.astype(np.float64) ** 2
    W_expected = W - lr * (v_expected / (1 - b1 ** t)) / (np.sqrt(s_expected / (1 - b2 ** t)) + eps)
    dW_copy = dW.copy()
    K.adam_update(W, dW, v, s, b1, b2, eps, lr, t)
    _close(v, v_expected, dtype)
    _close(s, s_expected, dtype)
    _close(W, W_expected, dtype)
    np.testing.assert_array_equal(dW, dW_copy)  # the gradient is read, never written


def test_update_kernels_refuse_mismatched_shapes(rng):
    W, dW = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"v has shape \(4, 3\); expected \(3, 4\)"):
        K.momentum_update(W, dW, np.zeros((4, 3)), 0.9, 0.1)
    with pytest.raises(ValueError, match=r"s has shape \(3, 5\)"):
        K.adam_update(W, dW, np.zeros((3, 4)), np.zeros((3, 5)), 0.9, 0.999, 1e-8, 0.1, 1)


def test_kernels_take_read_only_inputs(rng):
    lin, b = _data(rng, np.float64)
    for array in (lin, b):
        array.setflags(write=False)
    A = np.empty_like(lin)
    K.activation_forward(K.ACTIVATION_CODES["tanh"], lin, b, A)
    _close(A, np.tanh(lin + b), np.float64)


# -- the build -------------------------------------------------------------------------

def test_cost_check_keeps_ieee_semantics():
    # Built without -ffinite-math-only: NaN and inf must still be recognised.
    assert K.accepts_cost(0.5)
    assert not K.accepts_cost(float("nan"))
    assert not K.accepts_cost(float("inf"))
    assert not K.accepts_cost(float("-inf"))
    assert not K.accepts_cost(2.0, limit=1.0)


def test_import_does_not_switch_on_flush_to_zero():
    # Fast math at link time would add crtfastmath.o and flush subnormals to zero for
    # the whole process; the build only uses its safe subset at compile time.
    tiny = np.finfo(np.float64).smallest_subnormal
    assert np.multiply(np.array([tiny]), 1.0)[0] == tiny
    assert np.float32(np.finfo(np.float32).smallest_subnormal) * np.float32(1) > 0


def test_build_matches_fastdl_debug():
    # .ci/debug_build.sh builds with FASTDL_DEBUG=1 and runs these tests with it set.
    assert K.BOUNDSCHECK == (os.environ.get("FASTDL_DEBUG", "0") == "1")


@pytest.mark.skipif(not K.BOUNDSCHECK, reason="release build: no bounds checks")
def test_debug_build_checks_bounds():
    with pytest.raises(IndexError):
        K.sum_of_squares(np.empty((0, 3)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_within_finds_any_bad_entry(rng, dtype):
    x = rng.uniform(-1, 1, (7, 37)).astype(dtype)
    assert K.all_within(x) is True and K.all_within(x.T) is True  # C and F order
    assert K.all_within(x, -1.0, 1.0) is True
    assert K.all_within(x, 0.0, 1.0) is False
    for bad in (np.nan, np.inf, -np.inf):
        for where in [(0, 0), (3, 17), (6, 36)]:  # first, middle, last (a loop remainder)
            y = x.copy()
            y[where] = bad
            assert K.all_within(y) is False, (bad, where)
    assert K.all_within(x[:, ::2]) is None  # not contiguous: the caller falls back to numpy
    assert K.all_within(x.astype(np.int64)) is None


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 768])
@pytest.mark.parametrize("dtype", DTYPES)
def test_compiled_dropout_draws_equal_the_numpy_ones(dtype, count):
    """The masks drawn in C (three units a 64-bit draw, written as bit patterns) are the
    very masks fastdl._batches.DropoutMasks draws, every remainder of three included."""
    from fastdl._batches import DropoutMasks

    keep = 0.7
    out = np.empty(count, dtype=dtype)
    K.draw_dropout(np.random.default_rng(11), out, keep)
    expected = DropoutMasks([3, count, 1], [keep], np.dtype(dtype), np.random.default_rng(11)).draw(1)[0]
    np.testing.assert_array_equal(out, expected.ravel())
    assert set(np.unique(out)) <= {0, dtype(1 / keep)}


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.8, 0.999])
def test_compiled_dropout_keeps_each_unit_with_probability_keep(keep):
    """Each of the three units of a draw (low, middle, high bits) is kept with probability
    keep, independently of the others: a slip in the shifts shows as a wrong fraction at
    one position of the three, or as units that agree too often."""
    count = 3 * 200_000
    out = np.empty(count, dtype=np.float64)
    K.draw_dropout(np.random.default_rng(5), out, keep)
    kept = (out != 0).reshape(-1, 3)
    bound = 5 * np.sqrt(keep * (1 - keep) / kept.shape[0])  # five standard deviations
    np.testing.assert_allclose(kept.mean(axis=0), keep, atol=bound)
    both = (kept[:, 0] & kept[:, 1]).mean(), (kept[:, 1] & kept[:, 2]).mean()
    np.testing.assert_allclose(both, keep * keep, atol=bound)


# -- results do not depend on where in memory the arrays lie ----------------------------------
# A vectorised sum that first steps to an aligned address splits its terms over the lanes
# differently for each start address, and so rounds differently: the same network then
# trained differently from one run to the next as the heap put its buffers elsewhere.
def _placed(array, shift, rng):
    """A copy of ``array`` whose data starts ``shift`` elements past a 64-byte boundary,
    with garbage in the bytes around it."""
    itemsize = array.dtype.itemsize
    raw = rng.integers(0, 256, array.nbytes + 192, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64 + shift * itemsize
    placed = raw[start:start + array.nbytes].view(array.dtype).reshape(array.shape)
    placed[...] = array
    assert placed.ctypes.data % 64 == shift * itemsize
    return placed


def _shift_pairs(dtype):
    lanes = 64 // np.dtype(dtype).itemsize
    return [(shift, (3 * shift + 1) % lanes) for shift in range(lanes)]


def _same_bits(results, expected):
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(np.atleast_1d(got).view(np.uint8), np.atleast_1d(want).view(np.uint8))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_sums_do_not_depend_on_addresses(rng, name, dtype):
    lin, b = _data(rng, dtype, n=3, m=203)
    A, dA = np.empty_like(lin), rng.standard_normal(lin.shape).astype(dtype)
    K.activation_forward(K.ACTIVATION_CODES[name], lin, b, A, SLOPE)
    results = []
    for shift, other in _shift_pairs(dtype):
        dZ, db = _placed(np.zeros_like(lin), shift, rng), np.empty((3, 1), dtype)
        K.activation_backward(K.ACTIVATION_CODES[name], _placed(dA, other, rng),
                              _placed(A, shift, rng), dZ, db, SLOPE)
        results.append((dZ.copy(), db))
    for result in results[1:]:
        _same_bits(result, results[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE + ["exp", "softmax"])
def test_forward_and_output_do_not_depend_on_addresses(rng, name, dtype):
    n = 4 if name == "softmax" else 3
    lin, b = _data(rng, dtype, n=n, m=203)
    if name == "softmax":
        Y = np.eye(n, dtype=dtype)[:, rng.integers(0, n, lin.shape[1])]
    else:
        Y = naive.random_labels(rng, name, lin.shape, dtype)
    code, results = K.ACTIVATION_CODES[name], []
    for shift, other in _shift_pairs(dtype):
        A = _placed(np.zeros_like(lin), other, rng)
        if name != "softmax":
            K.activation_forward(code, _placed(lin, shift, rng), b, A, SLOPE)
        dZ, db = _placed(np.zeros_like(lin), other, rng), np.empty((n, 1), dtype)
        J = K.output_layer(code, _placed(lin, shift, rng), b, _placed(Y, other, rng), dZ, db,
                           SLOPE, _placed(np.linspace(0.5, 1.5, lin.shape[1], dtype=dtype), shift, rng))
        results.append((A.copy(), dZ.copy(), db, np.float64(J)))
    for result in results[1:]:
        _same_bits(result, results[0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_of_squares_does_not_depend_on_addresses(rng, dtype):
    W = rng.standard_normal((7, 131)).astype(dtype)
    sums = [K.sum_of_squares(_placed(W, shift, rng)) for shift, _ in _shift_pairs(dtype)]
    _same_bits(sums[1:], sums[:1] * (len(sums) - 1))


def _packed(arrays, gap):
    """Copies of ``arrays`` laid out one after another in one buffer, ``gap`` elements apart:
    where arrays lie this close, the vectoriser's overlap check sends a loop down its
    scalar version, which must compute exactly what the vector one does."""
    size = arrays[0].size
    buffer = np.zeros(len(arrays) * (size + gap), arrays[0].dtype)
    placed = [buffer[i * (size + gap):i * (size + gap) + size].reshape(a.shape)
              for i, a in enumerate(arrays)]
    for target, a in zip(placed, arrays):
        target[...] = a
    return placed


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rule", ["gd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("size", [1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 33])
def test_updates_do_not_depend_on_where_their_arrays_lie(rng, rule, size, dtype):
    theta, d, v = (rng.standard_normal((1, size)).astype(dtype) for _ in range(3))
    s = rng.uniform(0, 0.1, (1, size)).astype(dtype)

    def update(theta, d, v, s):
        if rule == "gd":
            K.gd_update(theta, d, 0.01)
        elif rule == "adam":
            K.adam_update(theta, d, v, s, 0.9, 0.999, 1e-8, 0.01, 3)
        else:
            K.momentum_update(theta, d, v, 0.9, 0.01, rule == "nesterov")
        return theta, v, s

    expected = update(*(a.copy() for a in (theta, d, v, s)))
    for gap in range(20):
        _same_bits(update(*_packed([theta, d, v, s], gap)), expected)
