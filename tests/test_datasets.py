"""``fastdl.datasets``: shapes, labels, reproducibility, and that each set is what it claims."""
import numpy as np
import pytest

import fastdl
from fastdl import datasets

MAKERS = {
    "planar": lambda m, seed: datasets.make_planar(m, seed=seed),
    "linear": lambda m, seed: datasets.make_linear(m, 3, seed=seed),
    "regression": lambda m, seed: datasets.make_regression(m, 4, seed=seed),
}
N_X = {"planar": 2, "linear": 3, "regression": 4}


@pytest.mark.parametrize("m", [1, 2, 51, 400])
@pytest.mark.parametrize("name", list(MAKERS))
def test_shapes_one_example_per_column(name, m, seed):
    X, Y = MAKERS[name](m, seed)
    assert X.shape == (N_X[name], m)
    assert Y.shape == (1, m)
    assert X.dtype == Y.dtype == np.float64
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(Y))


@pytest.mark.parametrize("name", list(MAKERS))
def test_same_seed_same_data_other_seed_other_data(name, seed):
    X1, Y1 = MAKERS[name](50, seed)
    X2, Y2 = MAKERS[name](50, seed)
    X3, _ = MAKERS[name](50, seed + 1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", ["planar", "linear"])
def test_classification_labels_are_zero_and_one(name, seed):
    _, Y = MAKERS[name](200, seed)
    assert set(np.unique(Y).tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("m", [400, 401])
def test_planar_classes_are_balanced(m):
    _, Y = datasets.make_planar(m)
    assert abs(int(Y.sum()) - (m - int(Y.sum()))) <= 1


def test_planar_defaults():
    X, Y = datasets.make_planar()
    assert X.shape == (2, 400)
    np.testing.assert_array_equal(X, datasets.make_planar(400, seed=1)[0])


def test_planar_petals_reach_out(seed):
    """The points spread over petals of radius up to ``petals``, around the origin."""
    X, _ = datasets.make_planar(400, petals=4, seed=seed)
    r = np.hypot(X[0], X[1])
    assert 3 < r.max() < 6
    assert abs(X[0].mean()) < 0.5 and abs(X[1].mean()) < 0.5


def test_linear_data_is_separable(seed):
    """Logistic regression classifies every training example: the classes have a gap."""
    X, Y = datasets.make_linear(200, 3, seed=seed)
    net = fastdl.Network([3, 1], init="zeros", backend="numpy")
    net.fit(X, Y, learning_rate=2.0, epochs=400)
    assert net.accuracy(X, Y) == 1.0


def test_regression_target_is_smooth_not_noise(seed):
    X, Y = datasets.make_regression(300, 3, noise=0.0, seed=seed)
    X2, Y2 = datasets.make_regression(300, 3, noise=0.5, seed=seed)
    np.testing.assert_array_equal(X, X2)
    residual = Y2 - Y
    assert 0.4 < residual.std() < 0.6  # exactly the added noise
    assert np.all(np.abs(X) <= 2)


@pytest.mark.parametrize("maker, kwargs, argument", [
    (datasets.make_planar, {"m": 0}, "m"),
    (datasets.make_planar, {"m": 2.5}, "m"),
    (datasets.make_planar, {"petals": 0}, "petals"),
    (datasets.make_linear, {"m": -1}, "m"),
    (datasets.make_linear, {"n_x": 0}, "n_x"),
    (datasets.make_regression, {"m": "10"}, "m"),
    (datasets.make_regression, {"n_x": 1.5}, "n_x"),
])
def test_bad_sizes(maker, kwargs, argument):
    with pytest.raises(ValueError, match=rf"{argument} must be a positive integer"):
        maker(**kwargs)
