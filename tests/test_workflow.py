"""The notes' workflow: train/dev/test splits and bias/variance diagnosis (search: test_search*.py)."""
import numpy as np
import pytest

import fastdl
from fastdl import datasets


def _indexed(m, n_x=2):
    """X whose first row numbers the examples, and Y tied to it, to trace every column."""
    X = np.vstack([np.arange(m, dtype=float)] + [np.arange(m) * (k + 2.0) for k in range(n_x - 1)])
    Y = (np.arange(m) % 3).reshape(1, m).astype(float)
    return X, Y


def _ids(part):
    return part[0][0].astype(int)


# -- recommended_split ----------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [1, 10, 100, 1000, 10_000, 50_000])
def test_small_data_is_60_20_20(m):
    assert fastdl.recommended_split(m) == pytest.approx((0.6, 0.2, 0.2), abs=1e-15)


@pytest.mark.parametrize("m", [1_000_000, 5_000_000, 10**8, 1e6])
def test_big_data_is_98_1_1(m):
    assert fastdl.recommended_split(m) == pytest.approx((0.98, 0.01, 0.01), abs=1e-15)


def test_dev_and_test_shrink_as_data_grows():
    """Big data: dev and test fall far under the small-data 20% (the notes' rule)."""
    sizes = [100, 10**4, 10**5, 3 * 10**5, 10**6, 10**7]
    fractions = [fastdl.recommended_split(m) for m in sizes]
    for train, dev, test in fractions:
        assert train + dev + test == pytest.approx(1.0, abs=1e-15)
        assert dev == test
        assert 0.01 <= dev <= 0.2
    devs = [dev for _, dev, _ in fractions]
    assert devs == sorted(devs, reverse=True)
    assert fastdl.recommended_split(10**5)[1] < 0.2


@pytest.mark.parametrize("m", [-1, 2.5, "100", None, float("nan"), float("inf"), True])
def test_recommended_split_bad_m(m):
    with pytest.raises(ValueError, match="m must be a non-negative whole number of examples"):
        fastdl.recommended_split(m)


# -- train_dev_test_split -----------------------------------------------------------------------------
@pytest.mark.parametrize("m, sizes", [(100, (60, 20, 20)), (1000, (600, 200, 200)), (10, (6, 2, 2))])
def test_default_split_follows_recommended_split(m, sizes, seed):
    X, Y = _indexed(m)
    parts = fastdl.train_dev_test_split(X, Y, seed=seed)
    assert tuple(part[0].shape[1] for part in parts) == sizes
    assert tuple(part[1].shape[1] for part in parts) == sizes


def test_no_example_lost_or_duplicated(seed):
    m = 237
    X, Y = _indexed(m, n_x=3)
    parts = fastdl.train_dev_test_split(X, Y, seed=seed)
    ids = np.concatenate([_ids(part) for part in parts])
    assert sorted(ids.tolist()) == list(range(m))
    for Xp, Yp in parts:
        assert Xp.shape[0] == 3 and Yp.shape[0] == 1
        idx = Xp[0].astype(int)
        np.testing.assert_array_equal(Xp, X[:, idx])  # whole columns travel together
        np.testing.assert_array_equal(Yp, Y[:, idx])  # and with their labels


def test_same_seed_same_split_other_seed_other_split(seed):
    X, Y = _indexed(100)
    a = fastdl.train_dev_test_split(X, Y, seed=seed)
    b = fastdl.train_dev_test_split(X, Y, seed=seed)
    c = fastdl.train_dev_test_split(X, Y, seed=seed + 1)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa[0], pb[0])
        np.testing.assert_array_equal(pa[1], pb[1])
    assert not np.array_equal(_ids(a[0]), _ids(c[0]))


def test_shuffle_false_keeps_the_order():
    X, Y = _indexed(10)
    train, dev, test = fastdl.train_dev_test_split(X, Y, shuffle=False)
    np.testing.assert_array_equal(_ids(train), np.arange(6))
    np.testing.assert_array_equal(_ids(dev), [6, 7])
    np.testing.assert_array_equal(_ids(test), [8, 9])


