"""Plots for the notes' workflow (matplotlib, the optional ``plot`` extra)."""
import numpy as np

INSTALL_HINT = "plotting needs matplotlib: pip install 'fastdl[plot]' (or pip install matplotlib)"


def _pyplot():
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg",) and not _has_display():
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({error})") from None
    return plt


def _has_display():
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.name == "nt")


def _axes(ax):
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def _finish(ax, path):
    if path is not None:
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    return ax


def cost_curve(history, ax=None, path=None, log=False):
    """Train and dev cost against epochs, as in the notes' learning curves."""
    ax = _axes(ax)
    epochs = np.arange(1, len(history.costs) + 1)
    ax.plot(epochs, history.costs, label="train cost")
    if history.dev_costs:
        ax.plot(epochs[:len(history.dev_costs)], history.dev_costs, label="dev cost")
    if history.best_epoch is not None:
        ax.axvline(history.best_epoch + 1, color="grey", linestyle=":", label="best dev")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost J")
    if log:
        ax.set_yscale("log")
    ax.set_title(f"stopped: {history.stop_reason}")
    ax.legend()
    return _finish(ax, path)


def decision_boundary(net, X, Y, ax=None, path=None, *, resolution=300, margin=0.5):
    """The regions a 2-input classifier assigns to each class, with the data on top.

    ``X`` is ``(2, m)``; ``Y`` holds 0/1 labels ``(1, m)`` (sigmoid output) or class
    labels / one-hot columns (softmax output).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != 2 or net.layer_dims[0] != 2:
        raise ValueError(f"decision_boundary needs 2-D inputs: X of shape (2, m) and a network "
                         f"with n_x = 2; got X {X.shape} and n_x = {net.layer_dims[0]}")
    Y = np.asarray(Y)
    labels = Y.argmax(axis=0) if Y.ndim == 2 and Y.shape[0] > 1 else Y.reshape(-1)
    if labels.size != X.shape[1]:
        raise ValueError(f"Y has {labels.size} labels but X has m = {X.shape[1]} examples")
    ax = _axes(ax)
    (x0, x1), (y0, y1) = ((row.min() - margin, row.max() + margin) for row in X)
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.vstack([xx.ravel(), yy.ravel()])
    regions = np.asarray(net.predict(grid)).reshape(xx.shape)
    ax.contourf(xx, yy, regions, alpha=0.35, cmap="Spectral")
    ax.scatter(X[0], X[1], c=labels, s=12, cmap="Spectral", edgecolors="k", linewidths=0.3)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return _finish(ax, path)
