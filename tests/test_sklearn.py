"""fastdl.sklearn: scikit-learn's own estimator checks, equivalence with scikit-learn's
MLP setting for setting, what fastdl adds, and composition with scikit-learn's tools."""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn import neural_network as sk  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.experimental import enable_halving_search_cv  # noqa: E402,F401
from sklearn.model_selection import (GridSearchCV, HalvingRandomSearchCV,  # noqa: E402
                                     cross_val_score)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastdl  # noqa: E402
from fastdl.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

SETTINGS = {"defaults": {}, "float32": {"dtype": "float32"}, "sgd": {"solver": "sgd"},
            "lbfgs": {"solver": "lbfgs"}}


def _all_settings():
    return [Estimator(max_iter=100, **settings) for Estimator in (MLPClassifier, MLPRegressor)
            for settings in SETTINGS.values()]


# With dtype='float32' forced, results carry float32's 7 digits, and predictions are
# float32 by design: the checks that compare at rtol 1e-7 or demand float64 cannot pass.
FLOAT32_BY_DESIGN = {
    "check_sample_weight_equivalence_on_dense_data":
        "float32 arithmetic: weighted and repeated fits agree to ~5e-7, the check asks 1e-7",
    "check_sample_weight_equivalence_on_sparse_data":
        "float32 arithmetic: weighted and repeated fits agree to ~5e-7, the check asks 1e-7",
    "check_methods_sample_order_invariance":
        "float32 arithmetic: reordered rows change the GEMM's rounding by ~2e-7 (rtol 1e-7)",
    "check_regressor_multioutput":
        "dtype='float32' predicts in float32 on purpose; the check demands float64",
}


def _expected_failures(estimator):
    if estimator.dtype != "float32":
        return {}
    if isinstance(estimator, MLPClassifier):  # labels are exact; predict_proba is float32
        return {name: reason for name, reason in FLOAT32_BY_DESIGN.items()
                if name != "check_regressor_multioutput"}
    return FLOAT32_BY_DESIGN


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the checks feed inf/NaN on purpose
@parametrize_with_checks(_all_settings(), expected_failed_checks=_expected_failures)
def test_scikit_learn_estimator_checks(estimator, check):
    """Every check of scikit-learn's own suite, in four settings; the only expected
    failures are float32 precision ones of the forced-float32 setting (listed above)."""
    check(estimator)


# -- the same settings train the same way -----------------------------------------------------
def _data(rng, n=240, n_features=6, kind="binary"):
    X = rng.standard_normal((n, n_features))
    score = X[:, 0] + 0.5 * X[:, 1] - X[:, 2] * X[:, 3]
    if kind == "binary":
        return X, np.where(score > 0, "yes", "no")
    if kind == "linear":
        return X, np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    if kind == "multiclass":
        return X, np.digitize(score, [-1, 0, 1])
    if kind == "multilabel":
        return X, np.stack([score > 0, X[:, 4] > 0.3, X[:, 5] < 0], axis=1).astype(int)
    if kind == "poisson":
        return X, rng.poisson(np.exp(0.3 * score.clip(-3, 3)))
    return X, np.stack([score, np.sin(X[:, 4])], axis=1) if kind == "two targets" else score


def _assert_trained_alike(ours, theirs, rtol=1e-8):
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    assert len(ours.coefs_) == len(theirs.coefs_)
    for mine, reference in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(ours.loss_curve_ if hasattr(theirs, "loss_curve_") else [],
                               getattr(theirs, "loss_curve_", []), rtol=1e-8)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)


