"""The compiled engine: the interface of :class:`~fastdl._numpy_backend.NumpyEngine`,
with each call (a whole training iteration, or a prediction) one call into native code.

The engine owns one :class:`fastdl._kernels.Workspace`: every buffer a forward and a
backward pass need, sized for the largest batch seen so far and reused for any batch
up to that size (mini-batches, a last smaller batch, a dev set). All matrix products
go through scipy's BLAS, none through numpy's, so the two OpenBLAS copies never
interleave. Every update rule runs inside the compiled iteration: gradient descent
fused into the dW GEMM, momentum and Adam as one pass over W, dW and their state.
"""
import numpy as np

from ._optimizers import Adam, GradientDescent, Momentum, accepted, guarded_apply

try:
    from . import _kernels
except ImportError as error:  # pragma: no cover - depends on the build
    raise ImportError(
        f"fastdl's compiled kernels are not built ({error}); reinstall with "
        f"`pip install .` (or `python setup.py build_ext --inplace` in a source tree), "
        f"or use backend='numpy'"
    ) from error

_CODES = _kernels.ACTIVATION_CODES
_OPTIMIZERS = _kernels.OPTIMIZER_CODES
_STEP, _GD, _MOMENTUM, _ADAM = (_kernels.STEP, _OPTIMIZERS["gd"], _OPTIMIZERS["momentum"],
                                _OPTIMIZERS["adam"])
_MAX_BATCH = 2**31 - 1  # scipy's cython_blas takes C ints for sizes and leading dimensions


