"""Faults during training, in every form W[1] can train in (dense, dual, sparse X) and with
every optimizer: the network keeps the parameters of its last whole step, stays usable
(predicts, saves, trains on), and its History says why it stopped."""
import math
import os
import signal

import numpy as np
import pytest
import scipy.sparse as sp

import fastdl
from fastdl.jit import custom_activation

BACKENDS = fastdl.available_backends()


def _capped(z):
    if z > 2.0:
        raise ValueError("z is above 2")
    return z


def _nan_above_2(z):
    return math.nan if z > 2.0 else z


def _one(z):
    return 1.0


@pytest.fixture(scope="module")
def activations():
    return {"raises": custom_activation("capped_fault", _capped, _one),
            "returns NaN": custom_activation("nan_fault", _nan_above_2, _one)}


# form: how X is given and how W[1] trains; the dual form takes gd and momentum only.
FORMS = {"dense": ({}, False), "dual": ({"first_layer": "dual"}, False),
         "sparse": ({}, True)}
OPTIMIZERS = ["gd", "momentum", "adam"]
COMBINATIONS = [(form, optimizer) for form in FORMS for optimizer in OPTIMIZERS
                if not (form == "dual" and optimizer == "adam")]


def _ctrl_c_at_epoch_2(net, history):
    if len(history.costs) == 2:
        os.kill(os.getpid(), signal.SIGINT)


def _raise_at_epoch_2(net, history):
    if len(history.costs) == 2:
        raise KeyError("the callback failed")


# fault: (the hidden activation, the learning rate, a callback, the outcome it must have)
FAULTS = {
    "callback raises": ("linear", 0.001, _raise_at_epoch_2, "error"),
    "ctrl-c": ("linear", 0.001, _ctrl_c_at_epoch_2, "interrupted"),
    "activation raises": ("raises", 0.001, None, "error"),
    "activation returns NaN": ("returns NaN", 0.001, None, "diverged"),
    "divergence": ("linear", 1e30, None, "diverged"),
}


def _growing_problem(activation, backend, sparse):
    """A regression whose z starts at 2 in the hidden layer and is pushed up by every step:
    a custom activation failing above 2 fails from the second epoch on."""
    net = fastdl.Network([2, 1, 1], [activation, "linear"], seed=0, backend=backend)
    net.set_parameters({"W1": [[0.5, 0.5]], "b1": [[1.0]], "W2": [[1.0]], "b2": [[0.0]]})
    X = np.ones((2, 40))
    return net, sp.csr_matrix(X) if sparse else X, 10 * np.ones((1, 40))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("form, optimizer", COMBINATIONS)
def test_a_fault_keeps_the_last_whole_step_and_the_network_usable(form, optimizer, fault, backend,
                                                                  activations, tmp_path):
    hidden, learning_rate, fault_callback, stop_reason = FAULTS[fault]
    fit_options, sparse = FORMS[form]
    net, X, Y = _growing_problem(activations.get(hidden, hidden), backend, sparse)
    seen = [net.parameters]  # the parameters after each whole epoch, from the start

    def record(history):
        seen.append(net.parameters)
        if fault_callback is not None:
            fault_callback(net, history)

    fit = lambda: net.fit(X, Y, learning_rate=learning_rate, epochs=30, optimizer=optimizer,
                          callbacks=[record], **fit_options)
    if stop_reason == "error":
        with pytest.raises((KeyError, ValueError)):
            fit()
    elif stop_reason == "diverged":
        with pytest.warns(fastdl.DivergenceWarning):
            fit()
    else:
        fit()
    history = net.history
    assert history.stop_reason == stop_reason
    assert 0 < history.iterations < 30
    kept = net.parameters
    assert all(np.isfinite(value).all() for value in kept.values())
    last_whole_step = seen[-1] if stop_reason != "diverged" else seen[len(history.costs) - 1]
    for key, value in last_whole_step.items():
        np.testing.assert_array_equal(kept[key], value, err_msg=key)
    # Still usable: it predicts (where z <= 2), saves and loads, and trains on.
    assert np.isfinite(net.predict(np.zeros((2, 3)))).all()
    net.save(tmp_path / "kept.npz")
    again = fastdl.load(tmp_path / "kept.npz", custom_activations={
        a.name: a for a in activations.values()})
    for key, value in kept.items():
        np.testing.assert_array_equal(again.parameters[key], value, err_msg=key)
    if hidden == "linear":
        assert net.fit(X, Y, learning_rate=0.001, epochs=2, optimizer=optimizer,
                       **fit_options).stop_reason == "finished"
