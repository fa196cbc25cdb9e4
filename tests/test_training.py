"""fit beyond batch gradient descent: optimizers, mini-batches, L2, dropout, softmax,
early stopping, divergence, interruption, progress and callbacks (issue 5).

Every behaviour is checked on each available backend; the update rules are also
checked against their formulas on hand-sized arrays.
"""
import io
import os
import signal

import numpy as np
import pytest

import fastdl
import naive
from fastdl._optimizers import Adam, GradientDescent, Momentum

BACKENDS = fastdl.available_backends()


def _data(rng, n_x=3, m=24):
    X = rng.standard_normal((n_x, m))
    Y = (X[:1] + 0.5 * X[1:2] > 0).astype(float)
    return X, Y


def _assert_same_params(a, b, rtol=0.0):
    pa, pb = a.parameters, b.parameters
    for key in pa:
        np.testing.assert_allclose(pa[key], pb[key], rtol=rtol, atol=0, err_msg=key)


# -- the update rules, by hand -----------------------------------------------------------
def test_gradient_descent_formula():
    W, b = np.array([[1.0, -2.0]]), np.array([[0.5]])
    GradientDescent(0.1).apply([(W, b)], [(np.array([[2.0, 4.0]]), np.array([[-1.0]]))])
    # W − α dW = [1 − 0.2, −2 − 0.4]; b − α db = 0.5 + 0.1
    np.testing.assert_allclose(W, [[0.8, -2.4]])
    np.testing.assert_allclose(b, [[0.6]])


def test_momentum_formula_two_steps():
    W, b = np.array([[1.0]]), np.array([[0.0]])
    opt = Momentum(0.1, beta=0.9)
    opt.start([(W, b)])
    opt.apply([(W, b)], [(np.array([[2.0]]), np.array([[1.0]]))])
    # v = 0.9·0 + 0.1·2 = 0.2, W = 1 − 0.1·0.2 = 0.98
    np.testing.assert_allclose(W, [[0.98]])
    opt.apply([(W, b)], [(np.array([[2.0]]), np.array([[1.0]]))])
    # v = 0.9·0.2 + 0.1·2 = 0.38, W = 0.98 − 0.038 = 0.942
    np.testing.assert_allclose(W, [[0.942]])
    # b: v = 0.1, b = −0.01; v = 0.19, b = −0.01 − 0.019 = −0.029
    np.testing.assert_allclose(b, [[-0.029]])


def test_nesterov_momentum_formula_two_steps():
    W, b = np.array([[1.0]]), np.array([[0.0]])
    opt = Momentum(0.1, beta=0.9, nesterov=True)
    opt.start([(W, b)])
    opt.apply([(W, b)], [(np.array([[2.0]]), np.array([[1.0]]))])
    # v = 0.2; the step looks ahead: 0.9·0.2 + 0.1·2 = 0.38, W = 1 − 0.038 = 0.962
    np.testing.assert_allclose(W, [[0.962]])
    opt.apply([(W, b)], [(np.array([[2.0]]), np.array([[1.0]]))])
    # v = 0.38; step 0.9·0.38 + 0.2 = 0.542, W = 0.962 − 0.0542 = 0.9078
    np.testing.assert_allclose(W, [[0.9078]])


