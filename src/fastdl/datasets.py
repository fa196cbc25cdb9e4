"""Small generated data sets, one example per column, for demos, tests and benchmarks."""
import numpy as np

from ._validation import check_positive


def make_planar(m=400, *, petals=4, noise=0.2, seed=1):
    """The "flower": two classes of 2-D points on interleaved petals.

    Logistic regression cannot separate them (about 50% accuracy); one hidden tanh
    layer of a few units can (about 90%), which makes it the classic first test of a
    shallow network.

    Returns
    -------
    X : ndarray of shape (2, m)
    Y : ndarray of shape (1, m), labels 0 and 1
    """
    m = check_positive("m", m, integer=True)
    petals = check_positive("petals", petals, integer=True)
    rng = np.random.default_rng(seed)
    half = m // 2
    X = np.zeros((2, m))
    Y = np.zeros((1, m))
    for label, (first, count) in enumerate([(0, half), (half, m - half)]):
        t = np.linspace(label * np.pi, (label + 1) * np.pi, count) + rng.standard_normal(count) * noise
        r = petals * np.sin(petals * t) + rng.standard_normal(count) * noise
        X[0, first:first + count] = r * np.sin(t)
        X[1, first:first + count] = r * np.cos(t)
        Y[0, first:first + count] = label
    return X, Y


def make_linear(m=200, n_x=2, *, margin=0.5, seed=0):
    """Two linearly separable classes: labels from a random hyperplane, with a gap of ``margin``.

    Returns
    -------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m), labels 0 and 1
    """
    m = check_positive("m", m, integer=True)
    n_x = check_positive("n_x", n_x, integer=True)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n_x, 1))
    w /= np.linalg.norm(w)
    X = rng.standard_normal((n_x, m))
    side = np.where((w.T @ X) >= 0, 1.0, -1.0)
    X += side * margin * w  # push each point away from the hyperplane
    return X, (side > 0).astype(np.float64)


def make_regression(m=200, n_x=3, *, noise=0.1, seed=0):
    """A smooth nonlinear target y = sin(w₁ᵀx) + 0.5 (w₂ᵀx)² plus noise, for linear outputs.

    Returns
    -------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    """
    m = check_positive("m", m, integer=True)
    n_x = check_positive("n_x", n_x, integer=True)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n_x, m))
    w1, w2 = rng.standard_normal((2, n_x)) / np.sqrt(n_x)
    Y = np.sin(w1 @ X) + 0.5 * (w2 @ X) ** 2 + noise * rng.standard_normal(m)
    return X, Y.reshape(1, m)
