"""MLPClassifier and MLPRegressor: scikit-learn's parameters and attributes, fastdl's engine."""
import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import STOCHASTIC, BaseMLP

_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
    learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start,
    momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2,
    epsilon, n_iter_no_change, max_fun
        As in scikit-learn's MLP, with the same defaults and meanings. In addition,
        ``activation`` takes 'leaky_relu', a fastdl.custom_activation, or a list of one per
        hidden layer; ``solver`` takes 'gd' (full-batch gradient descent at
        ``learning_rate_init``); ``momentum`` must be below 1.
    dtype : {None, 'float32', 'float64'}
        The network's dtype; None keeps the input's (float32 stays float32).
    keep_prob : float or list of float
        Inverted dropout in the hidden layers (1.0: none).
    init : {'glorot_uniform', 'he', 'xavier', 'scaled', 'small'}
        'glorot_uniform' is scikit-learn's, draw for draw from ``random_state``.
    backend : {'auto', 'cython', 'numpy'}
    progress : bool
        A progress bar over the epochs (tqdm, on a terminal).

    Attributes
    ----------
    coefs_, intercepts_ : lists of arrays
        (n_in, n_out) and (n_out,) per layer: views of the network's W[l]ᵀ and b[l].
    n_features_in_, feature_names_in_, n_iter_, n_layers_, n_outputs_, out_activation_,
    loss_, loss_curve_, best_loss_, validation_scores_, best_validation_score_, t_
        As in scikit-learn (``loss_curve_`` is kept by 'lbfgs' too, one entry per iteration).
    network_ : fastdl.Network
        The trained network (``network_.save(path)`` writes a pickle-free file).
    history_ : fastdl.History
        Per epoch: the training loss, the time, the learning rate and, with early stopping,
        the validation loss (``dev_costs``) and score (``dev_accuracy``); ``stop_reason``.
"""

def _check_solver(estimator):
    if estimator.solver not in STOCHASTIC:
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                             f"{estimator.solver} is not stochastic.")
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's, trained by fastdl.

    Binary labels get a sigmoid output, several classes a softmax, an indicator matrix
    (multi-label) one sigmoid per label; labels may be of any type.
    """ + _PARAMETERS_DOC + """
    classes_ : ndarray
        The class labels.
    """

    _is_classifier = True

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dtype=None, keep_prob=1.0, init="glorot_uniform", backend="auto",
                 progress=False):
        super().__init__(hidden_layer_sizes, activation, solver, alpha, batch_size,
                         learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                         random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                         early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                         n_iter_no_change, max_fun, dtype, keep_prob, init, backend, progress)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit to X (n_samples, n_features) and labels y; returns self."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing from the current state; ``classes`` (every
        label there will be) is needed on the first call."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(f"warm_start can only be used where `y` has the same "
                                     f"classes as in the previous call to fit. Previously got "
                                     f"{self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        Y = self._label_binarizer.transform(y).astype(X.dtype)
        return X, Y.reshape(len(Y), -1)

    def _validation_score(self, X, Y, sample_weight):
        labels = self._label_binarizer.inverse_transform(Y)
        return accuracy_score(labels, self._labels(self._network_output(X)),
                              sample_weight=sample_weight)

    def _network_output(self, X):
        return np.ascontiguousarray(self.network_.forward(X.T).T)

    def _labels(self, A):
        return self._label_binarizer.inverse_transform(A.ravel() if self.n_outputs_ == 1 else A)

    def predict(self, X):
        """The predicted class of each row (an indicator matrix for multi-label)."""
        return self._labels(self._forward(X))

    def predict_proba(self, X):
        """(n_samples, n_classes) probabilities, classes ordered as ``classes_``."""
        A = self._forward(X)
        if self.n_outputs_ == 1:
            return np.hstack([1 - A, A])
        return A

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        P = self.predict_proba(X)
        return np.log(P, out=P)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's, trained by fastdl.

    A linear output with the squared error, or with ``loss='poisson'`` an exp output
    with half the Poisson deviance (targets >= 0); one or several targets.
    """ + _PARAMETERS_DOC + """
    loss : {'squared_error', 'poisson'}
    """

    _is_classifier = False
    _parameter_constraints: dict = {**BaseMLP._parameter_constraints,
                                    "loss": [StrOptions({"squared_error", "poisson"})]}

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dtype=None, keep_prob=1.0, init="glorot_uniform", backend="auto",
                 progress=False):
        self.loss = loss
        super().__init__(hidden_layer_sizes, activation, solver, alpha, batch_size,
                         learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                         random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                         early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                         n_iter_no_change, max_fun, dtype, keep_prob, init, backend, progress)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit to X (n_samples, n_features) and targets y; returns self."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current state."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _output_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y.astype(X.dtype, copy=False).reshape(len(y), -1)

    def _validation_score(self, X, Y, sample_weight):
        A = np.ascontiguousarray(self.network_.forward(X.T).T)
        return r2_score(Y, A, sample_weight=sample_weight)

    def predict(self, X):
        """(n_samples,) predictions, or (n_samples, n_outputs) for several targets."""
        A = self._forward(X)
        return A.ravel() if A.shape[1] == 1 else A

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