def test_momentum_is_heavy_ball_momentum_rescaled():
    """scikit-learn's v := μv − η dW, W := W + v is fastdl's momentum with β = μ and
    α = η / (1 − μ): the documented conversion, step for step (Nesterov too)."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((6, 3))
    for nesterov in (False, True):
        W = np.zeros((1, 3))
        opt = Momentum(0.01 / (1 - 0.9), beta=0.9, nesterov=nesterov)
        opt.start([(W, np.zeros((1, 1)))])
        W_sk, v_sk = np.zeros(3), np.zeros(3)
        for g in grads:
            opt.apply([(W, np.zeros((1, 1)))], [(g.reshape(1, 3), np.zeros((1, 1)))])
            v_sk = 0.9 * v_sk - 0.01 * g
            W_sk += 0.9 * v_sk - 0.01 * g if nesterov else v_sk
            np.testing.assert_allclose(W[0], W_sk, rtol=1e-12, atol=1e-15)


def test_adam_with_uncorrected_epsilon_is_the_papers_efficient_form():
    W, b = np.array([[1.0]]), np.array([[0.0]])
    opt = Adam(0.1, beta1=0.9, beta2=0.999, epsilon=0.5, epsilon_form="uncorrected")
    opt.start([(W, b)])
    opt.apply([(W, b)], [(np.array([[2.0]]), np.array([[0.0]]))])
    # t = 1: v = 0.2, s = 0.004; α_t = 0.1·√0.001/0.1; W = 1 − α_t·0.2/(√0.004 + 0.5)
    np.testing.assert_allclose(W, [[1 - 0.1 * np.sqrt(0.001) / 0.1 * 0.2 / (np.sqrt(0.004) + 0.5)]])
    with pytest.raises(ValueError, match="epsilon_form='both' is not supported"):
        Adam(0.1, epsilon_form="both")


def test_adam_formula_two_steps():
    W, b = np.array([[1.0]]), np.array([[0.0]])
    opt = Adam(0.1, beta1=0.9, beta2=0.999, epsilon=1e-8)
    opt.start([(W, b)])
    opt.apply([(W, b)], [(np.array([[2.0]]), np.array([[0.0]]))])
    # t = 1: v = 0.2, s = 0.004; v̂ = 0.2/0.1 = 2, ŝ = 0.004/0.001 = 4; W = 1 − 0.1·2/(2 + 1e−8)
    np.testing.assert_allclose(W, [[1 - 0.1 * 2 / (2 + 1e-8)]], rtol=1e-14)
    np.testing.assert_allclose(b, [[0.0]])  # a zero gradient moves nothing
    before = W.copy()
    opt.apply([(W, b)], [(np.array([[-1.0]]), np.array([[0.0]]))])
    v = 0.9 * 0.2 + 0.1 * -1.0  # 0.08
    s = 0.999 * 0.004 + 0.001 * 1.0  # 0.004996
    v_hat, s_hat = v / (1 - 0.9 ** 2), s / (1 - 0.999 ** 2)
    np.testing.assert_allclose(W, before - 0.1 * v_hat / (np.sqrt(s_hat) + 1e-8), rtol=1e-13)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_one_fit_epoch_equals_the_formula(backend, optimizer, rng):
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 1], hidden="tanh", seed=1, backend=backend)
    before, grads = net.parameters, net.gradients(X, Y)
    net.fit(X, Y, learning_rate=0.05, epochs=1, optimizer=optimizer)
    after = net.parameters
    for key in before:
        d = grads["d" + key]
        if optimizer == "adam":  # first step: v̂ = dW, ŝ = dW², so the step is α·dW/(|dW| + ε)
            expected = before[key] - 0.05 * d / (np.abs(d) + 1e-8)
        elif optimizer == "momentum":  # v = (1 − β) dW
            expected = before[key] - 0.05 * 0.1 * d
        else:
            expected = before[key] - 0.05 * d
        np.testing.assert_allclose(after[key], expected, rtol=1e-10, atol=1e-12, err_msg=key)


# -- L2 and dropout ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_l2_cost_and_gradient_terms(backend, rng):
    X, Y = _data(rng)
    net = fastdl.Network([3, 5, 1], hidden="relu", seed=2, backend=backend)
    lam, m = 0.7, X.shape[1]
    params = net.parameters
    penalty = lam / (2 * m) * sum(np.sum(params[f"W{l}"] ** 2) for l in (1, 2))
    assert net.cost(X, Y, l2=lam) == pytest.approx(net.cost(X, Y) + penalty, rel=1e-12)
    plain, regular = net.gradients(X, Y), net.gradients(X, Y, l2=lam)
    for l in (1, 2):
        np.testing.assert_allclose(regular[f"dW{l}"], plain[f"dW{l}"] + lam / m * params[f"W{l}"], rtol=1e-12)
        np.testing.assert_allclose(regular[f"db{l}"], plain[f"db{l}"], rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "leaky_relu"])
def test_gradient_check_with_l2_and_fixed_dropout_masks(backend, hidden, rng):
    X, Y = _data(rng, m=12)
    net = fastdl.Network([3, 6, 5, 1], hidden=hidden, seed=3, backend=backend)
    keep = (0.8, 0.5)
    masks = [(rng.random((n, 12)) < p) / p for n, p in zip((6, 5), keep)]
    assert fastdl.gradient_check(net, X, Y, l2=0.4) < 1e-7
    assert fastdl.gradient_check(net, X, Y, dropout_masks=masks) < 1e-7
    assert fastdl.gradient_check(net, X, Y, l2=0.4, dropout_masks=masks) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_gradients_stay_right_where_momentum_and_adam_lead(backend, optimizer, rng):
    """The optimizers consume backprop's gradients; after they have moved the parameters
    (with L2 and mini-batches), those gradients still match finite differences."""
    X, Y = _data(rng, m=24)
    net = fastdl.Network([3, 6, 5, 1], hidden="tanh", seed=3, backend=backend)
    start = net.parameters
    net.fit(X, Y, learning_rate=0.05, epochs=15, batch_size=8, optimizer=optimizer, l2=0.3)
    assert any(not np.allclose(net.parameters[k], start[k]) for k in start)
    assert fastdl.gradient_check(net, X, Y, l2=0.3) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_is_reproducible_and_off_at_prediction(backend, rng):
    """Catches dropout left on when predicting: forward must be the plain formula on the
    trained parameters (the naive reference), call after call."""
    X, Y = _data(rng)
    nets = [fastdl.Network([3, 8, 8, 1], seed=5, backend=backend) for _ in range(2)]
    for net in nets:
        net.fit(X, Y, learning_rate=0.1, epochs=5, keep_prob=[0.7, 0.9])
    _assert_same_params(*nets)
    plain = fastdl.Network([3, 8, 8, 1], seed=5, backend=backend)
    plain.fit(X, Y, learning_rate=0.1, epochs=5)
    assert not np.allclose(plain.parameters["W1"], nets[0].parameters["W1"])  # dropout did act
    expected = naive.forward(nets[0].parameters, X, nets[0].activations)
    for _ in range(2):
        np.testing.assert_allclose(nets[0].forward(X), expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_draws_inverted_dropout_masks_and_trains_on_them(backend, dtype, rng):
    """Catches masks without the 1/keep_prob scale (or with the wrong keep rate): every
    mask the trainer hands the engine holds only 0 and 1/keep_prob, keeps about keep_prob
    of the units, and replaying the steps with those masks gives the fit's parameters."""
    X, Y = _data(rng, m=400)
    keep = [0.6, 0.9]
    net = fastdl.Network([3, 50, 40, 1], seed=5, dtype=dtype, backend=backend)
    replay = fastdl.Network([3, 50, 40, 1], seed=5, dtype=dtype, backend=backend)
    drawn = []
    step = net._engine.step

    def recording_step(params, X_batch, Y_batch, optimizer, backup, l2, masks, *rest):
        J = step(params, X_batch, Y_batch, optimizer, backup, l2, masks, *rest)
        if masks is not None:  # drawn by the trainer
            drawn.append([mask.copy() for mask in masks])
        else:  # drawn inside the compiled call
            drawn.append(net._engine.drawn_masks(X_batch.shape[1]))
        return J

    net._engine.step = recording_step
    net.fit(X, Y, learning_rate=0.1, epochs=3, keep_prob=keep)
    assert len(drawn) == 3
    for masks in drawn:
        for mask, p in zip(masks, keep):
            assert mask.dtype == np.dtype(dtype) and mask.shape[1] == 400
            scale = np.dtype(dtype).type(1 / p)
            assert set(np.unique(mask)) <= {0, scale}
            kept = np.mean(mask > 0)
            assert abs(kept - p) < 5 * np.sqrt(p * (1 - p) / mask.size)  # binomial, 5 sigma
        replay._engine.step(replay._params, *replay._check_XY(X, Y), GradientDescent(0.1),
                            masks=masks)
    _assert_same_params(net, replay)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_dropout_draws_the_masks_numpy_draws(dtype, rng):
    """The compiled engine draws dropout's masks inside its call from the network's bit
    generator; they are the very masks the numpy path draws with rng.random, so a dropout
    fit gives the same parameters on both backends (mini-batches and shuffling included)."""
    if "cython" not in BACKENDS:
        pytest.skip("the compiled engine is not built")
    X, Y = _data(rng, m=90)
    nets = [fastdl.Network([3, 16, 8, 1], seed=9, dtype=dtype, backend=b) for b in ("cython", "numpy")]
    for net in nets:
        net.fit(X, Y, learning_rate=0.1, epochs=4, batch_size=32, keep_prob=[0.7, 0.85],
                optimizer="momentum")
    _assert_same_params(*nets, rtol=1e-4 if dtype == "float32" else 1e-10)
    assert nets[0]._rng.bit_generator.state == nets[1]._rng.bit_generator.state