EQUIVALENT = {
    "adam": {},
    "sgd, nesterov": {"solver": "sgd", "learning_rate_init": 0.05},
    "sgd, heavy ball": {"solver": "sgd", "nesterovs_momentum": False, "learning_rate_init": 0.05},
    "sgd, no momentum": {"solver": "sgd", "momentum": 0.0, "learning_rate_init": 0.1},
    "sgd, invscaling": {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.2},
    "sgd, adaptive": {"solver": "sgd", "learning_rate": "adaptive", "learning_rate_init": 0.05,
                      "tol": 1e-2, "n_iter_no_change": 2},
    "adam, early stopping": {"early_stopping": True, "n_iter_no_change": 3},
    "adam, tol stop": {"tol": 1e-2, "n_iter_no_change": 2},
    "adam, alpha, batches of 50": {"alpha": 0.5, "batch_size": 50},
    "adam, no shuffle": {"shuffle": False},
    "lbfgs": {"solver": "lbfgs"},
    "tanh": {"activation": "tanh"},
    "logistic": {"activation": "logistic"},
    "identity": {"activation": "identity"},
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("settings", list(EQUIVALENT))
def test_the_classifier_trains_as_scikit_learn_does(rng, settings, kind):
    """Same hyperparameters, same random_state: the same parameters and loss curve as
    scikit-learn's MLPClassifier (shuffles, schedules, stopping rules and the converted
    momentum and Adam all agree)."""
    X, y = _data(rng, kind=kind)
    options = dict(hidden_layer_sizes=(7, 5), random_state=3, max_iter=15, **EQUIVALENT[settings])
    ours, theirs = MLPClassifier(**options).fit(X, y), sk.MLPClassifier(**options).fit(X, y)
    _assert_trained_alike(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-7)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.out_activation_ == theirs.out_activation_
    for name in ("validation_scores_", "best_validation_score_", "best_loss_"):
        if getattr(theirs, name, None) is None:  # lbfgs keeps none; without a validation set
            continue
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-8,
                                   err_msg=name)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind, loss", [("one target", "squared_error"),
                                        ("two targets", "squared_error"), ("poisson", "poisson")])
@pytest.mark.parametrize("settings", ["adam", "sgd, nesterov", "adam, early stopping", "lbfgs",
                                      "adam, alpha, batches of 50"])
def test_the_regressor_trains_as_scikit_learn_does(rng, settings, kind, loss):
    X, y = _data(rng, kind=kind)
    options = dict(hidden_layer_sizes=(6,), random_state=5, max_iter=12, loss=loss,
                   **{k: v for k, v in EQUIVALENT[settings].items() if k != "learning_rate_init"},
                   learning_rate_init=0.01)
    ours, theirs = MLPRegressor(**options).fit(X, y), sk.MLPRegressor(**options).fit(X, y)
    _assert_trained_alike(ours, theirs)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-7, atol=1e-9)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-7)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sample_weights_and_partial_fit_as_scikit_learn(rng):
    X, y = _data(rng, kind="multiclass")
    weights = rng.uniform(0, 2, len(y))
    options = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=10)
    ours = MLPClassifier(**options).fit(X, y, sample_weight=weights)
    theirs = sk.MLPClassifier(**options).fit(X, y, sample_weight=weights)
    _assert_trained_alike(ours, theirs)
    ours, theirs = MLPClassifier(**options), sk.MLPClassifier(**options)
    for part in np.array_split(np.arange(len(y)), 4):
        ours.partial_fit(X[part], y[part], classes=[0, 1, 2, 3])
        theirs.partial_fit(X[part], y[part], classes=[0, 1, 2, 3])
    _assert_trained_alike(ours, theirs)


