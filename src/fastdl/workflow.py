"""The notes' workflow around training: splitting data and reading bias and variance.

The third part of the loop, :func:`fastdl.search`, lives in ``_search``."""
import numbers
from dataclasses import dataclass

import numpy as np

from ._validation import as_matrix


def recommended_split(m):
    """``(train, dev, test)`` fractions for ``m`` examples, by the notes' rules of thumb.

    Small data keeps the classic 60/20/20. As data grows, dev and test need only be
    big enough to compare models, so they hold 10,000 examples each until that falls
    under 1% (at m = 1e6: 98/1/1), and never less than 1%.
    """
    if (isinstance(m, bool) or not isinstance(m, numbers.Real) or not 0 <= m < float("inf")
            or m != int(m)):
        raise ValueError(f"m must be a non-negative whole number of examples; got {m!r}")
    m = int(m)
    dev = min(0.2, max(0.01, 10_000 / m)) if m > 0 else 0.2
    return 1 - 2 * dev, dev, dev


def _is_number(value):
    """A real number that is not a bool (numpy scalars too)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)


def _fraction(argument, value):
    if not _is_number(value) or not 0 <= value < 1:
        raise ValueError(f"{argument} must be a fraction in [0, 1); got {value!r}")
    return float(value)


def _seed(seed):
    """None, a non-negative integer or a numpy generator (numpy's own refusals say less)."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence,
                                         np.random.BitGenerator)):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer; got {seed!r}")
    return seed


def train_dev_test_split(X, Y, *, dev=None, test=None, shuffle=True, seed=None):
    """Split examples (columns) into train, dev and test sets.

    Shuffling first puts dev and test on the same distribution, which the notes insist
    on. ``dev`` and ``test`` are fractions; by default they follow
    :func:`recommended_split`. ``test=0`` omits the test set (its arrays then have
    m = 0); ``dev=0, test=0.3`` gives the classic 70/30 train/test split.

    Returns
    -------
    (X_train, Y_train), (X_dev, Y_dev), (X_test, Y_test)
    """
    X = as_matrix("X", X, np.result_type(np.asarray(X).dtype, np.float64))
    Y = as_matrix("Y", Y, np.result_type(np.asarray(Y).dtype, np.float64))
    m = X.shape[1]
    if Y.shape[1] != m:
        raise ValueError(f"X has m = {m} examples (columns) but Y has {Y.shape[1]}")
    default_train, default_dev, default_test = recommended_split(m)
    dev = default_dev if dev is None else _fraction("dev", dev)
    test = default_test if test is None else _fraction("test", test)
    if dev + test >= 1:
        raise ValueError(f"dev + test must leave examples to train on; got {dev} + {test} >= 1")
    order = np.random.default_rng(_seed(seed)).permutation(m) if shuffle else np.arange(m)
    n_dev, n_test = int(round(dev * m)), int(round(test * m))
    if m - n_dev - n_test < 1:
        raise ValueError(f"m = {m} examples leave none to train on with dev={dev}, test={test}")
    parts = np.split(order, [m - n_dev - n_test, m - n_test])
    return tuple((X[:, idx], Y[:, idx]) for idx in parts)


@dataclass(frozen=True)
class Diagnosis:
    """Bias and variance read from train and dev error, with what to try next."""

    train_error: float
    dev_error: float
    base_error: float
    high_bias: bool
    high_variance: bool

    @property
    def summary(self):
        if self.high_bias and self.high_variance:
            return "high bias and high variance"
        if self.high_bias:
            return "high bias (underfitting)"
        if self.high_variance:
            return "high variance (overfitting)"
        return "low bias and low variance"

    @property
    def advice(self):
        """What to try next, naming fastdl's own remedies and the keywords that apply them."""
        steps = []
        if self.high_bias:
            steps.append(
                f"high bias (avoidable bias {self.train_error - self.base_error:.1%}): fit the "
                f"training set better first: a larger network (more layers or units in "
                f"layer_dims), more epochs (fit(epochs=...)), another optimizer "
                f"(fit(optimizer='adam')), or let fastdl.search try architectures and "
                f"learning rates")
        if self.high_variance:
            steps.append(
                f"high variance (dev - train {self.dev_error - self.train_error:.1%}): close the "
                f"gap: L2 regularisation (fit(l2=...)), dropout (fit(keep_prob=...)), early "
                f"stopping on the dev set (fit(dev=(X_dev, Y_dev), patience=...)), or more "
                f"training data")
        if not steps:
            steps.append("the model fits and generalises; check it once on the test set")
        return steps

    def __str__(self):
        lines = [f"train error {self.train_error:.1%}, dev error {self.dev_error:.1%} "
                 f"(base error {self.base_error:.1%}): {self.summary}"]
        return "\n".join(lines + [f"- {step}" for step in self.advice])


def _error(argument, value):
    if not _is_number(value) or not 0 <= value <= 1:
        raise ValueError(f"{argument} must be an error rate in [0, 1]; got {value!r}")
    return float(value)


def diagnose(train_error, dev_error, *, base_error=0.0, tolerance=0.02):
    """Bias/variance diagnosis from error rates in [0, 1].

    Avoidable bias is ``train_error − base_error``; variance is ``dev_error −
    train_error``; each is high when it exceeds ``tolerance``. The notes' cases, with
    base error ≈ 0: 1%/11% high variance; 15%/16% high bias; 15%/30% both; 0.5%/1% neither.
    """
    train_error, dev_error = _error("train_error", train_error), _error("dev_error", dev_error)
    base_error, tolerance = _error("base_error", base_error), _error("tolerance", tolerance)
    return Diagnosis(train_error, dev_error, base_error,
                     high_bias=train_error - base_error > tolerance,
                     high_variance=dev_error - train_error > tolerance)


def diagnose_network(net, train, dev, *, base_error=0.0, tolerance=0.02):
    """:func:`diagnose` with the errors of a trained sigmoid-output ``net`` on (X, Y) pairs."""
    return diagnose(1 - net.accuracy(*train), 1 - net.accuracy(*dev),
                    base_error=base_error, tolerance=tolerance)