@pytest.mark.parametrize("backend", BACKENDS)
def test_keep_prob_one_is_no_dropout(backend, rng):
    X, Y = _data(rng)
    a, b = (fastdl.Network([3, 4, 1], seed=6, backend=backend) for _ in range(2))
    a.fit(X, Y, learning_rate=0.1, epochs=3, keep_prob=1.0)
    b.fit(X, Y, learning_rate=0.1, epochs=3)
    _assert_same_params(a, b)


# -- mini-batches ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_size_m_equals_full_batch(backend, rng):
    X, Y = _data(rng)
    a, b = (fastdl.Network([3, 4, 1], seed=7, backend=backend) for _ in range(2))
    ha = a.fit(X, Y, learning_rate=0.1, epochs=4, batch_size=X.shape[1])
    hb = b.fit(X, Y, learning_rate=0.1, epochs=4)
    _assert_same_params(a, b)
    assert ha.costs == hb.costs


@pytest.mark.parametrize("backend", BACKENDS)
def test_mini_batches_replay_shuffled_steps_with_a_smaller_last_batch(backend, rng):
    X, Y = _data(rng, m=10)
    net = fastdl.Network([3, 4, 1], seed=8, backend=backend)
    replay = fastdl.Network([3, 4, 1], seed=8, backend=backend)
    history = net.fit(X, Y, learning_rate=0.1, epochs=2, batch_size=4)
    stream = np.random.default_rng([8, 1])  # the network's shuffling stream
    for epoch in range(2):
        order = stream.permutation(10)
        costs = [replay.step(X[:, order[k:k + 4]], Y[:, order[k:k + 4]], 0.1) * len(order[k:k + 4])
                 for k in range(0, 10, 4)]  # batches of 4, 4 and 2
        assert history.costs[epoch] == pytest.approx(sum(costs) / 10, rel=1e-12)
    _assert_same_params(net, replay, rtol=1e-12)


