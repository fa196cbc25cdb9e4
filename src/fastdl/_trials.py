"""One trial of :func:`fastdl.search`: build the network a setting describes, train it,
score it on train and dev.

:func:`run_trial` is a plain module-level function of picklable arguments, so joblib can
run it in a worker process or on a Dask worker. A trial returns its network as a
:class:`NetworkState` (parameters, the shuffling/dropout stream, the last good step),
from which :func:`restore` rebuilds it exactly: successive halving continues a survivor
from that state, wherever its next round runs, and every path (n_jobs=1 included) goes
through the same state, so results do not depend on where a trial ran.
"""
import functools
import numbers
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from ._backends import available_backends
from ._space import FIT_KEYS, NETWORK_KEYS
from .network import DivergenceWarning, Network


@dataclass(frozen=True)
class Target:
    """What the data says about the output layer: its activation and sizes."""

    output: str
    n_y: int
    classes: int = None  # the number of classes of integer labels (1, m), if they are labels

    def n_out(self, output):
        """Output units: K for softmax over integer labels, else the rows of Y."""
        return self.classes if output == "softmax" and self.n_y == 1 and self.classes else self.n_y


@dataclass(frozen=True)
class Task:
    """What a worker needs to run (or continue) one trial for ``epochs`` more epochs."""

    index: int
    params: dict
    seed: int
    epochs: int
    target: Target
    threads: int = 1
    resumable: bool = False  # keep the last good step in the state, to continue training


@dataclass
class NetworkState:
    """Everything that decides how a network trains on: rebuilds it bit for bit."""

    arguments: dict
    parameters: dict
    rng_state: dict
    backup: list = None


@dataclass
class Outcome:
    """A trial's scores and trained network, as a worker sends them back."""

    index: int
    scores: dict
    epochs: int
    seconds: float
    stop_reason: str
    state: NetworkState = field(repr=False, default=None)


def _hidden_sizes(value):
    sizes = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise ValueError(f"hidden_sizes must be a tuple of hidden layer sizes, e.g. (20, 7, 5); "
                         f"got {value!r}")
    return list(sizes)


def _layer_dims(params, n_x, n_out):
    if "layer_dims" not in params:
        return [n_x, *_hidden_sizes(params.get("hidden_sizes", ())), n_out]
    dims = list(params["layer_dims"])
    if len(dims) < 2 or dims[0] != n_x or dims[-1] != n_out:
        raise ValueError(f"layer_dims={params['layer_dims']!r} does not fit the data: it must "
                         f"start with n_x = {n_x} and end with the {n_out} output units")
    return dims


def arguments(task, n_x):
    """The Network and fit keywords of ``task``'s setting."""
    params = task.params
    net_kwargs = {key: params[key] for key in NETWORK_KEYS if key in params and key != "layer_dims"}
    net_kwargs.setdefault("output", task.target.output)
    net_kwargs.setdefault("seed", task.seed)
    net_kwargs["layer_dims"] = _layer_dims(params, n_x, task.target.n_out(net_kwargs["output"]))
    fit_kwargs = {key: params[key] for key in FIT_KEYS if key in params and key != "epochs"}
    return net_kwargs, fit_kwargs


def snapshot(net, arguments, *, resumable):
    """``net`` as a picklable state (the compiled engine's buffers do not pickle)."""
    backup = None
    if resumable and net._backup_valid:
        backup = [(W.copy(), b.copy()) for W, b in net._backup]
    return NetworkState(arguments, net.parameters, net._rng.bit_generator.state, backup)


def restore(state):
    """The network ``state`` describes, ready to predict or to train on from where it stopped."""
    net = Network(**state.arguments)
    net.set_parameters(state.parameters)
    net._rng.bit_generator.state = state.rng_state  # shuffling and dropout continue their stream
    if state.backup is not None:  # so that a divergence at once still falls back one step
        for (W, b), (W_saved, b_saved) in zip(net._backup, state.backup):
            np.copyto(W, W_saved)
            np.copyto(b, b_saved)
        net._backup_valid = True
    return net


@functools.lru_cache(maxsize=None)
def _controller():
    """One threadpoolctl controller per process (making one scans the loaded libraries,
    about 1.5 ms), made once every BLAS fastdl may call is loaded: numpy's, and scipy's,
    which the compiled engine loads."""
    from threadpoolctl import ThreadpoolController

    available_backends()
    return ThreadpoolController()


def blas_threads(threads):
    """A context limiting BLAS to ``threads`` (None: leave it), when threadpoolctl is installed."""
    if threads is None:
        return nullcontext()
    try:
        return _controller().limit(limits=threads, user_api="blas")
    except ImportError:
        return nullcontext()


def scores(net, X, Y, X_dev, Y_dev):
    """Unregularised costs (and error rates for classifiers) on train and dev."""
    with np.errstate(all="ignore"):  # a diverged network may overflow; its scores say so
        result = {"train_cost": float(net.cost(X, Y)), "dev_cost": float(net.cost(X_dev, Y_dev)),
                  "train_error": None, "dev_error": None}
        if net._is_classifier:
            result["train_error"] = 1 - net.accuracy(X, Y)
            result["dev_error"] = 1 - net.accuracy(X_dev, Y_dev)
    return result


def _fit(net, task, fit_kwargs, data):
    X, Y, X_dev, Y_dev = data
    if fit_kwargs.get("patience") is not None:
        fit_kwargs = dict(fit_kwargs, dev=(X_dev, Y_dev))
    with warnings.catch_warnings():  # a divergence is recorded in the result instead
        warnings.simplefilter("ignore", DivergenceWarning)
        return net.fit(X, Y, epochs=task.epochs, **fit_kwargs)


def run_trial(task, data, state=None):
    """Train ``task``'s network (from ``state`` if given) and score it; an :class:`Outcome`."""
    start = time.perf_counter()
    try:
        net_kwargs, fit_kwargs = arguments(task, data[0].shape[0])
        net = Network(**net_kwargs) if state is None else restore(state)
        with blas_threads(task.threads):
            history = _fit(net, task, fit_kwargs, data)
            result = scores(net, *data)
    except (ValueError, TypeError) as error:
        raise type(error)(f"trial {task.index} with {task.params}: {error}") from None
    state = snapshot(net, net_kwargs, resumable=task.resumable)
    return Outcome(task.index, result, history.iterations, time.perf_counter() - start,
                   history.stop_reason, state)

