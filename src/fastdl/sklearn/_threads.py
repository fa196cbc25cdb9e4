"""Threads for an L-BFGS fit, whose every evaluation is one full-batch gradient: BLAS on
one thread, and a large evaluation split by examples over as many parts as BLAS had
threads (fastdl._split_gradients), each part at least PART_MULTIPLY_ADDS.

Below two parts' worth an evaluation's products are so small that handing half of each
to a second thread costs more than it saves; from there on, splitting the examples
shares the cores better than BLAS's threads do. Measured on the 2-core machine (AMD EPYC,
scipy's OpenBLAS 0.3.30, hidden (64, 32), 200 iterations, medians of 5 fits):
breast_cancer (426 × 30, 4 M multiply-adds an evaluation) took 58 ms on one thread against
78-89 ms on two, diabetes (331 × 10, 2 M) 67 against 74-82 ms; on digits (1347 × 64, 21 M)
an evaluation took 0.73 ms in two parts, 1.26 ms whole on one BLAS thread and 1.15 ms on
two. The limit is process-wide (threadpoolctl, which scikit-learn requires) and lasts for
the fit only; where BLAS has one thread already (joblib's workers), or the fit runs
outside the main thread (see may_limit), nothing changes.
"""
import contextlib
import functools
import threading

PART_MULTIPLY_ADDS = 5_000_000  # the least work of one part of an evaluation


def evaluation_multiply_adds(layer_dims, m):
    """One forward and backward pass on m examples: W·A and dZ·Aᵀ for every layer, Wᵀ·dZ
    for all but the first."""
    products = [n * n_prev * m for n_prev, n in zip(layer_dims[:-1], layer_dims[1:])]
    return 3 * sum(products) - products[0]


def parts_for(layer_dims, m, threads):
    """Into how many parts to split an evaluation: 1 (whole) below two parts' worth."""
    return max(1, min(threads, m, evaluation_multiply_adds(layer_dims, m) // PART_MULTIPLY_ADDS))


@functools.lru_cache(maxsize=None)
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # built once: scanning the loaded libraries takes ~1 ms


def blas_threads():
    """The fewest threads any loaded BLAS will use now."""
    counts = [info["num_threads"] for info in _controller().info() if info["user_api"] == "blas"]
    return min(counts, default=1)


def may_limit():
    """Whether this thread can set the BLAS thread count: only the main thread can
    (scipy's OpenBLAS 0.3.30 ignores openblas_set_num_threads from any other), so fits in
    other threads leave BLAS as it is, and are not split either."""
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def one_blas_thread():
    limiter = _controller().limit(limits=1, user_api="blas")
    try:
        yield
    finally:
        limiter.restore_original_limits()