# -- softmax ------------------------------------------------------------------------------
def _three_classes(rng, m=30):
    X = rng.standard_normal((4, m))
    labels = np.argmax(rng.standard_normal((3, 4)) @ X, axis=0).reshape(1, -1)
    return X, labels


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_gradients_pass_gradient_check(backend, rng):
    X, labels = _three_classes(rng, m=10)
    net = fastdl.Network([4, 5, 3], hidden="tanh", output="softmax", seed=9, backend=backend)
    assert fastdl.gradient_check(net, X, labels) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_labels_one_hot_predict(backend, rng):
    X, labels = _three_classes(rng)
    one_hot = np.eye(3)[labels[0]].T
    net = fastdl.Network([4, 6, 3], output="softmax", seed=10, backend=backend)
    assert net.cost(X, labels) == pytest.approx(net.cost(X, one_hot), rel=1e-14)
    A = net.predict_proba(X)
    np.testing.assert_allclose(A.sum(axis=0), 1, rtol=1e-12)
    # J = −(1/m) Σ log A[true class]
    expected = -np.mean(np.log(A[labels[0], np.arange(X.shape[1])]))
    assert net.cost(X, labels) == pytest.approx(expected, rel=1e-10)
    net.fit(X, labels, learning_rate=0.05, epochs=300, optimizer="adam")
    assert net.predict(X).shape == (1, X.shape[1])
    assert net.accuracy(X, labels) > 0.9
    np.testing.assert_array_equal(net.predict(X), np.argmax(net.forward(X), axis=0)[None])


def test_softmax_errors(rng):
    X, labels = _three_classes(rng)
    net = fastdl.Network([4, 3], output="softmax", backend="numpy")
    with pytest.raises(ValueError, match="integer labels 0..2"):
        net.cost(X, labels + 1)
    with pytest.raises(ValueError, match="column 0 sums to"):
        net.cost(X, np.full((3, X.shape[1]), 0.5))
    with pytest.raises(ValueError, match="only valid for the output layer"):
        fastdl.Network([4, 3, 3], hidden="softmax", output="softmax")


