"""Plots: the cost curve and decision boundaries (matplotlib, the plot extra)."""
import sys

import numpy as np
import pytest

import fastdl
from fastdl import plot


@pytest.fixture(scope="module")
def trained():
    X, Y = fastdl.datasets.make_planar(m=120)
    net = fastdl.Network([2, 4, 1], hidden="tanh", seed=1)
    history = net.fit(X[:, :80], Y[:, :80], learning_rate=1.0, epochs=30, dev=(X[:, 80:], Y[:, 80:]))
    return net, history, X, Y


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_plot_draws_train_and_dev_and_saves(trained, tmp_path):
    _, history, _, _ = trained
    path = tmp_path / "cost.png"
    ax = history.plot(path=path)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["train cost", "dev cost"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), history.costs)
    assert _is_png(path)


def test_decision_boundary_saves(trained, tmp_path):
    net, _, X, Y = trained
    path = tmp_path / "boundary.png"
    plot.decision_boundary(net, X, Y, path=path, resolution=50)
    assert _is_png(path)


def test_decision_boundary_needs_two_inputs():
    net = fastdl.Network([3, 1])
    with pytest.raises(ValueError, match=r"needs 2-D inputs: X of shape \(2, m\)"):
        plot.decision_boundary(net, np.zeros((3, 4)), np.zeros((1, 4)))


def test_without_matplotlib_the_error_says_how_to_install(trained, monkeypatch):
    _, history, _, _ = trained
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'fastdl\[plot\]'"):
        history.plot()
