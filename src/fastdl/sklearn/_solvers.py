"""The solvers, as scikit-learn runs them: the stochastic loop (sgd, adam, and fastdl's
full-batch gd) epoch by epoch, and L-BFGS through scipy.optimize.

The loops keep scikit-learn's semantics (shuffles drawn from ``random_state`` in the same
order, the tolerance and ``n_iter_no_change`` rules, 'invscaling' and 'adaptive' rates,
early stopping on a validation score); each batch is one call into fastdl's engine.
Where fastdl's rules are written differently, the settings are converted so that they
train the same way:

* momentum: scikit-learn's v := μv − η dW, W += v is fastdl's average
  v := βv + (1 − β) dW, W −= α v with β = μ and α = η / (1 − μ); when η changes (a
  schedule), v is rescaled by α_old / α_new, which keeps the two identical;
* Adam: ε is added to √s before the bias correction (``epsilon_form="uncorrected"``);
* alpha is fastdl's L2 strength λ: the batch cost gains (α / 2n_batch) Σ‖W‖².
"""
import contextlib
import time
import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from .. import _limits
from .._optimizers import Adam, GradientDescent, Momentum
from .._progress import Progress
from .._batches import Batches, IndexBatches
from .._training import DivergenceWarning, EpochRunner, divergence_message, params_finite
from .._sparse import Transposed
from ..history import History
from .._split_gradients import SplitGradients, pair_views
from ._threads import blas_threads, may_limit, one_blas_thread, parts_for


# -- the stochastic loop ----------------------------------------------------------------------
def fit_stochastic(est, X, Y, sample_weight, incremental):
    """scikit-learn's ``_fit_stochastic``, each batch an engine call."""
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    net = est.network_
    if not incremental or not hasattr(est, "_runner"):
        est._learning_rate = float(est.learning_rate_init)
        optimizer = _make_optimizer(est)
        optimizer.start(net._params)
        est._runner = EpochRunner(net, optimizer, l2=float(est.alpha),
                                  keep_prob=est._keep_probs(net.L - 1), mean="count",
                                  report=_reported_loss(est))
    (X_train, Y_train, w_train), validation = _split(est, X, Y, sample_weight)
    batches = _batches(est, X_train, Y_train, w_train)
    history = est.__dict__.setdefault("history_", History()) if incremental else History()
    est.history_ = history
    progress = Progress(est.max_iter, 1 if est.progress else 0)
    start = time.perf_counter()
    est.n_iter_ = 0  # epochs of this call (scikit-learn counts them afresh each call)
    if isinstance(batches, IndexBatches) and getattr(net._engine, "transposes_sparse", False):
        net._form = Transposed(net)  # W[1]ᵀ, whose rows the sparse products read (fastdl._sparse)
    try:
        for _ in range(est.max_iter):
            loss = est._runner.epoch(batches)
            if loss is None:
                _diverged(est, history)
                break
            _record_epoch(est, history, loss, X_train.shape[0], validation, start)
            progress.update(len(history.costs) - 1, history)
            if _iteration_ends(est, history):
                break
            if incremental:
                break
            if est.n_iter_ == est.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached "
                              f"and the optimization hasn't converged yet.", ConvergenceWarning)
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
        warnings.warn("Training interrupted by user.")
    finally:
        progress.close()
        net._sync()
        net._form = None
    if est.early_stopping:
        net._restore(est._best_params)


def _make_optimizer(est):
    rate = est._learning_rate
    if est.solver == "adam":
        return Adam(rate, est.beta_1, est.beta_2, est.epsilon, epsilon_form="uncorrected")
    if est.solver == "gd" or est.momentum == 0:
        return GradientDescent(rate)
    return Momentum(rate / (1 - est.momentum), est.momentum, nesterov=est.nesterovs_momentum)


def _reported_loss(est):
    """scikit-learn's squared error averages over the targets where fastdl's cost (and both
    libraries' gradient) sums over them: with K > 1 targets the loss it reports, and the
    tolerance rules read, is (J − R)/K + R, R the L2 term. None where the two agree."""
    K = est.n_outputs_
    if est._is_classifier or est.loss != "squared_error" or K == 1:
        return None
    alpha, net = float(est.alpha), est.network_

    def report(J, X_batch, w_batch, params=None):
        if alpha == 0:
            return J / K
        norm = X_batch.shape[1] if w_batch is None else float(np.sum(w_batch, dtype=np.float64))
        weights = net._backup if params is None else params  # what J was computed at
        R = 0.5 * alpha * sum(float(np.vdot(W, W)) for W, _ in weights) / norm
        return (J - R) / K + R
    return report