# -- early stopping, divergence, interruption, callbacks --------------------------------------
def _dev_set_best_after(epochs, backend, rng):
    """Training data, and a dev set whose targets are exactly what the network predicts
    after ``epochs`` epochs: its dev cost is 0 there and above 0 before and after, for any
    seed. The dev set is larger than the training set (it must not change the fit)."""
    X = rng.standard_normal((3, 40))
    Y = np.sin(X[:1]) + X[1:2]
    X_dev = rng.standard_normal((3, 90))
    twin = fastdl.Network([3, 6, 1], output="linear", seed=11, backend=backend)
    twin.fit(X, Y, learning_rate=0.1, epochs=epochs)
    return (X, Y), (X_dev, twin.forward(X_dev)), twin


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_restores_the_best_parameters(backend, rng):
    """Catches an early stop that keeps the first best copy and never refreshes it: the
    best epoch here is the fifth (index 4), so the copies of epochs 0..3 must be replaced."""
    train, dev, twin = _dev_set_best_after(5, backend, rng)
    net = fastdl.Network([3, 6, 1], output="linear", seed=11, backend=backend)
    history = net.fit(*train, learning_rate=0.1, epochs=200, dev=dev, patience=3)
    assert history.stop_reason == "early stopping"
    assert history.best_epoch == 4 and history.dev_costs[4] == 0.0 == min(history.dev_costs)
    assert len(history.dev_costs) == len(history.costs) == 4 + 4
    _assert_same_params(net, twin)
    assert net.cost(*dev) == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_without_restore_best_keeps_the_last_parameters(backend, rng):
    """Catches restore_best=False being ignored: the network must keep the parameters of
    the epoch early stopping ended on, not the best ones."""
    train, dev, _ = _dev_set_best_after(5, backend, rng)
    net = fastdl.Network([3, 6, 1], output="linear", seed=11, backend=backend)
    history = net.fit(*train, learning_rate=0.1, epochs=200, dev=dev, patience=3,
                      restore_best=False)
    assert history.stop_reason == "early stopping" and history.best_epoch == 4
    last = fastdl.Network([3, 6, 1], output="linear", seed=11, backend=backend)
    last.fit(*train, learning_rate=0.1, epochs=len(history.costs))
    _assert_same_params(net, last)
    assert net.cost(*dev) == history.dev_costs[-1] > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_stops_warns_and_keeps_the_last_good_parameters(backend):
    X, Y = fastdl.datasets.make_regression(m=50)
    net = fastdl.Network([3, 8, 1], output="linear", seed=12, backend=backend)
    with pytest.warns(fastdl.DivergenceWarning, match="learning_rate=3.0 is too large"):
        history = net.fit(X, 100 * Y, learning_rate=3.0, epochs=100)
    assert history.stop_reason == "diverged"
    assert 1 <= len(history.costs) < 100 and all(np.isfinite(history.costs))
    assert all(np.isfinite(value).all() for value in net.parameters.values())
    replay = fastdl.Network([3, 8, 1], output="linear", seed=12, backend=backend)
    if len(history.costs) > 1:
        replay.fit(X, 100 * Y, learning_rate=3.0, epochs=len(history.costs) - 1)
    _assert_same_params(net, replay)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype, scale", [("float64", 1e200), ("float32", 1e20)])
def test_an_infinite_first_cost_is_divergence(backend, dtype, scale, rng):
    """Catches a limit that starts at inf and lets an infinite first cost through
    ('inf <= inf'): fit recorded [inf, inf, ...] and 'finished', without a word."""
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 1], output="linear", dtype=dtype, seed=1, backend=backend)
    before = net.parameters
    with pytest.warns(fastdl.DivergenceWarning, match=r"the cost at the starting parameters is "
                      r"(inf|nan).*the largest \|x\| in X is"):
        history = net.fit(X * scale, Y, learning_rate=0.1, epochs=3)
    assert history.stop_reason == "diverged" and history.costs == []
    for key, value in before.items():
        np.testing.assert_array_equal(net.parameters[key], value, err_msg=key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_refused_first_step_does_not_make_a_stale_backup_valid(backend, rng):
    """Catches a refused step marking the backup valid although nothing was written to it:
    a later diverging step then 'restored' stale memory over the parameters the user set."""
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 1], output="linear", seed=1, backend=backend)
    mine = {key: value + 0.5 for key, value in net.parameters.items()}
    net.set_parameters(mine)
    with pytest.warns(fastdl.DivergenceWarning):
        net.fit(X * 1e200, Y, epochs=2)
    with pytest.raises(fastdl.DivergenceError, match="starting parameters"):
        net.step(X * 1e200, Y, 0.1)
    for key, value in mine.items():
        np.testing.assert_array_equal(net.parameters[key], value, err_msg=key)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("epochs", [1, 2])