# -- sample weights ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_weight_two_is_a_duplicate_and_zero_a_removal(rng, solver, Estimator):
    """With full batches the contract holds to rounding: weight 2 trains exactly like the
    example twice, weight 0 like the example left out."""
    X, y = _data(rng, n=60, kind="binary" if Estimator is MLPClassifier else "one target")
    weights = rng.integers(0, 3, len(y))
    repeated = np.repeat(np.arange(len(y)), weights)
    options = dict(hidden_layer_sizes=(5,), solver=solver, random_state=1, max_iter=30,
                   learning_rate_init=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = Estimator(**options).fit(X, y, sample_weight=weights)
        duplicated = Estimator(**options).fit(X[repeated], y[repeated])
    for a, b in zip(weighted.coefs_, duplicated.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


# -- BLAS threads ------------------------------------------------------------------------------
def _blas_threads():
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.mark.parametrize("n, hidden, parts", [(60, (8,), 1), (2000, (100, 50), 2)])
def test_lbfgs_threads_follow_the_size_of_an_evaluation(rng, monkeypatch, n, hidden, parts):
    """Small evaluations run whole on one BLAS thread, large ones in parts (one BLAS thread
    each); the thread counts are back as they were when fit returns. Catches a limit never
    taken or never restored, and a split never made (or made of small evaluations)."""
    from threadpoolctl import threadpool_limits

    from fastdl import _split_gradients
    from fastdl.sklearn import _solvers

    seen, made, minimize = [], [], _solvers.scipy.optimize.minimize
    original_init = _split_gradients.SplitGradients.__init__

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return minimize(*args, **kwargs)

    def record(self, engine, X, Y, weights, parts):
        made.append(parts)
        original_init(self, engine, X, Y, weights, parts)

    monkeypatch.setattr(_solvers.scipy.optimize, "minimize", spy)
    monkeypatch.setattr(_split_gradients.SplitGradients, "__init__", record)
    X, y = _data(rng, n=n, kind="binary")
    with threadpool_limits(2, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        before = _blas_threads()
        MLPClassifier(hidden_layer_sizes=hidden, solver="lbfgs", max_iter=2).fit(X, y)
        assert _blas_threads() == before
    assert seen == [[1] * len(before)]
    assert made == ([] if parts == 1 else [parts])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator, kind", [(MLPClassifier, "multiclass"),
                                             (MLPRegressor, "two targets")])
def test_lbfgs_in_parts_trains_as_scikit_learn_does(rng, monkeypatch, Estimator, kind):
    from fastdl import _split_gradients
    from fastdl.sklearn import _solvers, _threads

    monkeypatch.setattr(_threads, "PART_MULTIPLY_ADDS", 1)  # split even this small fit
    monkeypatch.setattr(_solvers, "blas_threads", lambda: 3)
    made, original_init = [], _split_gradients.SplitGradients.__init__

    def record(self, engine, X, Y, weights, parts):
        made.append(parts)
        original_init(self, engine, X, Y, weights, parts)

    monkeypatch.setattr(_split_gradients.SplitGradients, "__init__", record)
    X, y = _data(rng, kind=kind)
    weights = rng.uniform(0.5, 2, len(X))
    options = dict(hidden_layer_sizes=(7, 5), random_state=3, max_iter=15, solver="lbfgs",
                   alpha=0.01)
    ours = Estimator(**options).fit(X, y, sample_weight=weights)
    theirs = getattr(sk, Estimator.__name__)(**options).fit(X, y, sample_weight=weights)
    assert made == [3]
    _assert_trained_alike(ours, theirs, rtol=1e-6)


def test_evaluation_multiply_adds_and_parts():
    from fastdl.sklearn._threads import PART_MULTIPLY_ADDS, evaluation_multiply_adds, parts_for

    # forward 4·3 + 2·4, backward dW the same, Wᵀ·dZ for the second layer only: 2·4; × m
    assert evaluation_multiply_adds([3, 4, 2], 10) == (12 + 8 + 12 + 8 + 8) * 10
    digits, breast_cancer = ([64, 64, 32, 10], 1347), ([30, 64, 32, 1], 426)
    assert evaluation_multiply_adds(*digits) >= 4 * PART_MULTIPLY_ADDS
    assert parts_for(*digits, threads=2) == 2 and parts_for(*digits, threads=64) == 4
    assert parts_for(*breast_cancer, threads=2) == 1


# -- what fastdl adds ---------------------------------------------------------------------------
def test_fastdl_activations_dropout_and_float32(rng):
    X, y = _data(rng, kind="multiclass")
    softsign = pytest.importorskip("numba") and fastdl.custom_activation(
        "softsign_sk", lambda z: z / (1 + abs(z)), lambda z: 1 / (1 + abs(z)) ** 2)
    est = MLPClassifier(hidden_layer_sizes=(16, 8, 8), activation=["leaky_relu", softsign, "tanh"],
                        keep_prob=[0.9, 1.0, 1.0], max_iter=150, random_state=0,
                        learning_rate_init=0.01)
    est.fit(X.astype(np.float32), y)
    assert est.network_.activations[:3] == ["leaky_relu", softsign, "tanh"]
    assert est.network_.dtype == np.float32
    assert all(coef.dtype == np.float32 for coef in est.coefs_)
    assert est.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert est.score(X, y) > 0.8


def test_the_gd_solver_is_full_batch_gradient_descent(rng):
    """solver='gd' is Network.fit with batch gradient descent, from scikit-learn's
    starting parameters (Glorot-uniform draws from random_state): epoch for epoch."""
    X, y = _data(rng, kind="one target")
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="gd", learning_rate_init=0.05,
                       alpha=0.0, max_iter=20, tol=0, random_state=0).fit(X, y)
    params, rs = {}, np.random.RandomState(0)
    for l, (fan_in, fan_out) in enumerate([(6, 4), (4, 1)], start=1):
        bound = np.sqrt(6 / (fan_in + fan_out))
        params[f"W{l}"] = rs.uniform(-bound, bound, (fan_in, fan_out)).T
        params[f"b{l}"] = rs.uniform(-bound, bound, fan_out).reshape(-1, 1)
    net = fastdl.Network([6, 4, 1], output="linear", backend="numpy")
    net.set_parameters(params)
    history = net.fit(X.T, y.reshape(1, -1), learning_rate=0.05, epochs=20)
    np.testing.assert_allclose(est.loss_curve_, history.costs, rtol=1e-10)
    for key, value in net.parameters.items():
        np.testing.assert_allclose(est.network_.parameters[key], value, rtol=1e-10, atol=1e-12)


