"""Threads: separate networks train at once with the very bits of one after another; one
network called from two threads at once takes turns (reads) or refuses (training)."""
import copy
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

import fastdl

TIMEOUT = 60  # seconds: no wait in this module is unbounded

# Each case: the network's arguments and fit's, on data of (n_x, m).
CASES = {
    "adam, batches, dropout": (dict(layer_dims=[12, 16, 8, 1]),
                               dict(optimizer="adam", batch_size=32, keep_prob=0.8, epochs=15)),
    "momentum, float32, softmax": (dict(layer_dims=[12, 10, 3], output="softmax", dtype="float32"),
                                   dict(optimizer="momentum", batch_size=64, epochs=15)),
    "gd, dual first layer": (dict(layer_dims=[300, 8, 1], hidden="tanh"),
                             dict(first_layer="dual", epochs=30, learning_rate=0.05)),
    "adam, l2, BLAS-sized layers": (dict(layer_dims=[12, 256, 128, 1]),
                                    dict(optimizer="adam", batch_size=512, l2=0.1, epochs=3)),
}


def _data(case, rng, m=600):
    net_kwargs, _ = CASES[case]
    n_x, n_y = net_kwargs["layer_dims"][0], net_kwargs["layer_dims"][-1]
    X = rng.standard_normal((n_x, m))
    if net_kwargs.get("output") == "softmax":
        Y = np.eye(n_y)[:, rng.integers(0, n_y, m)]
    else:
        Y = (X[:1] + 0.3 * rng.standard_normal((1, m)) > 0).astype(float)
    return X, Y


def _train(case, X, Y, seed):
    net_kwargs, fit_kwargs = CASES[case]
    net = fastdl.Network(seed=seed, **net_kwargs)
    history = net.fit(X, Y, **fit_kwargs)
    return net.parameters, history.costs


def _assert_same_bits(got, expected):
    (params, costs), (params_expected, costs_expected) = got, expected
    assert costs == costs_expected
    for key, value in params_expected.items():
        np.testing.assert_array_equal(params[key], value, err_msg=key)


@pytest.mark.parametrize("case", CASES)
def test_networks_trained_in_threads_equal_the_same_trained_in_turn(case, rng):
    X, Y = _data(case, rng)
    seeds = [1, 2, 3, 4]
    in_turn = [_train(case, X, Y, seed) for seed in seeds]
    with ThreadPoolExecutor(len(seeds)) as pool:
        at_once = list(pool.map(lambda seed: _train(case, X, Y, seed), seeds, timeout=TIMEOUT))
    for got, expected in zip(at_once, in_turn):
        _assert_same_bits(got, expected)


def test_sparse_networks_trained_in_threads_equal_the_same_trained_in_turn(rng):
    X = sp.random(400, 300, density=0.02, format="csr", random_state=np.random.RandomState(0))
    Y = (rng.random((1, 300)) < 0.5).astype(float)

    def train(seed):
        net = fastdl.Network([400, 8, 1], seed=seed)
        history = net.fit(X, Y, optimizer="adam", batch_size=50, epochs=10, learning_rate=0.01)
        return net.parameters, history.costs

    in_turn = [train(seed) for seed in range(3)]
    with ThreadPoolExecutor(3) as pool:
        at_once = list(pool.map(train, range(3), timeout=TIMEOUT))
    for got, expected in zip(at_once, in_turn):
        _assert_same_bits(got, expected)


def test_a_fixed_seed_gives_the_same_bits_every_time(rng):
    X, Y = _data("adam, batches, dropout", rng)
    first = _train("adam, batches, dropout", X, Y, seed=7)
    for _ in range(3):
        _assert_same_bits(_train("adam, batches, dropout", X, Y, seed=7), first)