def test_the_last_update_of_a_fit_is_checked(backend, epochs, tmp_path):
    """Catches a fit whose final update made the parameters non-finite ending 'finished'
    (its cost is never computed): save then wrote a file that load refuses."""
    X, Y = fastdl.datasets.make_regression(m=20)
    net = fastdl.Network([3, 4, 1], output="linear", seed=3, backend=backend)
    before = net.parameters
    with pytest.warns(fastdl.DivergenceWarning, match="learning_rate=1e[+]?308 is too large"):
        history = net.fit(X, 100 * Y, learning_rate=1e308, epochs=epochs)
    assert history.stop_reason == "diverged" and len(history.costs) == 1
    assert all(np.isfinite(value).all() for value in net.parameters.values())
    for key, value in before.items():  # the parameters of the one step whose cost was good
        np.testing.assert_array_equal(net.parameters[key], value, err_msg=key)
    net.save(tmp_path / "m.npz")
    fastdl.load(tmp_path / "m.npz")
    with pytest.raises(fastdl.DivergenceError):
        net.fit(X, 100 * Y, learning_rate=1e308, epochs=1, on_divergence="raise")
    assert all(np.isfinite(value).all() for value in net.parameters.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_step_that_makes_parameters_non_finite_is_undone(backend):
    """Catches Network.step leaving non-finite parameters after an update whose cost
    before it was finite."""
    X, Y = fastdl.datasets.make_regression(m=20)
    net = fastdl.Network([3, 4, 1], output="linear", seed=3, backend=backend)
    before = net.parameters
    with pytest.raises(fastdl.DivergenceError, match="too large"):
        net.step(X, 100 * Y, 1e308)
    for key, value in before.items():
        np.testing.assert_array_equal(net.parameters[key], value, err_msg=key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_exception_from_a_callback_keeps_the_network_and_says_why(backend, rng):
    """Catches an exception that leaves fit without a trace: the History (net.history)
    must say 'error' with the exception, and the network keep its trained parameters."""
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 1], seed=2, backend=backend)

    def broken(history):
        if len(history.costs) == 3:
            raise KeyError("no such column")

    with pytest.raises(KeyError, match="no such column") as caught:
        net.fit(X, Y, learning_rate=0.1, epochs=10, callbacks=[broken])
    assert net.history.stop_reason == "error" and net.history.iterations == 3
    assert net.history.error == "KeyError: 'no such column'"
    assert any("net.history holds the History" in note for note in caught.value.__notes__)
    replay = fastdl.Network([3, 4, 1], seed=2, backend=backend)
    replay.fit(X, Y, learning_rate=0.1, epochs=3)
    _assert_same_params(net, replay)


def test_divergence_can_raise():
    X, Y = fastdl.datasets.make_regression(m=50)
    net = fastdl.Network([3, 8, 1], output="linear", seed=12, backend="numpy")
    with pytest.raises(fastdl.DivergenceError, match="too large"):
        net.fit(X, 100 * Y, learning_rate=3.0, epochs=100, on_divergence="raise")
    assert all(np.isfinite(value).all() for value in net.parameters.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_stops_after_the_current_batch(backend, rng):
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 1], seed=13, backend=backend)

    def press_ctrl_c(history):
        if len(history.costs) == 3:
            os.kill(os.getpid(), signal.SIGINT)

    history = net.fit(X, Y, learning_rate=0.1, epochs=50, batch_size=8, callbacks=[press_ctrl_c])
    assert history.stop_reason == "interrupted"
    assert 3 <= len(history.costs) <= 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert all(np.isfinite(value).all() for value in net.parameters.values())


def test_callback_can_stop_training(rng):
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 1], backend="numpy")
    seen = []
    history = net.fit(X, Y, epochs=50, callbacks=[lambda h: seen.append(len(h.costs)) or len(h.costs) == 5])
    assert history.stop_reason == "stopped by a callback"
    assert seen == [1, 2, 3, 4, 5] and len(history.costs) == 5


