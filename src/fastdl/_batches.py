"""Batches of a fit and dropout's masks: what each engine call of an epoch is given.

:class:`Batches` copies X's columns in each epoch's order into buffers allocated once (so
every batch reaches BLAS contiguous); :class:`IndexBatches` names the examples by index
instead (a sparse X's columns, or a dual fit's bare indices), copying nothing but Y.
"""
import math

import numpy as np


class Batches:
    """Mini-batch views of (X, Y) and per-example weights, in a new order each epoch.

    ``order`` is None (the given order, every epoch) or a callable that returns each
    epoch's permutation of the m examples. The reordered copies go into buffers allocated
    once and stored one example per contiguous run (F order), so every batch
    X[:, k:k + size] is itself contiguous and reaches BLAS without a copy. Iterating gives
    ``(X_batch, Y_batch, w_batch)`` triples, w_batch None without weights.
    """

    def __init__(self, X, Y, batch_size, order=None, weights=None):
        self.X, self.Y, self.weights, self.order = X, Y, weights, order
        self.m = X.shape[1]
        self.size = self.m if batch_size is None else min(batch_size, self.m)
        if order is not None:  # each epoch's permutation is written into these
            X = self.X_ordered = np.empty(X.shape, dtype=X.dtype, order="F")
            Y = self.Y_ordered = np.empty(Y.shape, dtype=Y.dtype, order="F")
            if weights is not None:
                weights = self.w_ordered = np.empty(weights.shape, dtype=weights.dtype)
        starts = range(0, self.m, self.size)
        self.views = [(X[:, k:k + self.size], Y[:, k:k + self.size],
                       None if weights is None else weights[:, k:k + self.size]) for k in starts]

    @classmethod
    def shuffled(cls, X, Y, batch_size, shuffle, rng, weights=None):
        """Batches reshuffled each epoch from ``rng`` (one full batch needs no shuffle); a
        sparse X's batches are sets of its columns (:class:`IndexBatches`)."""
        size = X.shape[1] if batch_size is None else min(batch_size, X.shape[1])
        m = X.shape[1]
        order = (lambda: rng.permutation(m)) if shuffle and size < m else None
        if not isinstance(X, np.ndarray):
            return IndexBatches(Y, size, order, weights, X)
        return cls(X, Y, batch_size, order, weights)

    def __iter__(self):
        if self.order is not None:
            order = self.order()
            _take_columns(self.X, order, self.X_ordered)
            _take_columns(self.Y, order, self.Y_ordered)
            if self.weights is not None:
                np.take(self.weights, order, axis=1, out=self.w_ordered, mode="clip")
        return iter(self.views)


class IndexBatches:
    """Batches that name their examples by index instead of copying X's columns: a sparse
    X's batches (``X.take(index)``), or with ``X=None`` the bare indices (a dual fit's).
    Y and the weights are reordered as :class:`Batches` does; the indices are views of
    this epoch's order, rewritten in place."""

    def __init__(self, Y, batch_size, order=None, weights=None, X=None):
        M = Y.shape[1]
        index = np.arange(M, dtype=np.intp)[None, :]
        self._batches = Batches(index, Y, batch_size, order, weights)
        self.size, self.order = self._batches.size, order
        self.views = [(view[0] if X is None else X.take(view[0]), Y_b, w_b)
                      for view, Y_b, w_b in self._batches.views]

    def __iter__(self):
        iter(self._batches)  # writes this epoch's order into the buffers the views read
        return iter(self.views)


def _take_columns(source, order, out):
    """out[:, j] = source[:, order[j]] for an F-ordered ``out``. When ``source`` is F-ordered
    too (rows of examples seen transposed), whole examples are copied: np.take along the
    rows of the transposes, one contiguous run each (along axis 1 it would first copy the
    whole array to C order)."""
    if source.flags.f_contiguous:
        np.take(source.T, order, axis=0, out=out.T, mode="clip")
    else:
        np.take(source, order, axis=1, out=out, mode="clip")


UNIT_BITS = 21  # three units a 64-bit draw (as fastdl._kernels._draw_mask)


class DropoutMasks:
    """Inverted-dropout masks D[l]/keep_prob per hidden layer, drawn from the network's
    generator into buffers allocated once per batch size.

    Each 64-bit draw of the bit generator gives three units (its bits 0-20, 21-41, then
    42-62, u): a unit is kept when u < ⌈keep_prob·2²¹⌉, so with probability keep_prob (to
    2⁻²¹), and is then worth 1/keep_prob. The compiled engine draws the very same masks
    inside its call (fastdl._kernels._draw_mask), so both backends train on the same bits.
    """

    def __init__(self, layer_dims, keep_prob, dtype, rng):
        self.keep_prob, self.dtype, self.rng = keep_prob, dtype, rng
        self.units = layer_dims[1:-1]
        self.buffers = {}
        self.active = any(p < 1 for p in keep_prob)

    def draw(self, m):
        if not self.active:
            return None
        if m not in self.buffers:
            self.buffers[m] = [np.empty((n, m), dtype=self.dtype) if p < 1 else None
                               for n, p in zip(self.units, self.keep_prob)]
        masks = self.buffers[m]
        for mask, p in zip(masks, self.keep_prob):
            if mask is not None:
                draws = self.rng.bit_generator.random_raw((mask.size + 2) // 3)
                units = np.empty((draws.size, 3), dtype=np.uint64)
                for part in range(3):
                    np.right_shift(draws, np.uint64(UNIT_BITS * part), out=units[:, part])
                units &= np.uint64(2**UNIT_BITS - 1)
                threshold = np.uint64(math.ceil(p * 2.0**UNIT_BITS))
                np.less(units.ravel()[:mask.size].reshape(mask.shape), threshold, out=mask,
                        casting="unsafe")
                mask *= self.dtype.type(1 / p)  # D[l] (1 keeps, 0 drops) over keep_prob
        return masks