def test_history_keeps_the_validation_loss_and_the_network_saves(rng, tmp_path):
    X, y = _data(rng, kind="binary")
    est = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=30,
                        n_iter_no_change=100, random_state=0).fit(X, y)
    history = est.history_
    assert len(history.costs) == len(history.dev_costs) == len(history.dev_accuracy) == 30
    assert history.costs == est.loss_curve_ and history.dev_accuracy == est.validation_scores_
    assert history.best_epoch == int(np.argmax(est.validation_scores_))
    est.network_.save(tmp_path / "m.npz")
    again = fastdl.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.forward(X.T).T[:, 0], est.predict_proba(X)[:, 1])


def test_a_progress_bar_on_a_terminal(rng, monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, progress=True, random_state=0).fit(
        *_data(rng, kind="binary"))
    assert "5/5" in screen.getvalue()


def test_divergence_keeps_the_last_good_parameters(rng):
    X, y = _data(rng, kind="one target")
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e3,
                       momentum=0.0, random_state=0, max_iter=50)
    with pytest.warns(fastdl.DivergenceWarning, match="too large"):
        est.fit(X, 1e3 * y)
    assert est.history_.stop_reason == "diverged"
    assert all(np.isfinite(coef).all() for coef in est.coefs_)


# -- composition ---------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipelines_cross_validation_and_searches(rng):
    X, y = _data(rng, n=3000, n_features=50, kind="linear")  # 1.2 MB: joblib memory-maps it
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=20,
                                                              learning_rate_init=0.01,
                                                              random_state=0))
    assert cross_val_score(pipeline, X, y, cv=3).mean() > 0.8
    grid = GridSearchCV(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
                        {"alpha": [1e-4, 1.0], "learning_rate_init": [1e-3, 1e-2]}, cv=2, n_jobs=2)
    grid.fit(X, y)  # the workers read X as a read-only memory map
    assert set(grid.best_params_) == {"alpha", "learning_rate_init"}
    halving = HalvingRandomSearchCV(MLPClassifier(hidden_layer_sizes=(8,), random_state=0),
                                    {"alpha": [1e-4, 1e-2, 1.0]}, resource="max_iter",
                                    max_resources=9, min_resources=3, factor=3, cv=2,
                                    random_state=0)
    halving.fit(X[:500], y[:500])
    assert halving.best_estimator_.n_iter_ == 9