# -- one network, two threads -------------------------------------------------------------
class _FitHeldOpen:
    """A fit on another thread, held inside its first epoch's callback until released,
    so that this thread can call the network while the fit is certainly running."""

    def __init__(self, net, X, Y, **fit_kwargs):
        self.inside, self.release = threading.Event(), threading.Event()
        self.error = None

        def hold(history):
            self.inside.set()
            assert self.release.wait(TIMEOUT)

        def fit():
            try:
                self.history = net.fit(X, Y, callbacks=[hold], **fit_kwargs)
            except BaseException as error:  # reported by the test, not lost in the thread
                self.error = error

        self.thread = threading.Thread(target=fit, name="trainer")

    def __enter__(self):
        self.thread.start()
        assert self.inside.wait(TIMEOUT)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


def _small(rng):
    X = rng.standard_normal((4, 80))
    return fastdl.Network([4, 6, 1], seed=3), X, (X[:1] > 0).astype(float)


CALLS_DURING_A_FIT = {  # each given the network, X, Y and a valid parameter dict
    "fit": lambda net, X, Y, params: net.fit(X, Y, epochs=2),
    "step": lambda net, X, Y, params: net.step(X, Y, 0.1),
    "set_parameters": lambda net, X, Y, params: net.set_parameters(params),
    "forward": lambda net, X, Y, params: net.forward(X),
    "predict": lambda net, X, Y, params: net.predict(X),
    "predict_proba": lambda net, X, Y, params: net.predict_proba(X),
    "cost": lambda net, X, Y, params: net.cost(X, Y),
    "gradients": lambda net, X, Y, params: net.gradients(X, Y),
    "accuracy": lambda net, X, Y, params: net.accuracy(X, Y),
    "parameters": lambda net, X, Y, params: net.parameters,
    "save": lambda net, X, Y, params: net.save("unused.npz"),
    "pickle": lambda net, X, Y, params: copy.deepcopy(net),
}


@pytest.mark.parametrize("call", CALLS_DURING_A_FIT)
def test_a_call_from_another_thread_during_a_fit_is_refused_and_the_fit_is_unharmed(call, rng, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    net, X, Y = _small(rng)
    alone = copy.deepcopy(net)
    expected, params = alone.fit(X, Y, epochs=5, learning_rate=0.1), net.parameters
    with _FitHeldOpen(net, X, Y, epochs=5, learning_rate=0.1) as fit:
        with pytest.raises(fastdl.NetworkBusyError, match=r"thread 'trainer' is inside Network\.fit"):
            CALLS_DURING_A_FIT[call](net, X, Y, params)
    assert fit.history.costs == expected.costs
    for key, value in alone.parameters.items():
        np.testing.assert_array_equal(net.parameters[key], value, err_msg=key)
    assert not (tmp_path / "unused.npz").exists()


def test_the_network_is_free_again_after_a_refusal_and_after_a_failed_fit(rng):
    net, X, Y = _small(rng)
    with _FitHeldOpen(net, X, Y, epochs=2):
        with pytest.raises(fastdl.NetworkBusyError):
            net.predict(X)
    with pytest.raises(ValueError):
        net.fit(X, Y[:, :5])  # fails inside the guard: the guard must still be released
    net.fit(X, Y, epochs=2)
    assert net.predict(X).shape == (1, 80)


def test_predictions_from_many_threads_take_turns_and_agree(rng):
    X = rng.standard_normal((12, 500))
    net = fastdl.Network([12, 64, 32, 1], seed=5)
    net.fit(X, (X[:1] > 0).astype(float), epochs=5)
    expected = net.predict_proba(X)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: net.predict_proba(X), range(64), timeout=TIMEOUT))
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_a_fit_callback_may_still_use_its_own_network(rng):
    net, X, Y = _small(rng)
    seen = []

    def callback(history):
        seen.append((net.predict(X).shape, net.cost(X, Y), sorted(net.parameters)))
        net.step(X, Y, 0.01)

    net.fit(X, Y, epochs=3, callbacks=[callback])
    assert len(seen) == 3 and seen[0][0] == (1, 80)
