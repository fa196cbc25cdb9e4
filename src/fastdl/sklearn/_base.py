"""What both estimators share: scikit-learn's MLP parameters, validation, and the
fastdl Network they train.

Rows are examples here, as everywhere in scikit-learn; the network sees ``X.T``, the same
memory read as an F-ordered (n_features, n_samples) array, so nothing is copied.
"""
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import _validation as v
from .._backends import BACKENDS
from .._init import SCHEMES
from ..jit import CustomActivation
from ..network import Network
from . import _solvers

# scikit-learn's activation names first, then fastdl's own spellings and additions.
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
               "leaky_relu": "leaky_relu", "linear": "linear", "sigmoid": "sigmoid"}
INITS = ("glorot_uniform",) + tuple(s for s in SCHEMES if s != "zeros")
STOCHASTIC = ("adam", "sgd", "gd")


class BaseMLP(BaseEstimator):
    """scikit-learn's multi-layer perceptron, trained by fastdl (see the subclasses)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS)), list, tuple, CustomActivation],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "gd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        # [0, 1): fastdl's momentum is an average, (1 − μ) weighs the new gradient
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dtype": [None, StrOptions({"float32", "float64"}), type],
        "keep_prob": [Interval(Real, 0, 1, closed="right"), list, tuple],
        "init": [StrOptions(set(INITS))],
        "backend": [StrOptions(set(BACKENDS))],
        "progress": ["boolean"],
    }

    def __init__(self, hidden_layer_sizes, activation, solver, alpha, batch_size,
                 learning_rate, learning_rate_init, power_t, max_iter, shuffle, random_state,
                 tol, verbose, warm_start, momentum, nesterovs_momentum, early_stopping,
                 validation_fraction, beta_1, beta_2, epsilon, n_iter_no_change, max_fun,
                 dtype, keep_prob, init, backend, progress):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype
        self.keep_prob = keep_prob
        self.init = init
        self.backend = backend
        self.progress = progress

    # -- the fitted parameters, in scikit-learn's layout ----------------------------------
    @property
    def coefs_(self):
        """One (n_in, n_out) array per layer: views of the network's W[l]ᵀ."""
        check_is_fitted(self, "network_")
        return [W.T for W, _ in self.network_._params]

    @coefs_.setter
    def coefs_(self, coefs):
        self._set_parameters(coefs, self.intercepts_)

    @property
    def intercepts_(self):
        """One (n_out,) array per layer: views of the network's b[l]."""
        check_is_fitted(self, "network_")
        return [b[:, 0] for _, b in self.network_._params]

    @intercepts_.setter
    def intercepts_(self, intercepts):
        self._set_parameters(self.coefs_, intercepts)

    def _set_parameters(self, coefs, intercepts):
        params = {}
        for l, (coef, intercept) in enumerate(zip(coefs, intercepts), start=1):
            params[f"W{l}"] = np.asarray(coef).T
            params[f"b{l}"] = np.asarray(intercept).reshape(-1, 1)
        self.network_.set_parameters(params)

    # -- fit ---------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False):
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if first_pass:
            hidden = self._hidden_sizes()
            self._random_state = check_random_state(self.random_state)
            self._initialize(X.shape[1], Y.shape[1], hidden, X.dtype)
        else:
            self._random_state = check_random_state(self.random_state)
            if Y.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {Y.shape[1]} outputs but the network was fitted with "
                                 f"{self.n_outputs_}")
        dtype = self.network_.dtype
        X = X.astype(dtype, copy=False)
        Y = Y.astype(dtype, copy=False)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype,
                                                 ensure_non_negative=True)
            v.check_sample_weight(sample_weight, X.shape[0], dtype)  # their sum must be finite
        if self.solver == "lbfgs":
            _solvers.fit_lbfgs(self, X, Y, sample_weight)
        else:
            _solvers.fit_stochastic(self, X, Y, sample_weight, incremental)
        return self

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if any(isinstance(n, (bool, np.bool_)) or not isinstance(n, Integral) or n <= 0
               for n in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        for i, n in enumerate(sizes):
            if n > v.MAX_SIZE:
                raise ValueError(f"hidden_layer_sizes[{i}] is {int(n)}, more than the largest "
                                 f"layer the engines take ({v.MAX_SIZE}: their sizes are 32-bit)")
        return [int(n) for n in sizes]

    def _hidden_activations(self, n_hidden):
        """One fastdl activation per hidden layer, from a name, a list or a custom one."""
        activation = self.activation
        names = list(activation) if isinstance(activation, (list, tuple)) else [activation] * n_hidden
        if len(names) != n_hidden:
            raise ValueError(f"activation has {len(names)} entries but hidden_layer_sizes has "
                             f"{n_hidden} layers; give one per hidden layer")
        resolved = []
        for layer, name in enumerate(names, start=1):
            if isinstance(name, CustomActivation):
                resolved.append(name)
            elif isinstance(name, str) and name in ACTIVATIONS:
                resolved.append(ACTIVATIONS[name])
            else:
                raise ValueError(f"activation of hidden layer {layer} is {name!r}; expected one "
                                 f"of {sorted(ACTIVATIONS)} or a fastdl.custom_activation")
        return resolved

    def _network_dtype(self, X_dtype):
        return X_dtype if self.dtype is None else v.check_dtype(self.dtype)

    def _initialize(self, n_features, n_outputs, hidden, X_dtype):
        """The network, its starting parameters and the fitted attributes of a first fit."""
        self.n_iter_, self.t_ = 0, 0
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(hidden) + 2
        self.out_activation_ = self._output_activation()
        output = {"logistic": "sigmoid", "identity": "linear"}.get(self.out_activation_,
                                                                   self.out_activation_)
        layer_dims = [n_features, *hidden, n_outputs]
        activations = self._hidden_activations(len(hidden)) + [output]
        rs = self._random_state
        seed = None if self.init == "glorot_uniform" else int(rs.randint(np.iinfo(np.int32).max))
        self.network_ = Network(layer_dims, activations, dtype=self._network_dtype(X_dtype),
                                init="small" if seed is None else self.init, seed=seed,
                                backend=self.backend)
        if self.init == "glorot_uniform":
            self._glorot_uniform(layer_dims, rs)
        if self._keep_probs(len(hidden)) != [1.0] * len(hidden):  # dropout's own stream
            self.network_._rng = np.random.default_rng(int(rs.randint(np.iinfo(np.int32).max)))
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping and self.solver != "lbfgs":
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_, self.validation_scores_, self.best_validation_score_ = np.inf, None, None
        self._best_params = self.network_._copy_params()
        for stale in ("_optimizer", "_runner"):
            self.__dict__.pop(stale, None)

    def _glorot_uniform(self, layer_dims, rs):
        """scikit-learn's initialisation, draw for draw: W[l]ᵀ then b[l], uniform in
        ±√(6 / (fan_in + fan_out)) (√2 for logistic units), so the same random_state
        starts both libraries from the same parameters."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        params = {}
        for l, (fan_in, fan_out) in enumerate(zip(layer_dims, layer_dims[1:]), start=1):
            bound = np.sqrt(factor / (fan_in + fan_out))
            params[f"W{l}"] = rs.uniform(-bound, bound, (fan_in, fan_out)).T
            params[f"b{l}"] = rs.uniform(-bound, bound, fan_out).reshape(-1, 1)
        self.network_.set_parameters(params)

    def _keep_probs(self, n_hidden):
        keep = self.keep_prob
        values = list(keep) if isinstance(keep, (list, tuple)) else [keep] * n_hidden
        if len(values) != n_hidden:
            raise ValueError(f"keep_prob has {len(values)} values but there are {n_hidden} "
                             f"hidden layers")
        for layer, p in enumerate(values, start=1):  # a list's entries escape the constraints
            if isinstance(p, (bool, np.bool_)) or not isinstance(p, Real) or not 0 < p <= 1:
                raise ValueError(f"keep_prob for hidden layer {layer} must be in (0, 1]; got {p!r}")
        return [float(p) for p in values]

    # -- prediction --------------------------------------------------------------------
    def _forward(self, X):
        """A[L] of the network, one row per example: (n_samples, n_outputs)."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32),
                          accept_sparse=["csr", "csc"])
        return np.ascontiguousarray(self.network_.forward(X.T).T)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # handed to the engine as CSC, never densified
        tags.transformer_tags = None
        return tags