def test_clone_and_pickle_give_identical_predictions(rng):
    X, y = _data(rng, kind="multiclass")
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = est.fit(X, y)
        refitted = clone(est).fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(refitted.predict_proba(X), fitted.predict_proba(X))
    assert again.network_.backend == fitted.network_.backend


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_sparse_input_trains_as_dense_and_as_scikit_learn(rng, solver):
    """Sparse X reaches the engine as CSC (never densified) and trains exactly as the same
    data dense, and as scikit-learn's MLP on the sparse data."""
    import scipy.sparse

    X, y = _data(rng, n=200, n_features=30, kind="binary")
    X[rng.random(X.shape) < 0.8] = 0
    sparse = scipy.sparse.csr_matrix(X)
    options = dict(hidden_layer_sizes=(6,), solver=solver, random_state=2, max_iter=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        on_sparse = MLPClassifier(**options).fit(sparse, y)
        on_dense = MLPClassifier(**options).fit(X, y)
        theirs = sk.MLPClassifier(**options).fit(sparse, y)
    for a, b, c in zip(on_sparse.coefs_, on_dense.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(on_sparse.predict_proba(sparse), on_dense.predict_proba(X),
                               rtol=1e-10)


@pytest.mark.parametrize("params, match", [
    ({"hidden_layer_sizes": (3, 0)}, r"hidden_layer_sizes must be > 0"),
    ({"activation": "relux"}, r"The 'activation' parameter of MLPClassifier must be"),
    ({"activation": ["relu"], "hidden_layer_sizes": (3, 3)}, "activation has 1 entries but"),
    ({"momentum": 1.0}, r"The 'momentum' parameter of MLPClassifier must be a float in the "
                        r"range \[0.0, 1.0\)"),
    ({"keep_prob": 0.0}, r"The 'keep_prob' parameter"),
    ({"dtype": "float16"}, r"The 'dtype' parameter"),
])
def test_bad_parameters_are_named(rng, params, match):
    X, y = _data(rng, kind="binary")
    with pytest.raises(ValueError, match=match):
        MLPClassifier(max_iter=2, **params).fit(X, y)


def test_partial_fit_needs_classes_and_a_stochastic_solver(rng):
    X, y = _data(rng, kind="binary")
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, y)
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as caught:
        MLPClassifier(solver="lbfgs").partial_fit(X, y, classes=["no", "yes"])
    assert "partial_fit is only available for stochastic" in str(caught.value.__cause__)


def test_import_fastdl_does_not_import_sklearn_and_the_hint_names_the_extra():
    code = ("import sys, fastdl; assert 'sklearn' not in sys.modules; "
            "sys.modules['sklearn'] = None\n"
            "try:\n    import fastdl.sklearn\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'fastdl[sklearn]'" in out.stdout


def test_an_lbfgs_fit_in_another_thread_leaves_blas_alone(rng, monkeypatch):
    """Only the main thread can set OpenBLAS's thread count; elsewhere neither the limit
    nor the split is attempted (a limit that did not take would leave parts competing
    with BLAS's threads, and a restore that did not take would leave one thread)."""
    import threading

    from fastdl import _split_gradients
    from fastdl.sklearn import _solvers

    entered = []
    monkeypatch.setattr(_split_gradients.SplitGradients, "__init__",
                        lambda *args: entered.append("split"))
    monkeypatch.setattr(_solvers, "one_blas_thread", lambda: entered.append("limit"))
    X, y = _data(rng, n=2000, kind="binary")
    errors = []

    def fit():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                MLPClassifier(hidden_layer_sizes=(100, 50), solver="lbfgs", max_iter=2).fit(X, y)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    worker = threading.Thread(target=fit)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive() and errors == [] and entered == []