def _set_learning_rate(est, rate):
    """Change scikit-learn's η, converted for the optimizer in use (see the module)."""
    optimizer = est._runner.optimizer
    if isinstance(optimizer, Momentum):
        new = rate / (1 - optimizer.beta)
        for velocity in (array for pair in optimizer.velocities for array in pair):
            velocity *= velocity.dtype.type(optimizer.learning_rate / new)
        optimizer.learning_rate = new
    else:
        optimizer.learning_rate = rate
    est._learning_rate = rate


def _split(est, X, Y, sample_weight):
    """(train, validation): the validation part only with early stopping, drawn with
    scikit-learn's train_test_split (stratified for single-output classifiers)."""
    if not est.early_stopping:
        return (X, Y, sample_weight), None
    stratify = Y if est._is_classifier and est.n_outputs_ == 1 else None
    arrays = (X, Y) if sample_weight is None else (X, Y, sample_weight)
    parts = train_test_split(*arrays, random_state=est._random_state,
                             test_size=est.validation_fraction, stratify=stratify)
    if parts[1].shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' or "
                         "the size of your dataset.")
    train = (parts[0], parts[2], parts[4] if sample_weight is not None else None)
    val = (parts[1], parts[3], parts[5] if sample_weight is not None else None)
    return train, val


def _batches(est, X, Y, sample_weight):
    """The epochs' batches of rows, reordered as scikit-learn's shuffle reorders them."""
    n = X.shape[0]
    if est.solver == "gd":
        size = n
    elif est.batch_size == "auto":
        size = min(200, n)
    else:
        if est.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                          "going to be clipped")
        size = min(max(int(est.batch_size), 1), n)  # np.clip overflows past int64
    weights = None if sample_weight is None else sample_weight.reshape(1, n)
    XT, YT = est.network_._check_XY(X.T, Y.T)
    _limits.check_training(est.network_._spec, XT, size, shuffle=est.shuffle,
                           what=f"{type(est).__name__}.fit")
    order = None
    if est.shuffle and size < n:
        rs, index = est._random_state, np.arange(n)

        def order():
            nonlocal index
            index = index[rs.permutation(n)]  # sklearn.utils.shuffle, draw for draw
            return index
    if not isinstance(XT, np.ndarray):  # sparse: batches are sets of its columns, never dense
        return IndexBatches(YT, size, order, weights, XT)
    return Batches(XT, YT, size, order, weights)


def _record_epoch(est, history, loss, n_samples, validation, start):
    est.n_iter_ += 1
    est.loss_ = loss
    est.t_ += n_samples
    est.loss_curve_.append(loss)
    history.costs.append(loss)
    history.times.append(time.perf_counter() - start)
    history.learning_rates.append(est._learning_rate)
    if est.verbose:
        print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
    _update_no_improvement_count(est, history, validation)


def _update_no_improvement_count(est, history, validation):
    if validation is None:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        est.best_loss_ = min(est.best_loss_, est.loss_curve_[-1])
        return
    X_val, Y_val, w_val = validation
    score = est._validation_score(X_val, Y_val, w_val)
    est.validation_scores_.append(score)
    history.dev_costs.append(est.network_.cost(X_val.T, Y_val.T, sample_weight=w_val))
    history.dev_accuracy.append(score)
    if est.verbose:
        print(f"Validation score: {score:f}")
    if score < est.best_validation_score_ + est.tol:
        est._no_improvement_count += 1
    else:
        est._no_improvement_count = 0
    if score > est.best_validation_score_:
        est.best_validation_score_ = score
        est.network_._sync()
        est.network_._copy_params(est._best_params)
        history.best_epoch = len(history.costs) - 1


def _iteration_ends(est, history):
    """scikit-learn's end-of-epoch rules; True when training should stop."""
    if est.solver != "adam" and est.learning_rate == "invscaling":
        _set_learning_rate(est, float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t)
    if est._no_improvement_count <= est.n_iter_no_change:
        return False
    what = "Validation score" if est.early_stopping else "Training loss"
    message = (f"{what} did not improve more than tol={est.tol:f} for "
               f"{est.n_iter_no_change} consecutive epochs.")
    if est.solver == "adam" or est.learning_rate != "adaptive" or est._learning_rate <= 1e-6:
        if est.verbose:
            print(message + " Stopping.")
        history.stop_reason = "early stopping"
        return True
    _set_learning_rate(est, est._learning_rate / 5.0)
    if est.verbose:
        print(message + f" Setting learning rate to {est._learning_rate:f}")
    est._no_improvement_count = 0
    return False