class CythonEngine:
    """One engine per network: forward, cost, gradients and a training step, compiled.

    Not thread-safe: an engine's buffers serve one call at a time (give each thread its
    own network). Nothing it returns aliases its buffers: a later call rewrites those.
    A custom activation whose Python function raises stops the call with that very
    exception, raised again from Python at the z where the compiled call saw it fail;
    nothing is updated then.
    """

    name = "cython"
    draws_dropout = True  # step(dropout=keep, rng=generator) draws the masks in the call
    transposes_sparse = True  # step(transposed=True) takes W[1]ᵀ for a sparse X
    # Examples per block of the backward pass; tests set a small one to cover blocking.
    backward_block = _kernels.BACKWARD_BLOCK

    def __init__(self, spec):
        self.spec = spec
        codes, functions = [], []
        for activation in spec.activations:
            if isinstance(activation, str):
                codes.append(_CODES[activation])
                functions.append((0, 0))
            else:  # a fastdl.jit.CustomActivation: g and g'(z) as C function pointers
                codes.append(_CODES["custom"])
                functions.append(activation.addresses(spec.dtype))
        self._codes, self._functions = codes, functions
        self._workspace = None

    def _workspace_for(self, m):
        """The workspace, grown (never shrunk) to hold a batch of ``m`` examples."""
        ws = self._workspace
        if ws is None or ws.capacity < m:
            if m > _MAX_BATCH:
                raise ValueError(f"a batch of m = {m} examples is more than the compiled engine "
                                 f"takes in one call ({_MAX_BATCH}, BLAS's 32-bit sizes); "
                                 f"use fit(..., batch_size=...) or backend='numpy'")
            spec = self.spec
            ws = self._workspace = _kernels.Workspace(
                spec.layer_dims, self._codes, spec.leaky_slope, spec.dtype, m, self._functions,
                self.backward_block)
        return ws

    def _run(self, m, *args, **kwargs):
        """One compiled call on the workspace for a batch of ``m``."""
        try:
            return self._workspace_for(m).run(*args, **kwargs)
        except _kernels.ActivationFault as fault:
            layer, which, z = fault.args
        self._raise_user_error(layer, which, z)

    def _raise_user_error(self, layer, which, z):
        """Call the failing custom function at the same z, from Python, so that the user
        sees their own exception (the one the numpy engine raises)."""
        activation = self.spec.activations[layer]
        role = "function" if which == _kernels.FAULT_G else "derivative"
        ufunc = activation if which == _kernels.FAULT_G else activation.prime
        ufunc(np.array([z], dtype=self.spec.dtype))
        raise RuntimeError(f"custom activation {activation.name!r} (layer {layer + 1}): its "
                           f"{role} raised at z = {z!r} inside the compiled engine, but not "
                           f"when called again from Python")

    def forward(self, params, X):
        """A[L] for X, shape ``(n[L], m)``, a new array."""
        m = X.shape[1]
        out = np.empty((self.spec.layer_dims[-1], m), dtype=self.spec.dtype)
        self._run(m, params, X, None, _kernels.FORWARD, out=out)
        return out

    def cost(self, params, X, Y, *, l2=0.0, masks=None, weights=None):
        """J (plus the L2 term when ``l2`` > 0)."""
        return self._run(X.shape[1], params, X, Y, _kernels.COST, l2=l2, masks=masks,
                         weights=weights)

    def gradients(self, params, X, Y, *, l2=0.0, masks=None, weights=None, out=None):
        """``(J, [(dW1, db1), ...])`` in new arrays (the workspace's are rewritten by the
        next call, so handing them out would let a later call change a caller's result),
        or copied into ``out`` (pairs of arrays of those shapes, any float dtype)."""
        J = self._run(X.shape[1], params, X, Y, _kernels.GRADIENTS, l2=l2, masks=masks,
                      weights=weights)
        if out is None:
            return J, [(dW.copy(), db.copy()) for dW, db in self._workspace.grads]
        for (dW, db), (dW_out, db_out) in zip(self._workspace.grads, out):
            np.copyto(dW_out, dW)
            np.copyto(db_out, db)
        return J, out

    def dual_start(self, params, X, capacity, momentum):
        """The dual state of a fit on ``X`` (see fastdl._dual): P₀ and G by BLAS."""
        if not isinstance(X, np.ndarray):  # sparse: P₀ and G by scipy.sparse, once per fit
            A = X.matrix()
            products = (params[0][0] @ A, (A.T @ A).toarray())
            return _kernels.DualTable(params[0][0], X, capacity, momentum, products)
        return _kernels.DualTable(params[0][0], X, capacity, momentum)

    def step(self, params, X, Y, optimizer, backup=None, l2=0.0, masks=None, limit=np.inf,
             weights=None, dropout=None, rng=None, dual=None, transposed=False):
        """One training iteration; returns J before the update.

        When J is not finite or exceeds ``limit`` nothing is updated (and ``backup``,
        which holds the parameters of the last iteration that passed, is left alone).
        ``dropout`` (keep probabilities per hidden layer) with ``rng`` draws the masks in
        the compiled call, the very numbers ``rng.random`` would give (see
        :meth:`drawn_masks`); ``masks`` passes masks drawn by the caller instead.
        With ``dual``, X is the batch's example indices and the first layer trains in dual
        form. Arguments go to the compiled call by position: this runs once per batch.
        """
        m, kind = X.shape[1] if dual is None else X.shape[0], type(optimizer)
        if kind is GradientDescent:
            return self._run(m, params, X, Y, _STEP, optimizer.learning_rate, l2, masks, limit,
                             backup, None, _GD, None, 0.0, 0.0, 0.0, 1.0, 1.0, False, weights,
                             dropout, rng, dual, transposed)
        if kind is Momentum:
            return self._run(m, params, X, Y, _STEP, optimizer.learning_rate, l2, masks, limit,
                             backup, None, _MOMENTUM, optimizer.velocities, optimizer.beta, 0.0,
                             0.0, 1.0, 1.0, optimizer.nesterov, weights, dropout, rng, dual, transposed)
        if kind is Adam:
            rate, c1, c2 = optimizer.step_arguments(optimizer.t + 1)
            J = self._run(m, params, X, Y, _STEP, rate, l2, masks, limit, backup, None, _ADAM,
                          self._adam_state(optimizer), optimizer.beta1, optimizer.beta2,
                          optimizer.epsilon, c1, c2, False, weights, dropout, rng, dual, transposed)
            if accepted(J, limit):  # the kernel updated: count the step
                optimizer.t += 1
            return J
        # Any other rule: compiled gradients (masks drawn the same way), then its update.
        J = self._run(m, params, X, Y, _kernels.GRADIENTS, 0.0, l2, masks, np.inf, None, None,
                      _GD, None, 0.0, 0.0, 0.0, 1.0, 1.0, False, weights, dropout, rng)
        return guarded_apply(optimizer, params, self._workspace.grads, J, limit, backup)

    def restore_rows(self, WT):
        """Put back the rows of W[1]ᵀ the last accepted sparse gd step changed (True), or
        False when that step's backup is the caller's whole copy."""
        return self._workspace is not None and self._workspace.restore_rows(WT)

    def drawn_masks(self, m):
        """The dropout masks the last call drew, for its batch of ``m`` (copies)."""
        return self._workspace.drawn_masks(m)

    @staticmethod
    def _adam_state(optimizer):
        """Adam's moments as the kernel reads them, one (vW, vb, sW, sb) per layer."""
        return [(vW, vb, sW, sb) for (vW, sW), (vb, sb) in optimizer.moments]