def test_learning_rate_decay_schedules(rng):
    X, Y = _data(rng)
    net = fastdl.Network([3, 1], backend="numpy")
    inverse = net.fit(X, Y, learning_rate=0.1, epochs=4, lr_decay=1.0)
    assert inverse.learning_rates == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])
    step = net.fit(X, Y, learning_rate=0.1, epochs=5, lr_decay=1.0, decay_every=2)
    assert step.learning_rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.1 / 3])


# -- progress -----------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_0_is_silent_and_2_prints_each_epoch(rng, capsys):
    X, Y = _data(rng)
    net = fastdl.Network([3, 1], backend="numpy")
    net.fit(X, Y, epochs=5)
    assert capsys.readouterr().out == ""
    net.fit(X, Y, epochs=5, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"epoch {i}/5" for i in range(1, 6)]


def test_verbose_1_off_a_terminal_prints_plain_lines(rng, capsys):
    X, Y = _data(rng)
    fastdl.Network([3, 1], backend="numpy").fit(X, Y, epochs=100, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    assert len(out.splitlines()) == 10 and out.splitlines()[-1].startswith("epoch 100/100: cost")


def test_verbose_1_on_a_terminal_draws_a_bar(rng, monkeypatch):
    X, Y = _data(rng)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    fastdl.Network([3, 1], backend="numpy").fit(X, Y, epochs=20, verbose=1)
    assert "\r" in terminal.getvalue() and "20/20" in terminal.getvalue()


# -- validation of fit's options ---------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ({"optimizer": "sgdx"}, ValueError, r"optimizer='sgdx' is not supported; expected one of \['adam', 'gd', 'momentum'\]"),
    ({"optimizer": "momentum", "beta": 1.5}, ValueError, r"beta must be in \[0, 1\)"),
    ({"optimizer": "adam", "epsilon": 0}, ValueError, "epsilon must be a finite positive number"),
    ({"keep_prob": 0}, ValueError, r"keep_prob for hidden layer 1 must be in \(0, 1\]"),
    ({"keep_prob": [0.5]}, ValueError, "keep_prob has 1 values but the network has 2 hidden layers"),
    ({"keep_prob": np.array([[0.5], [0.5]])}, ValueError, "keep_prob for hidden layer 1 must be in"),
    ({"keep_prob": "0.5"}, ValueError, "keep_prob must be a number in"),
    ({"keep_prob": np.array(1.5)}, ValueError, r"keep_prob for hidden layer 1 must be in \(0, 1\]; got 1.5"),
    ({"patience": 3}, ValueError, "patience needs a dev set"),
    ({"dev": (np.zeros((2, 5)), np.zeros((1, 5)))}, ValueError, r"dev set: X has shape \(2, 5\)"),
    ({"dev": np.zeros((3, 5))}, TypeError, "dev must be a pair"),
    ({"on_divergence": "ignore"}, ValueError, "on_divergence='ignore' is not supported"),
    ({"verbose": 3}, ValueError, "verbose must be 0, 1 or 2"),
    ({"l2": -1}, ValueError, "l2 must be a finite non-negative number"),
    ({"l2": 10**400}, ValueError, "l2 must be a finite non-negative number"),
    ({"l2": "0.1"}, ValueError, "l2 must be a finite non-negative number; got '0.1'"),
    ({"lr_decay": -1}, ValueError, "lr_decay must be a finite non-negative number"),
    ({"lr_decay": float("inf")}, ValueError, "lr_decay must be a finite non-negative number"),
    ({"learning_rate": 10**400}, ValueError, "learning_rate must be a finite positive number"),
    ({"callbacks": [3]}, TypeError, "callbacks must be callables"),
])
def test_fit_option_errors_leave_parameters_unchanged(kwargs, error, match, rng):
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 4, 1], backend="numpy")
    before = net.parameters
    with pytest.raises(error, match=match):
        net.fit(X, Y, epochs=3, **kwargs)
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("bad", [2.5, 3.0, -1.0])
def test_softmax_label_outside_the_classes_is_named(bad):
    net = fastdl.Network([2, 4, 3], output="softmax", seed=0)
    X = np.zeros((2, 4))
    Y = np.array([[0.0, 1.0, bad, 2.0]])
    with pytest.raises(ValueError, match=rf"Y holds the label {bad!r}, but a softmax output "
                                         r"with K = 3 classes takes integer labels 0\.\.2"):
        net.cost(X, Y)


