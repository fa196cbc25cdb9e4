"""The compiled engine against the numpy reference engine, case by case."""
import numpy as np
import pytest

import naive

pytest.importorskip("fastdl._kernels", reason="the compiled kernels are not built")

import fastdl  # noqa: E402
from fastdl import _kernels  # noqa: E402
from fastdl._cython_backend import CythonEngine  # noqa: E402
from fastdl._numpy_backend import NumpyEngine  # noqa: E402
from fastdl._optimizers import Adam, GradientDescent, Momentum  # noqa: E402

NAMES = ["leaky_relu", "linear", "relu", "sigmoid", "tanh"]
DTYPES = [np.float32, np.float64]
LAYOUTS = ["C", "F"]
# Same formulas, so only rounding differs: BLAS blocking, libmvec's exp/tanh (<= 4 ulp)
# and the order of sums. float64 agrees to ~1e-14 after 10 steps, float32 to ~1e-6.
RTOL = {np.float64: 1e-10, np.float32: 1e-4}
# atol, relative to the largest entry: entries that are sums over examples or units
# (db, dW, a cost near 0) can cancel to almost nothing while keeping the absolute
# rounding error of the terms that cancelled, which is ~eps × the largest term.
ATOL = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.fixture(autouse=True, params=["one block", "blocks of 7"])
def backward_block(request, monkeypatch):
    """Every test twice: batches in one backward block (as up to 1024 examples are), and
    in blocks of 7 columns with a remainder, the path of large batches."""
    if request.param == "blocks of 7":
        monkeypatch.setattr(CythonEngine, "backward_block", 7)
    return request.param


def _close(actual, expected, dtype, what=""):
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=ATOL[dtype] * scale,
                               err_msg=what)


def _gradients_agree(result, reference, dtype):
    """``(J, [(dW, db), ...])`` of the compiled engine against the reference's."""
    (J, grads), (J_ref, grads_ref) = result, reference
    _close(J, J_ref, dtype, "J")
    assert len(grads) == len(grads_ref)
    for l, ((dW, db), (dW_ref, db_ref)) in enumerate(zip(grads, grads_ref), start=1):
        _close(dW, dW_ref, dtype, f"dW{l}")
        _close(db, db_ref, dtype, f"db{l}")


def _engines(dims, activations, dtype, seed=3, leaky_slope=0.01):
    net = fastdl.Network(dims, activations, dtype=dtype, seed=seed, init="xavier",
                         leaky_slope=leaky_slope, backend="numpy")
    spec = net._spec
    return NumpyEngine(spec), CythonEngine(spec), net._params


def _copy(params):
    return [(W.copy(), b.copy()) for W, b in params]


def _layout(X, layout, tmp_path):
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "read-only":
        X = X.copy()
        X.setflags(write=False)
        return X
    if layout == "memmap":
        path = tmp_path / "X.dat"
        X.tofile(path)
        return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)
    if layout == "F, padded columns":  # a column stride longer than the rows
        padded = np.zeros((X.shape[0] + 3, X.shape[1]), dtype=X.dtype, order="F")
        padded[:X.shape[0]] = X
        return padded[:X.shape[0]]
    if layout == "C, padded rows":  # a row stride longer than the columns
        padded = np.zeros((X.shape[0], X.shape[1] + 5), dtype=X.dtype)
        padded[:, :X.shape[1]] = X
        return padded[:, :X.shape[1]]
    return X


def _cases():
    cases = []
    for name in NAMES + ["exp"]:
        for L in range(1, 6):
            cases.append(("output", name, L))
            if L > 1 and name != "exp":  # exp is an output activation only
                cases.append(("hidden", name, L))
    return cases


# Read-only and memory-mapped inputs: every activation in both roles, at one depth.
READ_ONLY_CASES = [(role, name, 3) for name in NAMES for role in ("hidden", "output")]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("role, name, L", _cases())
def test_engine_matches_numpy(rng, tmp_path, role, name, L, dtype, layout):
    _check_against_numpy(rng, tmp_path, role, name, L, dtype, layout)