def test_shuffling_mixes_dev_and_test_from_the_same_distribution(seed):
    X, Y = _indexed(1000)
    _, dev, test = fastdl.train_dev_test_split(X, Y, seed=seed)
    # Both are drawn from all of the data, not from its tail.
    for part in (dev, test):
        assert _ids(part).min() < 300 and _ids(part).max() > 700


def test_no_test_set(seed):
    X, Y = _indexed(100)
    train, dev, test = fastdl.train_dev_test_split(X, Y, test=0, seed=seed)
    assert (train[0].shape[1], dev[0].shape[1], test[0].shape[1]) == (80, 20, 0)
    assert test[0].shape == (2, 0) and test[1].shape == (1, 0)


def test_classic_70_30_without_dev(seed):
    X, Y = _indexed(100)
    train, dev, test = fastdl.train_dev_test_split(X, Y, dev=0, test=0.3, seed=seed)
    assert (train[0].shape[1], dev[0].shape[1], test[0].shape[1]) == (70, 0, 30)


def test_train_only(seed):
    X, Y = _indexed(20)
    train, dev, test = fastdl.train_dev_test_split(X, Y, dev=0, test=0, seed=seed)
    assert train[0].shape[1] == 20 and dev[0].shape[1] == 0 and test[0].shape[1] == 0
    assert sorted(_ids(train).tolist()) == list(range(20))


def test_split_feeds_a_network(seed):
    X, Y = datasets.make_linear(100, 2, seed=seed)
    (Xtr, Ytr), (Xd, Yd), _ = fastdl.train_dev_test_split(X, Y, seed=seed)
    net = fastdl.Network([2, 1], init="zeros", backend="numpy")
    net.fit(Xtr, Ytr, learning_rate=1.0, epochs=50)
    assert net.accuracy(Xd, Yd) > 0.8


@pytest.mark.parametrize("kwargs, message", [
    ({"dev": 1.0}, r"dev must be a fraction in \[0, 1\); got 1\.0"),
    ({"dev": -0.1}, r"dev must be a fraction in \[0, 1\); got -0\.1"),
    ({"test": 1.5}, r"test must be a fraction in \[0, 1\); got 1\.5"),
    ({"test": float("nan")}, r"test must be a fraction in \[0, 1\); got nan"),
    ({"dev": 0.5, "test": 0.5}, r"dev \+ test must leave examples to train on; got 0\.5 \+ 0\.5 >= 1"),
    ({"dev": 0.7, "test": 0.4}, r"dev \+ test must leave examples to train on"),
])
def test_bad_fractions(kwargs, message):
    X, Y = _indexed(10)
    with pytest.raises(ValueError, match=message):
        fastdl.train_dev_test_split(X, Y, **kwargs)


def test_too_few_examples_to_train_on():
    X, Y = _indexed(2)
    with pytest.raises(ValueError, match=r"m = 2 examples leave none to train on with dev=0\.4, test=0\.4"):
        fastdl.train_dev_test_split(X, Y, dev=0.4, test=0.4)


def test_mismatched_m():
    X, _ = _indexed(10)
    _, Y = _indexed(9)
    with pytest.raises(ValueError, match=r"X has m = 10 examples \(columns\) but Y has 9"):
        fastdl.train_dev_test_split(X, Y)


@pytest.mark.parametrize("which", ["X", "Y"])
def test_split_validates_arrays(which):
    X, Y = _indexed(10)
    arrays = {"X": X, "Y": Y}
    arrays[which] = arrays[which][0]  # 1-D
    with pytest.raises(ValueError, match=rf"{which} must be 2-D with one example per column"):
        fastdl.train_dev_test_split(arrays["X"], arrays["Y"])
    arrays = {"X": X.copy(), "Y": Y.copy()}
    arrays[which][0, 1] = np.nan
    with pytest.raises(ValueError, match=rf"{which} holds NaN or infinite values"):
        fastdl.train_dev_test_split(arrays["X"], arrays["Y"])


# -- diagnose -----------------------------------------------------------------------------------------------
NOTES_CASES = [
    pytest.param(0.01, 0.11, True, False, "high variance (overfitting)", id="1%-11%-high-variance"),
    pytest.param(0.15, 0.16, False, True, "high bias (underfitting)", id="15%-16%-high-bias"),
    pytest.param(0.15, 0.30, True, True, "high bias and high variance", id="15%-30%-both"),
    pytest.param(0.005, 0.01, False, False, "low bias and low variance", id="0.5%-1%-neither"),
]


