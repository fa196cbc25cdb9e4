"""The first layer in dual form: the numpy reference, when ``fit`` uses it, and its batches.

Under gradient descent and momentum every change of W[1] is a combination of the training
examples, so during one ``fit`` on X (n_x, M): W[1] = s·W[1]₀ + U Xᵀ, U (n[1], M). With
P₀ = W[1]₀ X and G = Xᵀ X computed once and Q = U G kept up to date, a batch B costs

    Z[1] = s·P₀[:, B] + Q[:, B] + b[1]               (no product with X at all)
    U[:, B] −= (α/Σw) dZ[1],   Q −= (α/Σw) dZ[1] G[B, :]

so an epoch costs n[1]·M² for the first layer instead of 2·n[1]·n_x·M: for M < n_x (wide
inputs, few examples: the course's cat images) far less. L2 scales s, U and Q by
1 − αλ/Σw each step; momentum keeps its velocity in the same form, v = a·W[1]₀ + R Xᵀ (with
R G); ‖W[1]‖² = s²‖W[1]₀‖² + 2s⟨P₀, U⟩ + ⟨Q, U⟩. Adam's elementwise update leaves that span,
so Adam trains in the primal form. W[1] is materialised (one product) when the fit ends,
however it ends, and whenever the parameters are read meanwhile.

The compiled engine's twin of :class:`NumpyDualTable` is ``fastdl._kernels.DualTable``.
"""
import numpy as np

from ._optimizers import GradientDescent, Momentum
from ._validation import check_choice

FIRST_LAYER = ("auto", "dual", "primal")


def why_not_dual(optimizer):
    """Why the dual form cannot train with ``optimizer`` (None when it can)."""
    if type(optimizer) in (GradientDescent, Momentum):
        return None
    return (f"optimizer {optimizer.name!r} updates W[1] elementwise, which leaves the span of "
            f"the training examples; the dual form needs 'gd' or 'momentum'")


def dual_table_entries(n_x, n1, M):
    """The entries a dual table holds beyond the network: W[1]₀ (n[1]·n_x), G and the rows
    of a batch (M² each at most), P₀, U, its saved copy, the step's E and, under momentum,
    the velocity's Q, R, RG and a saved Q (eight n[1]·M arrays at most)."""
    return n1 * n_x + 2 * M * M + 8 * n1 * M


def prefer_dual(layer_dims, M, epochs, optimizer, dev, nnz=None):
    """The cost rule of ``first_layer="auto"``: dual when it is applicable, its table
    (:func:`dual_table_entries`) takes no more memory than X (for a sparse X, its stored
    entries), and its multiply-adds over the whole fit are fewer. With ``nnz`` the stored
    entries of a sparse X (None: dense, n_x·M), a product with X costs n[1]·nnz:

    * primal: 2·n[1]·nnz per epoch (W[1] X forward, dZ[1] Xᵀ backward);
    * dual: n[1]·M² per epoch, plus P₀ and the final W[1] (n[1]·nnz each), G (nnz·M/2 at
      most) and, with a dev set, W[1] materialised every epoch to score it (n[1]·nnz).

    The memory condition keeps a fit's peak near the primal one's where the first layer is
    wide too (``[1024, 1024, ...]`` on m = 1024: the table would be 9x the size of X).
    """
    if why_not_dual(optimizer) is not None:
        return False
    n_x, n1 = layer_dims[0], layer_dims[1]
    entries = n_x * M if nnz is None else nnz
    if M > n_x or dual_table_entries(n_x, n1, M) > entries:
        return False
    primal = epochs * 2.0 * n1 * entries
    per_epoch = n1 * M * M + (n1 * entries if dev else 0)
    dual = 2.0 * n1 * entries + entries * M / 2.0 + epochs * per_epoch
    return dual < primal


def resolve(first_layer, net, optimizer, M, epochs, dev, nnz=None):
    """True to train the first layer in dual form; a ValueError when 'dual' cannot apply."""
    check_choice("first_layer", first_layer, FIRST_LAYER)
    if first_layer == "primal":
        return False
    if first_layer == "dual":
        reason = why_not_dual(optimizer)
        if reason is not None:
            raise ValueError(f"first_layer='dual' cannot apply: {reason}")
        return True
    return prefer_dual(net._spec.layer_dims, M, epochs, optimizer, dev, nnz)