@pytest.mark.parametrize("layout", ["read-only", "memmap", "F, padded columns", "C, padded rows"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("role, name, L", READ_ONLY_CASES)
def test_engine_takes_read_only_and_strided_inputs(rng, tmp_path, role, name, L, dtype, layout):
    """Catches an X whose leading dimension is taken from its shape instead of its
    strides (the F-ordered view of a wider array, a C-ordered column slice)."""
    _check_against_numpy(rng, tmp_path, role, name, L, dtype, layout)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("role", ["hidden", "output"])
def test_leaky_slope_reaches_the_compiled_engine(rng, tmp_path, role, dtype):
    """Catches a compiled engine that ignores ``leaky_slope`` (say, always 0.01): a slope
    of 0.3 changes every value on the negative side."""
    _check_against_numpy(rng, tmp_path, role, "leaky_relu", 3, dtype, "C", leaky_slope=0.3)


def _check_against_numpy(rng, tmp_path, role, name, L, dtype, layout, leaky_slope=0.01):
    """forward, cost, gradients and 10 steps, for ``name`` as the output layer (tanh
    hidden layers) or as every hidden layer (sigmoid output, cross-entropy)."""
    dims = [4, 6, 5, 4, 3][:L] + [2]
    hidden, output = ("tanh", name) if role == "output" else (name, "sigmoid")
    activations = [hidden] * (L - 1) + [output]
    numpy_engine, engine, params = _engines(dims, activations, dtype, leaky_slope=leaky_slope)
    m = 37
    X0 = rng.standard_normal((dims[0], m)).astype(dtype)
    Y = naive.random_labels(rng, output, (dims[-1], m), dtype)
    if layout == "F":
        Y = np.asfortranarray(Y)
    X = _layout(X0, layout, tmp_path)
    X_copy, Y_copy = np.array(X), Y.copy()

    _close(engine.forward(params, X), numpy_engine.forward(params, X0), dtype, "forward")
    _close(engine.cost(params, X, Y), numpy_engine.cost(params, X0, Y), dtype, "cost")
    _gradients_agree(engine.gradients(params, X, Y), numpy_engine.gradients(params, X0, Y),
                     dtype)

    mine, reference = _copy(params), _copy(params)
    optimizer = GradientDescent(0.1)
    for i in range(10):
        J = engine.step(mine, X, Y, optimizer)
        J_ref = numpy_engine.step(reference, X0, Y, optimizer)
        _close(J, J_ref, dtype, f"J at step {i}")
    for l, ((W, b), (W_ref, b_ref)) in enumerate(zip(mine, reference), start=1):
        _close(W, W_ref, dtype, f"W{l} after 10 steps")
        _close(b, b_ref, dtype, f"b{l} after 10 steps")
    np.testing.assert_array_equal(X, X_copy)  # inputs never modified
    np.testing.assert_array_equal(Y, Y_copy)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_softmax_output_matches_numpy(rng, dtype):
    numpy_engine, engine, params = _engines([4, 6, 3], ["relu", "softmax"], dtype)
    X = rng.standard_normal((4, 29)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[:, rng.integers(0, 3, 29)]
    _close(engine.forward(params, X), numpy_engine.forward(params, X), dtype)
    mine, reference = _copy(params), _copy(params)
    for _ in range(10):
        _close(engine.step(mine, X, Y, GradientDescent(0.5)),
               numpy_engine.step(reference, X, Y, GradientDescent(0.5)), dtype)
    for (W, b), (W_ref, b_ref) in zip(mine, reference):
        _close(W, W_ref, dtype)
        _close(b, b_ref, dtype)


OPTIMIZERS = {"gd": lambda: GradientDescent(0.3), "momentum": lambda: Momentum(0.3),
              "nesterov": lambda: Momentum(0.3, nesterov=True), "adam": lambda: Adam(0.01),
              "adam, uncorrected epsilon": lambda: Adam(0.01, epsilon=1e-3,
                                                        epsilon_form="uncorrected")}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_l2_dropout_and_optimizers_match_numpy(rng, dtype, optimizer, weighted):
    dims = [5, 8, 6, 1]
    numpy_engine, engine, params = _engines(dims, ["relu", "tanh", "sigmoid"], dtype)
    X = rng.standard_normal((5, 31)).astype(dtype)
    Y = (rng.random((1, 31)) > 0.5).astype(dtype)
    weights = rng.uniform(0, 2, (1, 31)).astype(dtype) if weighted else None
    make = OPTIMIZERS[optimizer]
    mine, reference = _copy(params), _copy(params)
    ours, theirs = make(), make()
    ours.start(mine)
    theirs.start(reference)
    for i in range(6):
        masks = [((rng.random((n, 31)) < 0.8) / 0.8).astype(dtype) for n in dims[1:-1]]
        masks[1] = None if i % 2 else masks[1]  # a layer without dropout in some steps
        J = engine.step(mine, X, Y, ours, l2=0.7, masks=masks, weights=weights)
        J_ref = numpy_engine.step(reference, X, Y, theirs, l2=0.7, masks=masks, weights=weights)
        _close(J, J_ref, dtype, f"J at step {i}")
    for (W, b), (W_ref, b_ref) in zip(mine, reference):
        _close(W, W_ref, dtype)
        _close(b, b_ref, dtype)
    _close(engine.cost(mine, X, Y, l2=0.7, weights=weights),
           numpy_engine.cost(mine, X, Y, l2=0.7, weights=weights), dtype)
    _gradients_agree(engine.gradients(mine, X, Y, l2=0.7, weights=weights),
                     numpy_engine.gradients(mine, X, Y, l2=0.7, weights=weights), dtype)
    # The compiled update keeps the optimizer's own state, as the reference does.
    for state, state_ref in zip(_state(ours), _state(theirs)):
        _close(state, state_ref, dtype)
    assert getattr(ours, "t", None) == getattr(theirs, "t", None)


def _small_problem(rng):
    """The engines of a [3, 4, 1] tanh/sigmoid network, its parameters, and 20 examples."""
    numpy_engine, engine, params = _engines([3, 4, 1], ["tanh", "sigmoid"], np.float64)
    X = rng.standard_normal((3, 20))
    Y = (rng.random((1, 20)) > 0.5).astype(float)
    return numpy_engine, engine, params, X, Y


def _state(optimizer):
    """Every state array of an optimizer, flat (velocities, or Adam's two moments)."""
    if isinstance(optimizer, Momentum):
        return [array for pair in optimizer.velocities for array in pair]
    if isinstance(optimizer, Adam):
        return [array for pair in optimizer.moments for moments in pair for array in moments]
    return []


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_refused_step_leaves_parameters_and_optimizer_state_alone(rng, optimizer):
    _, engine, params, X, Y = _small_problem(rng)
    opt = Momentum(0.1) if optimizer == "momentum" else Adam(0.1)
    opt.start(params)
    engine.step(params, X, Y, opt)
    before = [a.copy() for pair in params for a in pair] + [a.copy() for a in _state(opt)]
    t = getattr(opt, "t", None)
    J = engine.step(params, X, Y, opt, limit=0.0)  # any cost is above the limit
    assert J > 0
    after = [a for pair in params for a in pair] + _state(opt)
    assert len(after) == len(before) > 4
    for old, new in zip(before, after):
        np.testing.assert_array_equal(new, old)
    assert getattr(opt, "t", None) == t


def test_replaced_optimizer_state_is_rebound(rng):
    numpy_engine, engine, params, X, Y = _small_problem(rng)
    mine, reference = _copy(params), _copy(params)
    ours, theirs = Momentum(0.1), Momentum(0.1)
    ours.start(mine)
    theirs.start(reference)
    for i in range(3):
        if i == 1:  # new arrays (same values) in the middle of training
            ours.velocities[0] = tuple(v.copy() for v in ours.velocities[0])
        _close(engine.step(mine, X, Y, ours), numpy_engine.step(reference, X, Y, theirs),
               np.float64)
    for state, state_ref in zip(_state(ours), _state(theirs)):
        _close(state, state_ref, np.float64)


def test_optimizer_state_of_the_wrong_kind_is_refused(rng):
    _, engine, params, X, Y = _small_problem(rng)
    momentum = Momentum(0.1)
    momentum.start(params)
    engine.step(params, X, Y, momentum)
    before = _copy(params)
    with pytest.raises(ValueError, match="optimizer state of layer 1 holds 2 arrays; expected 4"):
        engine._workspace.run(params, X, Y, _kernels.STEP, 0.1, state=momentum.velocities,
                              opt=_kernels.OPTIMIZER_CODES["adam"])  # Adam needs 4 arrays
    for (W, b), (W_old, b_old) in zip(params, before):
        np.testing.assert_array_equal(W, W_old)
        np.testing.assert_array_equal(b, b_old)


def test_optimizer_state_that_does_not_match_is_refused(rng):
    _, engine, params, X, Y = _small_problem(rng)
    opt = Momentum(0.1)
    opt.start(params)
    opt.velocities[1] = (np.zeros((2, 4)), np.zeros((1, 1)))  # layer 2 is (1, 4)
    with pytest.raises(ValueError, match="optimizer state of layer 2"):
        engine.step(params, X, Y, opt)


def test_batches_of_any_size_reuse_and_grow_the_buffers(rng):
    numpy_engine, engine, params = _engines([3, 5, 1], ["tanh", "sigmoid"], np.float64)
    X = rng.standard_normal((3, 100))
    Y = (rng.random((1, 100)) > 0.5).astype(float)
    for start, stop in [(0, 40), (40, 60), (60, 100), (0, 100), (0, 7)]:
        # C-ordered column slices: BLAS reads them with leading dimension 100, no copy.
        Xb, Yb = X[:, start:stop], Y[:, start:stop]
        _gradients_agree(engine.gradients(params, Xb, Yb),
                         numpy_engine.gradients(params, Xb, Yb), np.float64)
    assert engine._workspace.capacity == 100


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dims", [[3, 1], [3, 2], [1, 4, 1]])
def test_one_unit_and_one_input_layers_read_column_slices(rng, dims, order):
    """Products with one output row or column go through GEMV, with the slice's leading
    dimension (a C-ordered column slice, or a row slice of an F-ordered array)."""
    activations = ["tanh"] * (len(dims) - 2) + ["sigmoid"]
    numpy_engine, engine, params = _engines(dims, activations, np.float64)
    X_full = np.asarray(rng.standard_normal((dims[0], 50)), order=order)
    Y = (rng.random((dims[-1], 50)) > 0.5).astype(float)
    X, Yb = X_full[:, 10:37], Y[:, 10:37]
    _close(engine.forward(params, X), numpy_engine.forward(params, X), np.float64)
    mine, reference = _copy(params), _copy(params)
    for _ in range(3):
        _close(engine.step(mine, X, Yb, GradientDescent(0.5)),
               numpy_engine.step(reference, X, Yb, GradientDescent(0.5)), np.float64)
    _gradients_agree(engine.gradients(mine, X, Yb), numpy_engine.gradients(reference, X, Yb),
                     np.float64)


def test_strided_input_is_handled(rng):
    numpy_engine, engine, params = _engines([3, 4, 2], ["relu", "linear"], np.float64)
    X = rng.standard_normal((6, 40))[::2, ::2]  # neither C- nor F-contiguous
    _close(engine.forward(params, X), numpy_engine.forward(params, X), np.float64)


@pytest.mark.parametrize("where", ["hidden", "output"])
def test_custom_activation_through_function_pointers(rng, where):
    pytest.importorskip("numba")
    softsign = fastdl.custom_activation("softsign_k", lambda z: z / (1 + abs(z)),
                                        lambda z: 1 / (1 + abs(z)) ** 2)
    activations = [softsign, "linear"] if where == "hidden" else ["tanh", softsign]
    numpy_engine, engine, params = _engines([3, 5, 2], activations, np.float64)
    X = rng.standard_normal((3, 23))
    Y = rng.uniform(-0.9, 0.9, (2, 23))
    mine, reference = _copy(params), _copy(params)
    for _ in range(5):
        _close(engine.step(mine, X, Y, GradientDescent(0.2)),
               numpy_engine.step(reference, X, Y, GradientDescent(0.2)), np.float64)
    for (W, b), (W_ref, b_ref) in zip(mine, reference):
        _close(W, W_ref, np.float64)
        _close(b, b_ref, np.float64)


# -- in place, backups, divergence ------------------------------------------------------

def test_step_updates_params_in_place_and_fills_backup(rng):
    numpy_engine, engine, params = _engines([3, 4, 1], ["relu", "sigmoid"], np.float64)
    X = rng.standard_normal((3, 20))
    Y = (rng.random((1, 20)) > 0.5).astype(float)
    arrays = [a for pair in params for a in pair]
    before = _copy(params)
    backup = [(np.empty_like(W), np.empty_like(b)) for W, b in params]
    engine.step(params, X, Y, GradientDescent(0.1), backup)
    assert all(a is b for a, b in zip(arrays, [a for pair in params for a in pair]))
    for (W, b), (W0, b0), (Ws, bs) in zip(params, before, backup):
        np.testing.assert_array_equal(Ws, W0)  # backup: the pre-update parameters
        np.testing.assert_array_equal(bs, b0)
        assert not np.array_equal(W, W0)


def test_gradients_never_alias_the_engine_buffers(rng):
    """Catches gradients handed out as the workspace's own buffers: the next call (a
    cost on other data, as gradient_check makes) would rewrite the caller's result."""
    numpy_engine, engine, params = _engines([3, 4, 1], ["relu", "sigmoid"], np.float64)
    X = rng.standard_normal((3, 20))
    Y = (rng.random((1, 20)) > 0.5).astype(float)
    J, grads = engine.gradients(params, X, Y)
    kept = [(dW.copy(), db.copy()) for dW, db in grads]
    buffers = [array for pair in engine._workspace.grads for array in pair]
    assert not any(np.shares_memory(mine, buffer) for pair in grads for mine in pair
                   for buffer in buffers)
    engine.cost(params, 3 * X, 1 - Y)
    engine.gradients(params, -X, Y)
    for (dW, db), (dW_kept, db_kept) in zip(grads, kept):
        np.testing.assert_array_equal(dW, dW_kept)
        np.testing.assert_array_equal(db, db_kept)
    _gradients_agree((J, grads), numpy_engine.gradients(params, X, Y), np.float64)


class _FailingEmpty:
    """numpy for the kernels module, except that its ``fail``-th np.empty raises."""

    def __init__(self, fail):
        self.fail, self.calls = fail, 0

    def __getattr__(self, name):
        return getattr(np, name)

    def empty(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.fail:
            raise MemoryError("no memory for this buffer (injected)")
        return np.empty(*args, **kwargs)


def _fit_everything(net, X, Y):
    """A fit that allocates every kind of buffer: dW (Adam), dA blocks, dropout's."""
    return net.fit(X, Y, learning_rate=0.01, epochs=2, optimizer="adam", keep_prob=0.8)


def test_a_memory_error_in_any_allocation_leaves_the_network_usable(rng, monkeypatch):
    """Catches a workspace that allocates a group of buffers one at a time and keeps the
    part it got: after a MemoryError the next call wrote through NULL (a segfault). Each
    allocation of a fit fails in turn; the network must then refuse cleanly and, with
    memory back, train exactly like one that never failed."""
    X = rng.standard_normal((5, 40))
    Y = (X[:1] > 0).astype(float)
    counter = _FailingEmpty(fail=0)
    monkeypatch.setattr(_kernels, "np", counter)
    _fit_everything(fastdl.Network([5, 7, 3, 1], seed=1, backend="cython"), X, Y)
    allocations = counter.calls
    assert allocations >= 6  # H, db, sums, dA, dW, dropout's Am: at least one of each kind
    reference = fastdl.Network([5, 7, 3, 1], seed=1, backend="cython")
    _fit_everything(reference, X, Y)
    for fail in range(1, allocations + 1):
        net = fastdl.Network([5, 7, 3, 1], seed=1, backend="cython")
        monkeypatch.setattr(_kernels, "np", _FailingEmpty(fail))
        with pytest.raises(MemoryError, match="injected"):
            _fit_everything(net, X, Y)
        assert net.history.stop_reason == "error"
        monkeypatch.setattr(_kernels, "np", np)
        net._rng = np.random.default_rng([1, 1])  # the failed fit drew its first masks
        _fit_everything(net, X, Y)
        for key, value in reference.parameters.items():
            np.testing.assert_array_equal(net.parameters[key], value, err_msg=f"{key}, fail={fail}")


def test_rebinds_when_params_are_new_arrays(rng):
    numpy_engine, engine, params, X, Y = _small_problem(rng)
    engine.cost(params, X, Y)
    other = [(W * 2, b + 1) for W, b in params]
    _close(engine.cost(other, X, Y), numpy_engine.cost(other, X, Y), np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_divergence_updates_nothing_and_backup_keeps_last_good(rng, dtype):
    _, engine, params = _engines([2, 3, 1], ["relu", "linear"], dtype)
    X = (10 * rng.standard_normal((2, 16))).astype(dtype)
    Y = rng.standard_normal((1, 16)).astype(dtype)
    backup = [(np.empty_like(W), np.empty_like(b)) for W, b in params]
    optimizer = GradientDescent(1e15)  # diverges within a few steps
    last_good = None
    for _ in range(20):
        before = _copy(params)
        J = engine.step(params, X, Y, optimizer, backup)
        if not np.isfinite(J):
            break
        last_good = before
    assert not np.isfinite(J) and last_good is not None
    for (W, b), (W0, b0), (Ws, bs), (Wg, bg) in zip(params, before, backup, last_good):
        np.testing.assert_array_equal(W, W0)  # the failing step changed nothing
        np.testing.assert_array_equal(b, b0)
        np.testing.assert_array_equal(Ws, Wg)  # backup: the last parameters whose cost was finite
        np.testing.assert_array_equal(bs, bg)


def test_limit_blocks_the_update(rng):
    _, engine, params = _engines([2, 3, 1], ["relu", "sigmoid"], np.float64)
    X = rng.standard_normal((2, 16))
    Y = (rng.random((1, 16)) > 0.5).astype(float)
    before = _copy(params)
    J = engine.step(params, X, Y, GradientDescent(0.1), limit=1e-9)
    assert J > 1e-9
    for (W, b), (W0, b0) in zip(params, before):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def test_network_uses_the_compiled_engine_end_to_end(rng):
    X = rng.standard_normal((4, 60))
    Y = (X[:1] + X[1:2] > 0).astype(float)
    fast = fastdl.Network([4, 8, 1], seed=0, backend="cython")
    slow = fastdl.Network([4, 8, 1], seed=0, backend="numpy")
    assert fast.backend == "cython"
    history = fast.fit(X.T.T, Y, learning_rate=0.1, epochs=30, batch_size=16)
    reference = slow.fit(X, Y, learning_rate=0.1, epochs=30, batch_size=16)
    np.testing.assert_allclose(history.costs, reference.costs, rtol=1e-10)
    np.testing.assert_allclose(fast.predict_proba(X.T.copy().T), slow.predict_proba(X), rtol=1e-10)


def test_a_batch_larger_than_the_block_is_done_in_blocks(rng):
    numpy_engine, engine, params = _engines([4, 6, 5, 1], ["relu", "tanh", "sigmoid"],
                                            np.float64)
    engine.backward_block = 5
    X = rng.standard_normal((4, 23))
    Y = (rng.random((1, 23)) > 0.5).astype(float)
    mine, reference = _copy(params), _copy(params)
    for _ in range(3):
        _close(engine.step(mine, X, Y, GradientDescent(0.5)),
               numpy_engine.step(reference, X, Y, GradientDescent(0.5)), np.float64)
    workspace = engine._workspace
    assert workspace.block == 5 and workspace.capacity == 23 and workspace.block_limit == 5
    assert workspace.grads is not None  # blocked descent reads dW from the gradient buffers
    for (W, b), (W_ref, b_ref) in zip(mine, reference):
        _close(W, W_ref, np.float64)
        _close(b, b_ref, np.float64)


def test_a_batch_beyond_blas_int_sizes_is_refused_before_any_allocation():
    _, engine, params = _engines([1, 2, 1], ["tanh", "sigmoid"], np.float64)
    X = np.broadcast_to(np.zeros((1, 1)), (1, 2**31))  # no memory behind it
    with pytest.raises(ValueError, match=r"a batch of m = 2147483648 examples is more than"):
        engine.forward(params, X)
    assert engine._workspace is None


def test_bits_do_not_depend_on_earlier_calls(rng):
    """Catches a backward block width taken from the largest batch the network has seen:
    a prediction on a larger set, or a larger dev set, changed the order in which dW and
    db are summed, and so the last bits of a fit with the same seed."""
    X, X_big = rng.standard_normal((4, 200)), rng.standard_normal((4, 3000))
    Y = (X[:1] > 0).astype(float)
    Y_big = (X_big[:1] > 0).astype(float)
    nets = [fastdl.Network([4, 64, 1], seed=2, backend="cython") for _ in range(3)]
    nets[0].fit(X, Y, learning_rate=0.1, epochs=5)
    nets[1].predict(X_big)  # grows the workspace before the fit
    nets[1].fit(X, Y, learning_rate=0.1, epochs=5)
    nets[2].fit(X, Y, learning_rate=0.1, epochs=5, dev=(X_big, Y_big))
    assert _kernels._block_width([4, 64, 1], 200, 1024) < 200  # the fit is done in blocks
    for other in nets[1:]:
        for key, value in nets[0].parameters.items():
            np.testing.assert_array_equal(other.parameters[key], value, err_msg=key)


@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_float32_sums_over_millions_of_examples_stay_accurate(hidden):
    """Catches db (and the cost) summed in float32 one example at a time: over 4 million
    examples that loses about 1e-5 relative; sums kept in double lose ~1e-8."""
    m = 2**22
    X = np.linspace(-1, 1, m, dtype=np.float32).reshape(1, m)
    Y = np.ones((1, m), dtype=np.float32)  # every dZ[2] = A - 1 < 0: no cancellation
    net = fastdl.Network([1, 2, 1], hidden=hidden, dtype="float32", seed=4, backend="cython")
    grads, J = net.gradients(X, Y), net.cost(X, Y)
    p = {k: v.astype(np.float64) for k, v in net.parameters.items()}
    g = np.tanh if hidden == "tanh" else (lambda z: np.maximum(z, 0))
    X64 = X.astype(np.float64)
    A1 = g(p["W1"] @ X64 + p["b1"])
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    dZ2 = A2 - 1
    dZ1 = (p["W2"].T @ dZ2) * ((1 - A1**2) if hidden == "tanh" else (A1 > 0))
    J_ref = float(np.mean(np.log1p(np.exp(-Z2))))
    np.testing.assert_allclose(grads["db2"], dZ2.mean(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(grads["db1"], dZ1.mean(axis=1, keepdims=True), rtol=1e-6)
    assert J == pytest.approx(J_ref, rel=1e-6)


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "tanh", "linear", "exp"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_weighted_examples_match_numpy_for_every_output(rng, output, dtype):
    """Weights scale dZ[L] and the cost, and Σw replaces m, in the compiled iteration as in
    the reference (blocks of 7 included: the sums run over several blocks)."""
    numpy_engine, engine, params = _engines([4, 6, 3], ["relu", output], dtype)
    X = rng.standard_normal((4, 29)).astype(dtype)
    if output == "softmax":
        Y = np.eye(3, dtype=dtype)[:, rng.integers(0, 3, 29)]
    else:
        Y = naive.random_labels(rng, output, (3, 29), dtype)
    weights = rng.uniform(0, 3, (1, 29)).astype(dtype)
    weights[0, ::5] = 0
    _close(engine.cost(params, X, Y, weights=weights),
           numpy_engine.cost(params, X, Y, weights=weights), dtype)
    _gradients_agree(engine.gradients(params, X, Y, weights=weights),
                     numpy_engine.gradients(params, X, Y, weights=weights), dtype)
    mine, reference = _copy(params), _copy(params)
    for _ in range(5):
        _close(engine.step(mine, X, Y, GradientDescent(0.1), weights=weights),
               numpy_engine.step(reference, X, Y, GradientDescent(0.1), weights=weights), dtype)
    for (W, b), (W_ref, b_ref) in zip(mine, reference):
        _close(W, W_ref, dtype)
        _close(b, b_ref, dtype)


def test_weights_that_do_not_fit_the_batch_are_refused(rng):
    _, engine, params, X, Y = _small_problem(rng)
    for bad in (np.ones((1, 5)), np.ones((1, 20), dtype=np.float32), np.ones((2, 20))[:, ::1][:1, ::2]):
        with pytest.raises(ValueError, match="weights must be 20 contiguous values"):
            engine.cost(params, X, Y, weights=bad)
