"""A full-batch gradients call split by examples over threads: each part of X runs in its
own compiled engine at once, and the parts' costs and gradients are summed, weighted.

The compiled call releases the GIL, so the parts overlap; each should run its BLAS on one
thread (the caller limits that), which shares the cores between the parts, not between
the threads of each small product. It pays where one evaluation is large but made of
products too small for BLAS's own threads (L-BFGS on digits, 1347 examples into
(64, 32, 10): 0.73 ms a gradient in two parts, 1.15-1.26 ms whole on two BLAS threads,
on the 2-core machine). Summed by parts, the result differs from the whole call's by
rounding only, and the same parts always give the same bits.

Each part normalises by its own examples (or weights), so the parts are weighted by
their share of the whole; the L2 term goes to the first part alone, at full strength:
(n_p / n) · (λ / 2n_p) ‖W‖² summed over the parts would count it once per part.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def part_bounds(m, parts):
    """Column bounds of ``parts`` nearly equal parts of m examples."""
    return [(m * p) // parts for p in range(parts + 1)]


class SplitGradients:
    """``engine.gradients`` on (X, Y) with per-example ``weights`` (a (1, m) array, or
    None) in ``parts`` threads. Not thread-safe; :meth:`close` stops its threads."""

    def __init__(self, engine, X, Y, weights, parts):
        m = X.shape[1]
        bounds = part_bounds(m, parts)
        self._engines = [engine] + [type(engine)(engine.spec) for _ in range(parts - 1)]
        self._pieces, norms = [], []
        for start, stop in zip(bounds[:-1], bounds[1:]):
            w = None if weights is None else weights[:, start:stop]
            self._pieces.append((X[:, start:stop], Y[:, start:stop], w))
            norms.append(float(stop - start) if w is None else float(np.sum(w, dtype=np.float64)))
        total = sum(norms)
        self.shares = [norm / total for norm in norms]
        self._buffers = None
        self._pool = ThreadPoolExecutor(parts - 1, thread_name_prefix="fastdl-gradients")

    @staticmethod
    def applies(X, weights, parts):
        """Whether (X, weights) can be split into ``parts``: a dense X with at least one
        example, and a positive weight, in every part."""
        if parts < 2 or not isinstance(X, np.ndarray) or X.shape[1] < parts:
            return False
        if weights is None:
            return True
        bounds = part_bounds(X.shape[1], parts)
        return all(np.sum(weights[:, a:b], dtype=np.float64) > 0
                   for a, b in zip(bounds[:-1], bounds[1:]))

    def _views(self, params):
        """Each part's (dW, db) views into a flat buffer of its own, made on the first call."""
        if self._buffers is None:
            size = sum(array.size for pair in params for array in pair)
            dtype = self._engines[0].spec.dtype
            self._buffers = [np.empty(size, dtype) for _ in self._engines]
            self._part_views = [pair_views(flat, params) for flat in self._buffers]
        return self._part_views

    def gradients(self, params, *, l2=0.0, out):
        """J, with the gradients written into ``out``: one flat array of every dW and db in
        the order of ``params`` (as :func:`pair_views` lays them out), any float dtype."""
        views = self._views(params)
        futures = [self._pool.submit(engine.gradients, params, X, Y, l2=0.0, weights=w, out=v)
                   for engine, (X, Y, w), v in zip(self._engines[1:], self._pieces[1:], views[1:])]
        X, Y, w = self._pieces[0]
        costs = [self._engines[0].gradients(params, X, Y, l2=l2, weights=w, out=views[0])[0]]
        costs += [future.result()[0] for future in futures]
        np.multiply(self._buffers[0], self.shares[0], out=out, casting="unsafe")
        for share, buffer in zip(self.shares[1:], self._buffers[1:]):
            out += share * buffer
        return float(sum(share * J for share, J in zip(self.shares, costs)))

    def close(self):
        self._pool.shutdown(wait=True)


def pair_views(flat, params):
    """(dW, db) views of one flat array, shaped as ``params`` and in their order."""
    views, start = [], 0
    for W, b in params:
        pair = []
        for array in (W, b):
            pair.append(flat[start:start + array.size].reshape(array.shape))
            start += array.size
        views.append(tuple(pair))
    return views