class Session:
    """A network's first layer while a fit trains it in dual form (its ``Network._form``):
    the table, the X it was built from, and whether W[1] has fallen behind it."""

    def __init__(self, table, X):
        self.table, self.X = table, X
        self.dirty = self.stale = False

    def materialize(self, W):
        if self.dirty:
            self.table.materialize(W, self.X)
            self.dirty = False

    def restore_backup(self):
        self.table.restore_backup()
        self.dirty = True

    def snapshot(self, into=None):
        return self.table.snapshot(into)

    def restore(self, snapshot):
        self.table.restore(snapshot)
        self.dirty = True


class NumpyDualTable:
    """The reference dual state: the formulas of the module docstring in numpy."""

    def __init__(self, W0, X, capacity, momentum):
        self.dtype, self.momentum, self.capacity = W0.dtype, momentum, capacity
        self.n1, self.M = W0.shape[0], X.shape[1]
        self.W0 = np.array(W0, order="C", copy=True)
        self.P0 = self.W0 @ X
        self.G = X.T @ X
        if not isinstance(self.G, np.ndarray):  # X is scipy.sparse: its Gram matrix is dense
            self.G = self.G.toarray()
        self.w0sq = float(np.sum(np.square(self.W0), dtype=np.float64))
        shape = (self.n1, self.M)
        self.U, self.Q = np.zeros(shape, self.dtype), np.zeros(shape, self.dtype)
        self.R, self.RG = np.zeros(shape, self.dtype), np.zeros(shape, self.dtype)
        self.scalars, self.saved = np.array([1.0, 0.0]), np.array([1.0])
        self.U_save, self.Q_save = np.empty(shape, self.dtype), np.empty(shape, self.dtype)

    def linear(self, idx):
        """W[1] A[0] of the batch: s·P₀[:, B] + Q[:, B]."""
        return self.dtype.type(self.scalars[0]) * self.P0[:, idx] + self.Q[:, idx]

    def sumsq(self):
        s = self.scalars[0]
        dot = lambda a, b: float(np.sum(a * b, dtype=np.float64))  # noqa: E731
        return s * s * self.w0sq + 2 * s * dot(self.P0, self.U) + dot(self.Q, self.U)

    def backup(self):
        self.saved[0] = self.scalars[0]
        np.copyto(self.U_save, self.U)
        np.copyto(self.Q_save, self.Q)

    def update(self, idx, dZ, norm, lr, l2, optimizer):
        """s, U, Q (and momentum's a, R, RG) after the step whose first layer had ``dZ``."""
        t, lam = self.dtype.type, l2 / norm
        rows = self.G[idx, :]
        if type(optimizer) is GradientDescent:
            decay = 1 - lr * lam
            self.Q *= t(decay)
            self.Q -= t(lr / norm) * (dZ @ rows)
            if lam:
                self.U *= t(decay)
                self.scalars[0] *= decay
            self.U[:, idx] -= t(lr / norm) * dZ
            return
        beta, nesterov = optimizer.beta, optimizer.nesterov
        D = t(lam) * self.U
        D[:, idx] += dZ * t(1 / norm)
        DG = t(lam) * self.Q + (dZ @ rows) * t(1 / norm)
        for state, grad, theta in ((self.R, D, self.U), (self.RG, DG, self.Q)):
            state *= t(beta)
            state += t(1 - beta) * grad
            step = t(beta) * state + t(1 - beta) * grad if nesterov else state
            theta -= t(lr) * step
        a_d = lam * self.scalars[0]
        self.scalars[1] = beta * self.scalars[1] + (1 - beta) * a_d
        self.scalars[0] -= lr * (beta * self.scalars[1] + (1 - beta) * a_d if nesterov
                                 else self.scalars[1])

    def materialize(self, W_out, X):
        """W[1] = s·W₀ + U Xᵀ into ``W_out``."""
        if not isinstance(X, np.ndarray):
            X = X.matrix()
        np.copyto(W_out, self.dtype.type(self.scalars[0]) * self.W0 + self.U @ X.T)

    def restore_backup(self):
        self.scalars[0] = self.saved[0]
        np.copyto(self.U, self.U_save)
        np.copyto(self.Q, self.Q_save)

    def snapshot(self, into=None):
        if into is None:
            return [float(self.scalars[0]), self.U.copy(), self.Q.copy()]
        into[0] = float(self.scalars[0])
        np.copyto(into[1], self.U)
        np.copyto(into[2], self.Q)
        return into

    def restore(self, snapshot):
        self.scalars[0] = snapshot[0]
        np.copyto(self.U, snapshot[1])
        np.copyto(self.Q, snapshot[2])
