"""BLAS threads for an L-BFGS fit: one, where an evaluation is too small to share.

Each L-BFGS evaluation is one full-batch engine call; below about ten million
multiply-adds its products are so small that handing half of each to a second thread
costs more than it saves. Measured on the 2-core machine (AMD EPYC, scipy's OpenBLAS
0.3.30, hidden (64, 32), 200 iterations, medians of 5 fits): breast_cancer (426 × 30, 5 M
multiply-adds an evaluation) took 58 ms on one thread against 78-89 ms on two, diabetes
(331 × 10, 3 M) 67 against 74-82 ms; digits (1347 × 64, 21 M) 246 against 250 ms, while
its engine call alone took 1.03 ms on one thread and 0.75-0.91 ms on two: from there on
both cores pay. The limit is process-wide (threadpoolctl, which scikit-learn requires)
and lasts for the fit only.
"""
import contextlib
import functools

ONE_THREAD_BELOW = 10_000_000  # multiply-adds of one evaluation


def evaluation_multiply_adds(layer_dims, m):
    """One forward and backward pass on m examples: W·A and dZ·Aᵀ for every layer, Wᵀ·dZ
    for all but the first."""
    products = [n * n_prev * m for n_prev, n in zip(layer_dims[:-1], layer_dims[1:])]
    return 3 * sum(products) - products[0]


@functools.lru_cache(maxsize=None)
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # built once: scanning the loaded libraries takes ~1 ms


@contextlib.contextmanager
def blas_threads_for(layer_dims, m):
    """One BLAS thread for the duration, where an evaluation is below ONE_THREAD_BELOW."""
    if evaluation_multiply_adds(layer_dims, m) >= ONE_THREAD_BELOW:
        yield
        return
    limiter = _controller().limit(limits=1, user_api="blas")
    try:
        yield
    finally:
        limiter.restore_original_limits()