def _diverged(est, history):
    """A step's cost was not finite or exploded: the engine kept the last good parameters."""
    J, X_first = est._runner.refused
    history.stop_reason = "diverged"
    warnings.warn(divergence_message(est.learning_rate_init, J, X_first), DivergenceWarning,
                  stacklevel=4)


# -- L-BFGS ----------------------------------------------------------------------------------
def fit_lbfgs(est, X, Y, sample_weight):
    """One scipy.optimize.minimize(method="L-BFGS-B") over the packed parameters; each
    evaluation is one engine call for the cost and all the gradients, or one per part of
    the examples, in threads (see ._threads)."""
    net = est.network_
    XT, YT = net._check_XY(X.T, Y.T)
    _limits.check_batch(net._spec, XT, f"{type(est).__name__}.fit (lbfgs)", training=True)
    weights = None if sample_weight is None else sample_weight.reshape(1, -1)
    gradient = np.empty(sum(array.size for pair in net._params for array in pair))
    with _evaluations(net, XT, YT, weights, float(est.alpha), gradient) as evaluate:
        _minimize_lbfgs(est, evaluate, gradient, XT, weights)


@contextlib.contextmanager
def _evaluations(net, XT, YT, weights, alpha, gradient):
    """``evaluate()`` -> J at ``net``'s parameters, with the gradient written into the flat
    ``gradient``, on the threads that suit the evaluation's size: small ones whole on one
    BLAS thread, large ones split by examples (one BLAS thread a part) where they can be."""
    threads = blas_threads() if may_limit() else 1
    parts = parts_for(net._spec.layer_dims, XT.shape[1], threads)
    split = (threads > 1 and parts > 1 and net._engine.name == "cython"
             and SplitGradients.applies(XT, weights, parts))
    # BLAS stays as it is where it has one thread already, or for a large evaluation that
    # cannot be split.
    limit = threads > 1 and (parts == 1 or split)
    with one_blas_thread() if limit else contextlib.nullcontext():
        if not split:
            views = pair_views(gradient, net._params)
            yield lambda: net._engine.gradients(net._params, XT, YT, l2=alpha, weights=weights,
                                                out=views)[0]
            return
        parted = SplitGradients(net._engine, XT, YT, weights, parts)
        try:
            yield lambda: parted.gradients(net._params, l2=alpha, out=gradient)
        finally:
            parted.close()


def _minimize_lbfgs(est, evaluate, gradient, XT, weights):
    net = est.network_
    history = est.history_ = History()
    report = _reported_loss(est)

    def cost_and_gradient(x):
        _unpack(x, net._params)
        J = evaluate()
        if report is not None:  # scikit-learn's L-BFGS minimises what it reports (see there)
            J = report(J, XT, weights, net._params)
        return J, gradient

    def after_iteration(intermediate_result):
        est.loss_curve_.append(float(intermediate_result.fun))
        history.costs.append(float(intermediate_result.fun))
        if est.verbose:
            print(f"Iteration {len(est.loss_curve_)}, loss = {intermediate_result.fun:.8f}")

    x0 = np.concatenate([array.ravel() for pair in net._params for array in pair]).astype(np.float64)
    result = scipy.optimize.minimize(
        cost_and_gradient, x0, method="L-BFGS-B", jac=True, callback=after_iteration,
        options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol})
    est.n_iter_ = min(result.nit, est.max_iter)
    if result.status != 0:
        warnings.warn(f"lbfgs failed to converge after {est.n_iter_} iteration(s) "
                      f"(status={result.status}):\n{result.message}\n", ConvergenceWarning)
    est.loss_ = float(result.fun)
    est.best_loss_ = min(est.loss_curve_, default=est.loss_)
    _unpack(result.x, net._params)
    if not params_finite(net._params):
        _unpack(x0, net._params)
        history.stop_reason = "diverged"
        warnings.warn("lbfgs reached non-finite parameters; the starting parameters were "
                      "kept: scale the inputs", DivergenceWarning, stacklevel=4)


def _unpack(x, params):
    start = 0
    for pair in params:
        for array in pair:
            np.copyto(array, x[start:start + array.size].reshape(array.shape), casting="unsafe")
            start += array.size
