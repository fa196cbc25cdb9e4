"""The L-layer network: the user-facing object that validates, then hands work to an engine."""
import numbers

import numpy as np

from . import _limits, _validation as v
from ._backends import engine_class
from ._guard import CallGuard, guarded
from ._init import initialize_parameters
from ._optimizers import GradientDescent, accepted, make_optimizer
from ._spec import NetworkSpec
from ._training import (DivergenceError, DivergenceWarning, FitOptions, Trainer,
                        divergence_message, params_finite)
from .activations import DEFAULT_LEAKY_SLOPE


class Network:
    """A fully-connected L-layer network, one example per column.

    Parameters
    ----------
    layer_dims : list of int
        ``[n_x, n[1], ..., n[L]]``; the input layer is not counted, so L = len − 1.
    activations : list of str, optional
        One name per layer. Default: ``hidden`` for layers 1..L−1 and ``output`` for L.
    hidden, output : str
        One of ``'leaky_relu', 'linear', 'relu', 'sigmoid', 'tanh'`` (or a
        :func:`fastdl.custom_activation`); ``output`` may also be ``'softmax'``. A sigmoid
        output trains with cross-entropy, softmax with categorical cross-entropy (Y one-hot
        ``(K, m)`` or integer labels ``(1, m)``), any other with (1/2m) Σ (A − Y)².
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

    Attributes
    ----------
    metadata : dict
        Free-form, JSON-serialisable notes saved with the model file (e.g. the feature and
        class names the command line trained on); empty by default.
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
        self._requested_backend = backend
        self._engine = engine_class(backend)(self._spec)
        self.init = init
        self.seed = seed
        self._params = initialize_parameters(dims, init, self._spec.dtype, seed)
        # Shuffling and dropout draw from their own stream, reproducible from the seed.
        self._rng = np.random.default_rng(None if seed is None else [seed, 1])
        self._backup = [(np.empty_like(W), np.empty_like(b)) for W, b in self._params]
        self._backup_valid = False
        self.history = None  # the History of the latest fit, also one that raised
        # While a fit holds W[1] in another form (dual, fastdl._dual; transposed for sparse
        # X, fastdl._sparse), the object that keeps it; W[1] itself is then brought up to
        # date only when read (_sync).
        self._form = None
        self.metadata = {}
        self._guard = CallGuard()

    # -- configuration ------------------------------------------------------------
    L = property(lambda self: self._spec.L, doc="The number of layers, input not counted.")
    layer_dims = property(lambda self: list(self._spec.layer_dims), doc="[n_x, n[1], ..., n[L]].")
    activations = property(lambda self: list(self._spec.activations), doc="One name per layer.")
    dtype = property(lambda self: self._spec.dtype, doc="The numpy dtype used throughout.")
    leaky_slope = property(lambda self: self._spec.leaky_slope, doc="Leaky ReLU slope for z < 0.")
    backend = property(lambda self: self._engine.name, doc="The engine actually in use.")
    loss = property(lambda self: self._spec.loss,
                    doc="'cross_entropy', 'categorical_cross_entropy' or 'squared_error'.")
    _is_classifier = property(lambda self: self._spec.output in ("sigmoid", "softmax"))

    def __repr__(self):
        return (f"Network(layer_dims={self.layer_dims}, activations={self.activations}, "
                f"dtype='{self.dtype.name}', backend='{self.backend}')")

    # -- pickling (what joblib and scikit-learn's clone-and-pickle rely on) --------------
    @guarded("__getstate__", trains=False)
    def __getstate__(self):
        """Everything but the engine (its compiled buffers are rebuilt) and the backup."""
        self._sync()
        state = self.__dict__.copy()
        del state["_engine"], state["_backup"], state["_guard"]
        state["_form"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._engine = engine_class(self._requested_backend)(self._spec)
        self._backup = [(np.empty_like(W), np.empty_like(b)) for W, b in self._params]
        self._backup_valid = False
        self._guard = CallGuard()

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
    def _sync(self):
        """Bring W[1] up to date when a fit trains it in dual form (one product): every
        read of the parameters goes through here."""
        if self._form is not None:
            self._form.materialize(self._params[0][0])

    @property
    @guarded("parameters", trains=False)
    def parameters(self):
        """A new dict of copies: ``{'W1': (n[1], n_x), 'b1': (n[1], 1), ...}``."""
        self._sync()
        out = {}
        for l, (W, b) in enumerate(self._params, start=1):
            out[f"W{l}"], out[f"b{l}"] = W.copy(), b.copy()
        return out

    @guarded("set_parameters", trains=True)
    def set_parameters(self, params):
        """Validate every key, shape and value of ``params``, then copy them in."""
        pairs = v.check_parameters(params, self._spec.layer_dims, self._spec.dtype)
        for (W, b), (W_new, b_new) in zip(self._params, pairs):
            np.copyto(W, W_new)
            np.copyto(b, b_new)
        self._backup_valid = False
        if self._form is not None:  # set during a fit: its form starts again from these
            self._form.stale = True

    def _copy_params(self, into=None):
        """Copies of the parameters, written into ``into`` (a previous copy) when given."""
        if into is None:
            return [(W.copy(), b.copy()) for W, b in self._params]
        for (W, b), (W_copy, b_copy) in zip(self._params, into):
            np.copyto(W_copy, W)
            np.copyto(b_copy, b)
        return into

    def _restore(self, copies):
        for (W, b), (W_saved, b_saved) in zip(self._params, copies):
            if W_saved is not None:
                np.copyto(W, W_saved)
            np.copyto(b, b_saved)

    def _snapshot(self, into=None):
        """The parameters as they are now, to go back to later (early stopping's best):
        while a fit holds W[1] in another form, that form's copy instead of W[1]'s."""
        if self._form is None:
            return self._copy_params(None if into is None else into[0]), None
        pairs, table = (None, None) if into is None else into
        if pairs is None:
            pairs = [(None if l == 0 else W.copy(), b.copy()) for l, (W, b) in enumerate(self._params)]
        else:
            for l, ((W, b), (W_copy, b_copy)) in enumerate(zip(self._params, pairs)):
                if l:
                    np.copyto(W_copy, W)
                np.copyto(b_copy, b)
        return pairs, self._form.snapshot(table)

    def _restore_snapshot(self, snapshot):
        pairs, table = snapshot
        self._restore(pairs)
        if table is not None:
            self._form.restore(table)

    def _restore_backup(self):
        """Go back to the parameters of the last training step whose cost was good (while a
        fit holds W[1] in another form, W[1]'s backup is that form's)."""
        if not self._backup_valid:
            return
        if self._form is None:
            self._restore(self._backup)
            return
        self._restore([(None if l == 0 else W, b) for l, (W, b) in enumerate(self._backup)])
        self._form.restore_backup()

    # -- validation -------------------------------------------------------------------
    def _check_X(self, X):
        return v.check_X(X, self._spec.layer_dims[0], self._spec.dtype)

    def _check_XY(self, X, Y):
        X = self._check_X(X)
        Y = v.check_Y(Y, self._spec.layer_dims[-1], X.shape[1], self._spec.output, self._spec.dtype)
        return X, Y

    # -- the math ---------------------------------------------------------------------
    @guarded("forward", trains=False)
    def forward(self, X):
        """A[L] = g[L](W[L] ... g[1](W[1] X + b[1]) ... + b[L]), shape ``(n[L], m)``."""
        self._sync()
        X = _limits.check_batch(self._spec, self._check_X(X), "forward", training=False)
        return v.without_nan(self._engine.forward(self._params, X), "forward", X, self._params)

    def _masks(self, dropout_masks, m):
        """Validated inverted-dropout masks, one per hidden layer (or None)."""
        if dropout_masks is None:
            return None
        if not isinstance(dropout_masks, (list, tuple)):
            raise TypeError(f"dropout_masks must be a list with one mask (or None) per hidden "
                            f"layer ({self.L - 1}); got {type(dropout_masks).__name__}")
        if len(dropout_masks) != self.L - 1:
            raise ValueError(f"dropout_masks needs one entry per hidden layer ({self.L - 1}); "
                             f"got {len(dropout_masks)}")
        masks = []
        for l, mask in enumerate(dropout_masks, start=1):
            if mask is not None:
                mask = v.as_matrix(f"dropout_masks[{l - 1}]", mask, self._spec.dtype)
                if mask.shape != (self._spec.layer_dims[l], m):
                    raise ValueError(f"dropout_masks[{l - 1}] has shape {mask.shape} but layer {l} "
                                     f"expects (n[{l}], m) = ({self._spec.layer_dims[l]}, {m})")
            masks.append(mask)
        return masks

    def _cost_options(self, X, l2, dropout_masks, sample_weight):
        """The validated keyword arguments of an engine's cost or gradients."""
        options = {}
        if l2:
            options["l2"] = v.check_non_negative("l2", l2)
        if dropout_masks is not None:
            options["masks"] = self._masks(dropout_masks, X.shape[1])
        if sample_weight is not None:
            options["weights"] = v.check_sample_weight(sample_weight, X.shape[1], self.dtype)
        return options

    @guarded("cost", trains=False)
    def cost(self, X, Y, *, l2=0.0, dropout_masks=None, sample_weight=None):
        """J: cross-entropy for a sigmoid output, categorical cross-entropy for softmax,
        half the Poisson deviance for exp, else (1/2m) Σ (A − Y)²; plus (λ/2m) Σ ‖W[l]‖²
        when ``l2`` = λ > 0.

        ``dropout_masks`` (one per hidden layer: entries 0 or 1/keep_prob, or None)
        fixes a dropout pattern, e.g. to gradient-check a dropout network.
        ``sample_weight`` (m values >= 0) weighs the examples: J = Σ w_j J_j / Σ w_j,
        so a weight of 2 counts an example twice and 0 leaves it out (m becomes Σ w).
        """
        X, Y = self._check_XY(X, Y)
        _limits.check_batch(self._spec, X, "cost", training=True)
        self._sync()
        J = self._engine.cost(self._params, X, Y,
                              **self._cost_options(X, l2, dropout_masks, sample_weight))
        return v.without_nan(J, "cost", X, self._params)

    @guarded("gradients", trains=False)
    def gradients(self, X, Y, *, l2=0.0, dropout_masks=None, sample_weight=None):
        """``{'dW1': ..., 'db1': ..., ..., 'dWL': ..., 'dbL': ...}`` of :meth:`cost`, by backpropagation."""
        X, Y = self._check_XY(X, Y)
        _limits.check_batch(self._spec, X, "gradients", training=True)
        self._sync()
        _, grads = self._engine.gradients(
            self._params, X, Y, **self._cost_options(X, l2, dropout_masks, sample_weight))
        v.without_nan(grads, "gradients", X, self._params)
        out = {}
        for l, (dW, db) in enumerate(grads, start=1):
            out[f"dW{l}"], out[f"db{l}"] = dW, db
        return out

    @guarded("step", trains=True)
    def step(self, X, Y, learning_rate):
        """One batch gradient-descent iteration; returns the cost J before the update.

        Raises
        ------
        DivergenceError
            If J is not finite (nothing is updated; the parameters stay those of the last
            step whose cost was finite), or if the update made a parameter non-finite
            (it is undone).
        """
        X, Y = self._check_XY(X, Y)
        _limits.check_batch(self._spec, X, "step", training=True)
        learning_rate = v.check_positive("learning_rate", learning_rate)
        self._sync()
        if self._form is not None:  # a step from a callback during a fit: its form restarts
            self._form.stale = True
        first = not self._backup_valid
        J = self._engine.step(self._params, X, Y, GradientDescent(learning_rate), self._backup)
        if not accepted(J):
            self._restore_backup()
            raise DivergenceError(divergence_message(learning_rate, J, X if first else None))
        self._backup_valid = True
        if not params_finite(self._params):
            self._restore(self._backup)
            raise DivergenceError(divergence_message(learning_rate))
        return J

    @guarded("fit", trains=True)
    def fit(self, X, Y, *, learning_rate=0.0075, epochs=3000, print_every=None, batch_size=None,
            shuffle=True, optimizer="gd", beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8,
            nesterov=False, lr_decay=0.0, decay_every=1, l2=0.0, keep_prob=1.0, dev=None,
            patience=None, restore_best=True, on_divergence="warn", verbose=0, callbacks=(),
            sample_weight=None, first_layer="auto"):
        """Train for ``epochs`` passes over (X, Y); returns a :class:`~fastdl.History`.

        Parameters
        ----------
        learning_rate, epochs : float, int
            α and the number of epochs (with full batches, one iteration each).
        print_every : int, optional
            Print the notes-style "Cost after iteration i" every so many epochs.
        batch_size : int, optional
            Mini-batch size; None is full-batch gradient descent. Batches are reshuffled
            each epoch (``shuffle``) from the network's seed.
        optimizer : {'gd', 'momentum', 'adam'}
            With ``beta`` and ``nesterov`` (momentum: Nesterov's look-ahead step) and
            ``beta1``, ``beta2``, ``epsilon`` (Adam).
        lr_decay, decay_every : float, int
            α_epoch = α / (1 + lr_decay · ⌊epoch / decay_every⌋): inverse-time decay for
            ``decay_every=1``, step decay for larger intervals.
        l2 : float
            L2 strength λ: the cost gains (λ/2m) Σ ‖W‖², the gradients (λ/m) W.
        keep_prob : float or list of float
            Inverted dropout: the probability of keeping each hidden unit (one value for
            every hidden layer, or one per hidden layer). Off at prediction time.
        dev, patience, restore_best
            Early stopping: with ``dev=(X_dev, Y_dev)`` the history records the dev cost
            (and accuracy) per epoch; with ``patience`` training stops after that many
            epochs without a better dev cost and, with ``restore_best``, keeps the best.
        on_divergence : {'warn', 'raise'}
            A non-finite or exploding cost stops training, keeps the last good parameters
            and warns (:class:`DivergenceWarning`) or raises (:class:`DivergenceError`).
        verbose : {0, 1, 2}
            0 quiet; 1 a progress bar on a terminal (tqdm), else a line per tenth of the
            run; 2 a line per epoch.
        callbacks : list of callables
            Each is called with the History after every epoch; returning True stops training.
        sample_weight : array of m values >= 0, optional
            Per-example weights, in the cost and its gradient of every batch (see
            :meth:`cost`); they travel with their examples when batches are shuffled.
        first_layer : {'auto', 'primal', 'dual'}
            How W[1] trains. 'dual' keeps it as W[1]₀·s + U Xᵀ (U of shape (n[1], m)),
            which makes the first layer cost n[1]·m² per epoch instead of 2·n[1]·n_x·m:
            far faster when m < n_x (wide inputs, few examples), for 'gd' and 'momentum'
            only. 'auto' picks it by that cost rule (see fastdl._dual.prefer_dual). The
            result is the same either way (to rounding); W[1] is materialised whenever it
            is read.

        Ctrl-C stops cleanly after the current batch (``stop_reason='interrupted'``).
        """
        X, Y = self._check_XY(X, Y)
        weights = v.check_sample_weight(sample_weight, X.shape[1], self.dtype)
        optimizer = make_optimizer(optimizer, learning_rate, beta=beta, beta1=beta1,
                                   beta2=beta2, epsilon=epsilon, nesterov=nesterov)
        options = FitOptions(self, epochs=epochs, print_every=print_every, batch_size=batch_size,
                             shuffle=shuffle, lr_decay=lr_decay, decay_every=decay_every, l2=l2,
                             keep_prob=keep_prob, dev=dev, patience=patience,
                             restore_best=restore_best, on_divergence=on_divergence,
                             verbose=verbose, callbacks=callbacks, sample_weight=weights,
                             first_layer=first_layer)
        _limits.check_fit(self, X, optimizer, options)
        return Trainer(self, X, Y, optimizer, options).run()

    # -- prediction ---------------------------------------------------------------------
    def predict_proba(self, X):
        """The probabilities a sigmoid (per label) or softmax (per class) output gives."""
        if self._spec.output not in ("sigmoid", "softmax"):
            raise ValueError(
                f"predict_proba needs a 'sigmoid' or 'softmax' output layer; this network's "
                f"output is {self._spec.output!r}, use predict"
            )
        return self.forward(X)

    def predict(self, X):
        """0/1 labels at the 0.5 threshold for a sigmoid output, class indices ``(1, m)``
        for softmax, else the output values."""
        AL = self.forward(X)
        if self._spec.output == "sigmoid":
            return (AL > 0.5).astype(np.int64)
        if self._spec.output == "softmax":
            return np.argmax(AL, axis=0).reshape(1, -1)
        return AL

    @guarded("accuracy", trains=False)
    def accuracy(self, X, Y):
        """The fraction of labels (sigmoid) or classes (softmax) ``predict`` gets right."""
        if not self._is_classifier:
            raise ValueError(f"accuracy needs a 'sigmoid' or 'softmax' output layer; "
                             f"got {self._spec.output!r}")
        X, Y = self._check_XY(X, Y)
        _limits.check_batch(self._spec, X, "accuracy", training=False)
        return self._accuracy_checked(X, Y)

    def _accuracy_checked(self, X, Y):
        self._sync()
        AL = self._engine.forward(self._params, X)
        if self._spec.output == "softmax":
            return float(np.mean(np.argmax(AL, axis=0) == np.argmax(Y, axis=0)))
        return float(np.mean((AL > 0.5) == (Y > 0.5)))

    # -- files --------------------------------------------------------------------------
    @guarded("save", trains=False)
    def save(self, path):
        """Write the configuration and parameters to ``path`` (an .npz, no pickle)."""
        from ._io import save_network

        save_network(self, path)
