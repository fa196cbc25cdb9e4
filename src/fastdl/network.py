"""The L-layer network: the user-facing object that validates, then hands work to an engine."""
import numbers
import time
import warnings

import numpy as np

from . import _validation as v
from ._backends import engine_class
from ._init import initialize_parameters
from ._optimizers import GradientDescent
from ._spec import NetworkSpec
from .activations import DEFAULT_LEAKY_SLOPE
from .history import History


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the cost stopped being finite."""


class DivergenceError(FloatingPointError):
    """A training step produced a non-finite cost; the parameters were restored."""


def _divergence_message(learning_rate):
    return (
        f"the cost is no longer finite: training diverged, most likely because "
        f"learning_rate={learning_rate!r} is too large; the parameters of the last "
        f"iteration with a finite cost were kept"
    )


class Network:
    """A fully-connected L-layer network, one example per column.

    Parameters
    ----------
    layer_dims : list of int
        ``[n_x, n[1], ..., n[L]]``; the input layer is not counted, so L = len − 1.
    activations : list of str, optional
        One name per layer. Default: ``hidden`` for layers 1..L−1 and ``output`` for L.
    hidden, output : str
        One of ``'leaky_relu', 'linear', 'relu', 'sigmoid', 'tanh'``. A sigmoid output
        is trained with cross-entropy, any other with the squared error (1/2m) Σ (A − Y)².
    init : str
        ``'small'`` (randn·0.01, as in the notes), ``'he'``, ``'xavier'``, ``'scaled'``
        (1/√n[l−1]) or ``'zeros'`` (single-layer networks only).
    leaky_slope : float
        Slope of leaky ReLU for z < 0, in [0, 1).
    dtype : {'float64', 'float32'}
        Kept end to end: parameters, activations, gradients.
    seed : int, optional
        Makes initialisation reproducible.
    backend : {'auto', 'cython', 'numpy'}
        ``'numpy'`` is the plain reference path; ``'auto'`` picks the fastest available.
    """

    def __init__(self, layer_dims, activations=None, *, hidden="relu", output="sigmoid",
                 init="he", leaky_slope=DEFAULT_LEAKY_SLOPE, dtype="float64", seed=None,
                 backend="auto"):
        dims = v.check_layer_dims(layer_dims)
        names = v.check_activations(activations, len(dims) - 1, hidden, output)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer; got {seed!r}")
        self._spec = NetworkSpec(dims, tuple(names), v.check_leaky_slope(leaky_slope),
                                 v.check_dtype(dtype))
        self._engine = engine_class(backend)(self._spec)
        self.init = init
        self.seed = seed
        self._params = initialize_parameters(dims, init, self._spec.dtype, seed)
        self._backup = [(np.empty_like(W), np.empty_like(b)) for W, b in self._params]
        self._backup_valid = False

    # -- configuration ------------------------------------------------------------
    L = property(lambda self: self._spec.L, doc="The number of layers, input not counted.")
    layer_dims = property(lambda self: list(self._spec.layer_dims), doc="[n_x, n[1], ..., n[L]].")
    activations = property(lambda self: list(self._spec.activations), doc="One name per layer.")
    dtype = property(lambda self: self._spec.dtype, doc="The numpy dtype used throughout.")
    leaky_slope = property(lambda self: self._spec.leaky_slope, doc="Leaky ReLU slope for z < 0.")
    backend = property(lambda self: self._engine.name, doc="The engine actually in use.")
    loss = property(lambda self: self._spec.loss, doc="'cross_entropy' or 'squared_error'.")

    def __repr__(self):
        return (f"Network(layer_dims={self.layer_dims}, activations={self.activations}, "
                f"dtype='{self.dtype.name}', backend='{self.backend}')")

    def dimensions(self, m=1):
        """The shape of W[l], b[l], Z[l] and A[l] for each layer, for a batch of ``m``.

        The check the notes call important: dW and db have the shapes of W and b;
        Z[l] and A[l] are ``(n[l], m)``; A[0] = X is ``(n_x, m)``.
        """
        m = v.check_positive("m", m, integer=True)
        dims = self._spec.layer_dims
        return [{"layer": l, "W": (dims[l], dims[l - 1]), "b": (dims[l], 1),
                 "Z": (dims[l], m), "A": (dims[l], m)} for l in range(1, self.L + 1)]

    # -- parameters -----------------------------------------------------------------
    @property
    def parameters(self):
        """A new dict of copies: ``{'W1': (n[1], n_x), 'b1': (n[1], 1), ...}``."""
        out = {}
        for l, (W, b) in enumerate(self._params, start=1):
            out[f"W{l}"], out[f"b{l}"] = W.copy(), b.copy()
        return out

    def set_parameters(self, params):
        """Validate every key, shape and value of ``params``, then copy them in."""
        pairs = v.check_parameters(params, self._spec.layer_dims, self._spec.dtype)
        for (W, b), (W_new, b_new) in zip(self._params, pairs):
            np.copyto(W, W_new)
            np.copyto(b, b_new)
        self._backup_valid = False

    # -- validation -------------------------------------------------------------------
    def _check_X(self, X):
        return v.check_X(X, self._spec.layer_dims[0], self._spec.dtype)

    def _check_XY(self, X, Y):
        X = self._check_X(X)
        Y = v.check_Y(Y, self._spec.layer_dims[-1], X.shape[1], self._spec.output, self._spec.dtype)
        return X, Y

    # -- the math ---------------------------------------------------------------------
    def forward(self, X):
        """A[L] = g[L](W[L] ... g[1](W[1] X + b[1]) ... + b[L]), shape ``(n[L], m)``."""
        return self._engine.forward(self._params, self._check_X(X))

    def cost(self, X, Y):
        """J: mean cross-entropy for a sigmoid output, else (1/2m) Σ (A − Y)²."""
        X, Y = self._check_XY(X, Y)
        return self._engine.cost(self._params, X, Y)

    def gradients(self, X, Y):
        """``{'dW1': ..., 'db1': ..., ..., 'dWL': ..., 'dbL': ...}`` of the cost, by backpropagation."""
        X, Y = self._check_XY(X, Y)
        _, grads = self._engine.gradients(self._params, X, Y)
        out = {}
        for l, (dW, db) in enumerate(grads, start=1):
            out[f"dW{l}"], out[f"db{l}"] = np.array(dW), np.array(db)
        return out

    def _step(self, X, Y, optimizer):
        """One validated-input iteration; restores the last good parameters on divergence."""
        J = self._engine.step(self._params, X, Y, optimizer, self._backup)
        if np.isfinite(J):
            self._backup_valid = True
        elif self._backup_valid:
            for (W, b), (W_saved, b_saved) in zip(self._params, self._backup):
                np.copyto(W, W_saved)
                np.copyto(b, b_saved)
        return J

    def step(self, X, Y, learning_rate):
        """One batch gradient-descent iteration; returns the cost J before the update.

        Raises
        ------
        DivergenceError
            If J is not finite; the parameters are then those of the last step whose
            cost was finite.
        """
        X, Y = self._check_XY(X, Y)
        learning_rate = v.check_positive("learning_rate", learning_rate)
        J = self._step(X, Y, GradientDescent(learning_rate))
        if not np.isfinite(J):
            raise DivergenceError(_divergence_message(learning_rate))
        return J

    def fit(self, X, Y, *, learning_rate=0.0075, epochs=3000, print_every=None):
        """Batch gradient descent for ``epochs`` iterations; returns a :class:`History`.

        A non-finite cost stops training with a :class:`DivergenceWarning` and keeps the
        parameters of the last iteration whose cost was finite.
        """
        X, Y = self._check_XY(X, Y)
        learning_rate = v.check_positive("learning_rate", learning_rate)
        epochs = v.check_positive("epochs", epochs, integer=True)
        if print_every is not None:
            print_every = v.check_positive("print_every", print_every, integer=True)
        optimizer = GradientDescent(learning_rate)
        history = History()
        start = time.perf_counter()
        for i in range(epochs):
            J = self._step(X, Y, optimizer)
            if not np.isfinite(J):
                history.stop_reason = "diverged"
                warnings.warn(f"iteration {i}: " + _divergence_message(learning_rate),
                              DivergenceWarning, stacklevel=2)
                break
            history.costs.append(J)
            history.times.append(time.perf_counter() - start)
            if print_every and (i % print_every == 0 or i == epochs - 1):
                print(f"Cost after iteration {i}: {J:.6f}", flush=True)
        return history

    # -- prediction ---------------------------------------------------------------------
    def predict_proba(self, X):
        """The sigmoid output A[L], the probability that each label is 1."""
        if self._spec.output != "sigmoid":
            raise ValueError(
                f"predict_proba needs a 'sigmoid' output layer; this network's output is "
                f"{self._spec.output!r}, use predict"
            )
        return self.forward(X)

    def predict(self, X):
        """0/1 labels at the 0.5 threshold for a sigmoid output, else the output values."""
        AL = self.forward(X)
        if self._spec.output == "sigmoid":
            return (AL > 0.5).astype(np.int64)
        return AL

    def accuracy(self, X, Y):
        """The fraction of labels ``predict`` gets right (sigmoid outputs)."""
        X, Y = self._check_XY(X, Y)
        if self._spec.output != "sigmoid":
            raise ValueError(f"accuracy needs a 'sigmoid' output layer; got {self._spec.output!r}")
        return float(np.mean(self.predict(X) == Y))

    # -- files --------------------------------------------------------------------------
    def save(self, path):
        """Write the configuration and parameters to ``path`` (an .npz, no pickle)."""
        from ._io import save_network

        save_network(self, path)