@pytest.mark.parametrize("train, dev, variance, bias, summary", NOTES_CASES)
def test_the_notes_four_cases(train, dev, variance, bias, summary):
    d = fastdl.diagnose(train, dev)
    assert (d.high_variance, d.high_bias) == (variance, bias)
    assert d.summary == summary
    assert d.train_error == train and d.dev_error == dev and d.base_error == 0.0


@pytest.mark.parametrize("train, dev, variance, bias, summary", NOTES_CASES)
def test_advice_text(train, dev, variance, bias, summary):
    d = fastdl.diagnose(train, dev)
    text = str(d)
    assert f"train error {train:.1%}, dev error {dev:.1%}" in text
    assert summary in text
    assert ("test set" in " ".join(d.advice)) == (not (bias or variance))
    assert len(d.advice) == max(1, bias + variance)
    for step in d.advice:
        assert f"- {step}" in text


BIAS_REMEDIES = ["layer_dims", "fit(epochs=...)", "fit(optimizer='adam')", "fastdl.search"]
VARIANCE_REMEDIES = ["fit(l2=...)", "fit(keep_prob=...)", "fit(dev=(X_dev, Y_dev), patience=...)",
                     "more training data"]


@pytest.mark.parametrize("remedy", BIAS_REMEDIES + VARIANCE_REMEDIES)
@pytest.mark.parametrize("train, dev, variance, bias, summary", NOTES_CASES)
def test_advice_names_fastdls_remedies(train, dev, variance, bias, summary, remedy):
    """High bias points at capacity and training; high variance at regularisation and data."""
    advice = " ".join(fastdl.diagnose(train, dev).advice)
    expected = bias if remedy in BIAS_REMEDIES else variance
    assert (remedy in advice) == expected


def test_advice_quotes_the_bias_and_the_gap():
    bias, variance = fastdl.diagnose(0.15, 0.30).advice
    assert bias.startswith("high bias (avoidable bias 15.0%)")
    assert variance.startswith("high variance (dev - train 15.0%)")
    assert fastdl.diagnose(0.15, 0.16, base_error=0.05).advice[0].startswith(
        "high bias (avoidable bias 10.0%)")


def test_base_error_moves_the_bias_line():
    """Avoidable bias is train − base: 15% train error is fine if people also get 14% wrong."""
    assert fastdl.diagnose(0.15, 0.16).high_bias
    assert not fastdl.diagnose(0.15, 0.16, base_error=0.14).high_bias


def test_tolerance():
    assert fastdl.diagnose(0.01, 0.04).high_variance
    assert not fastdl.diagnose(0.01, 0.04, tolerance=0.05).high_variance


@pytest.mark.parametrize("kwargs, argument", [
    ({"train_error": 1.5, "dev_error": 0.1}, "train_error"),
    ({"train_error": 0.1, "dev_error": -0.1}, "dev_error"),
    ({"train_error": 0.1, "dev_error": 0.1, "base_error": 2}, "base_error"),
    ({"train_error": 0.1, "dev_error": 0.1, "tolerance": -1}, "tolerance"),
    ({"train_error": float("nan"), "dev_error": 0.1}, "train_error"),
])
def test_diagnose_bad_rates(kwargs, argument):
    with pytest.raises(ValueError, match=rf"{argument} must be an error rate in \[0, 1\]"):
        fastdl.diagnose(**kwargs)


def test_diagnose_network(seed):
    X, Y = datasets.make_planar(200, seed=seed)
    train, dev, _ = fastdl.train_dev_test_split(X, Y, test=0, seed=seed)
    net = fastdl.Network([2, 1], init="zeros", backend="numpy")  # logistic regression: underfits
    net.fit(*train, learning_rate=0.5, epochs=200)
    d = fastdl.diagnose_network(net, train, dev)
    assert d.train_error == pytest.approx(1 - net.accuracy(*train), abs=1e-15)
    assert d.dev_error == pytest.approx(1 - net.accuracy(*dev), abs=1e-15)
    assert d.high_bias  # a straight line cannot separate the flower
    assert fastdl.diagnose_network(net, train, dev, base_error=0.9, tolerance=0.9).summary == \
        "low bias and low variance"