@pytest.mark.parametrize("keep_prob", [np.array(0.75), np.float32(0.75), np.array([0.75, 0.75]),
                                       (0.75, np.float64(0.75))])
def test_keep_prob_as_numpy_values(keep_prob, rng):
    """Catches 'iteration over a 0-d array' for keep_prob=np.array(0.8): numpy scalars and
    arrays mean what the same Python numbers mean."""
    X, Y = _data(rng)
    a, b = (fastdl.Network([3, 4, 4, 1], seed=6, backend="numpy") for _ in range(2))
    a.fit(X, Y, learning_rate=0.1, epochs=3, keep_prob=keep_prob)
    b.fit(X, Y, learning_rate=0.1, epochs=3, keep_prob=0.75)
    _assert_same_params(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_weights_travel_with_their_examples_through_shuffled_batches(backend, rng):
    """fit with weights and mini-batches replays as weighted steps on the shuffled
    batches (the weights permuted with X and Y), and the epoch cost is weight-averaged."""
    X, Y = _data(rng, m=10)
    weights = rng.uniform(0, 2, 10)
    net = fastdl.Network([3, 4, 1], seed=8, backend=backend)
    replay = fastdl.Network([3, 4, 1], seed=8, backend=backend)
    history = net.fit(X, Y, learning_rate=0.1, epochs=2, batch_size=4, sample_weight=weights)
    stream = np.random.default_rng([8, 1])
    for epoch in range(2):
        order = stream.permutation(10)
        total = 0.0
        for k in range(0, 10, 4):
            part = order[k:k + 4]
            J = replay._engine.step(replay._params, *replay._check_XY(X[:, part], Y[:, part]),
                                    GradientDescent(0.1), weights=weights[None, part].copy())
            total += J * weights[part].sum()
        assert history.costs[epoch] == pytest.approx(total / weights.sum(), rel=1e-12)
    _assert_same_params(net, replay, rtol=1e-12)


@pytest.mark.parametrize("sample_weight, error, match", [
    (np.ones(5), ValueError, r"sample_weight has shape \(5,\) but there are m = 24 examples"),
    (-np.ones(24), ValueError, r"sample_weight\[0\] is -1.0; weights must be >= 0"),
    (np.zeros(24), ValueError, "sample_weight is zero for every example"),
    (np.full(24, np.nan), ValueError, "sample_weight holds NaN or infinite values"),
    (np.full(24, "1"), TypeError, "sample_weight must hold real numbers"),
])
def test_bad_sample_weights_are_refused(sample_weight, error, match, rng):
    X, Y = _data(rng)
    net = fastdl.Network([3, 4, 1], backend="numpy")
    before = net.parameters
    for call in (lambda: net.fit(X, Y, epochs=2, sample_weight=sample_weight),
                 lambda: net.cost(X, Y, sample_weight=sample_weight),
                 lambda: net.gradients(X, Y, sample_weight=sample_weight)):
        with pytest.raises(error, match=match):
            call()
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("backend", BACKENDS)
def test_poisson_regression_with_an_exp_output(backend, rng):
    """An exp output trains on counts with the Poisson deviance: negative targets are
    refused, gradients pass the check, and fit learns the rate."""
    X = rng.uniform(-1, 1, (2, 300))
    Y = rng.poisson(np.exp(0.8 * X[:1] - 0.5 * X[1:2] + 0.3)).astype(float)
    net = fastdl.Network([2, 1], output="exp", init="zeros", backend=backend)
    assert net.loss == "poisson"
    with pytest.raises(ValueError, match=r"outside the range \[0.0, inf\] of the 'exp' output"):
        net.cost(X, -Y - 1)
    assert fastdl.gradient_check(net, X[:, :20], Y[:, :20]) < 1e-7
    net.fit(X, Y, learning_rate=0.5, epochs=400)
    np.testing.assert_allclose(net.parameters["W1"], [[0.8, -0.5]], atol=0.2)
    assert np.all(net.predict(X) > 0)
    with pytest.raises(ValueError, match="only valid for the output layer"):
        fastdl.Network([2, 3, 1], hidden="exp")
