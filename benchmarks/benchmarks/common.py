"""Shared pieces of the benchmarks: the networks, cached fixed-seed data, backend checks.

Data follow fastdl's layout, one example per column: X is ``(n_x, m)``, Y is ``(1, m)``
with labels 0 and 1 from a random hyperplane, so training has something to learn, and
10% of them flipped, so the data are not separable: the best weights stay finite, and
however many iterations a benchmark runs, no sigmoid saturates to exactly 0 or 1 (the
notes' unguarded log(AL) would then turn the costs to NaN in float32). Arrays are cached
(built once per process, not once per benchmark) and read-only, so no benchmark can
change another's input.
"""
import functools
import timeit
import typing

import numpy as np

import fastdl
from fastdl._backends import available_backends

# Wall-clock time: the kernels run BLAS on several threads, so process CPU time would
# count every core's work and overstate what a user waits for.
TIMER = timeit.default_timer

BACKENDS = ["numpy", "cython"]
DTYPES = ["float64", "float32"]

# The networks of the speed targets (issue 3): name -> (layer_dims, m).
NETWORKS = {
    "course": ([12288, 20, 7, 5, 1], 209),      # the notes' cat classifier, 64x64x3 images
    "planar": ([2, 4, 1], 400),                 # the notes' shallow network on 2-D points
    "logistic": ([30, 1], 569),                 # logistic regression, breast-cancer sized
    "mnist": ([784, 256, 128, 1], 4096),        # MNIST-sized images, a larger batch
    "wide": ([1024, 1024, 1024, 1], 1024),      # GEMM-bound
}
# The asv suite's subset, one per regime: overhead-bound (planar), the notes' network
# (course) and BLAS-bound (mnist). compare.py runs them all; asv runs these on every
# commit it is asked about, where the full set would take too long on 2 cores.
ASV_NETWORKS = ["planar", "course", "mnist"]

SEED = 1234
LEARNING_RATE = 0.01


@functools.lru_cache(maxsize=None)
def make_data(n_x, m, dtype="float64", seed=SEED):
    """``(X, Y)``: X ``(n_x, m)`` standard normal, Y ``(1, m)`` from a random hyperplane
    with 10% of the labels flipped.

    The same ``(n_x, m, seed)`` gives the same numbers in every dtype (drawn in float64,
    then cast), so float32 and float64 results are comparable.
    """
    rng = np.random.default_rng([seed, n_x, m])
    X = rng.standard_normal((n_x, m))
    w = rng.standard_normal((1, n_x))
    Y = ((w @ X > 0) ^ (rng.random((1, m)) < 0.1)).astype(np.float64)
    X, Y = X.astype(dtype), Y.astype(dtype)
    X.flags.writeable = Y.flags.writeable = False
    return X, Y


@functools.lru_cache(maxsize=None)
def make_images(n_x, m, seed=SEED):
    """``(X, Y)`` of the course's cat images' shape and scale: X ``(n_x, m)`` uniform in
    [0, 1] (the course divides pixels by 255), Y ``(1, m)`` labels 0 and 1 from a random
    hyperplane through the middle of the cube, so there is something to learn. float64,
    read-only, cached like :func:`make_data`."""
    rng = np.random.default_rng([seed, n_x, m, 255])
    X = rng.uniform(0.0, 1.0, (n_x, m))
    Y = (rng.standard_normal((1, n_x)) @ (X - 0.5) > 0).astype(np.float64)
    X.flags.writeable = Y.flags.writeable = False
    return X, Y


def network_data(name, dtype):
    """``(layer_dims, X, Y)`` for one of :data:`NETWORKS`."""
    layer_dims, m = NETWORKS[name]
    X, Y = make_data(layer_dims[0], m, dtype)
    return layer_dims, X, Y


def require_backend(backend):
    """Raise NotImplementedError (asv's "skip" signal from ``setup``) if ``backend`` is
    not built here, e.g. "cython" before the extension is compiled."""
    if backend not in available_backends():
        raise NotImplementedError(f"backend {backend!r} is not available here")


def make_network(layer_dims, dtype, backend, *, hidden="relu", output="sigmoid", seed=SEED):
    """A ``fastdl.Network`` with He initialisation and a fixed seed (skips if unavailable)."""
    require_backend(backend)
    return fastdl.Network(layer_dims, hidden=hidden, output=output, init="he",
                          dtype=dtype, seed=seed, backend=backend)


def minimum_training_bytes(layer_dims, m, dtype):
    """The least memory one full-batch training iteration needs, beyond the data itself.

    Parameters W[l], b[l]; gradients dW[l], db[l] of the same shapes; and one
    ``(n[l], m)`` activation per layer, A[l] (the derivatives of the built-in
    activations can be taken from A[l], so Z[l] need not be kept). Everything else an
    implementation allocates (Z, dZ, dA, temporaries, copies) is overhead on this floor.
    """
    params = sum(n * (n_prev + 1) for n_prev, n in zip(layer_dims[:-1], layer_dims[1:]))
    activations = sum(layer_dims[1:]) * m
    return (2 * params + activations) * np.dtype(dtype).itemsize


class MemoryUse(typing.NamedTuple):
    """Bytes a short ``fit`` held at its peak, and the least it could have held."""

    arrays: int      # array data: parameters, backups, the engine's buffers, temporaries
    everything: int  # arrays and every Python object made along the way (tracemalloc)
    minimum: int     # :func:`minimum_training_bytes`

    @property
    def ratio(self):
        """The target's measure: peak array memory over the minimum."""
        return self.arrays / self.minimum


def measure_training_memory(layer_dims, X, Y, dtype, backend, *, epochs=3):
    """:class:`MemoryUse` of building a network and ``fit``-ting it on (X, Y).

    Peaks count what the network and the fit allocate, from its construction on (its
    parameters included), but not the data, which exist before. Initialisation draws
    in float64 before casting; that passing peak is not training's, so each peak is what
    construction left live plus the peak of ``fit`` beyond it. Two runs, one per
    counter: arrays through :mod:`.array_memory` (numpy's allocator, arrays only), and
    everything through tracemalloc (arrays and Python objects alike).
    """
    import tracemalloc

    from . import array_memory

    with array_memory.counting() as built:
        net = make_network(layer_dims, dtype, backend)
    with array_memory.counting() as fitted:
        net.fit(X, Y, learning_rate=LEARNING_RATE, epochs=epochs)
    arrays = built.current + fitted.peak
    del net

    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        net = make_network(layer_dims, dtype, backend)
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        net.fit(X, Y, learning_rate=LEARNING_RATE, epochs=epochs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    del net
    return MemoryUse(arrays, max(peak, held) - start,
                     minimum_training_bytes(layer_dims, X.shape[1], dtype))


class EngineCall:
    """The shared grid (backend × dtype × network) and set-up of the engine-level
    benchmarks: an engine with warm buffers; subclasses say what :meth:`call` times."""

    params = [BACKENDS, DTYPES, ASV_NETWORKS]
    param_names = ["backend", "dtype", "network"]
    timer = TIMER

    def setup(self, backend, dtype, network):
        layer_dims, self.X, self.Y = network_data(network, dtype)
        self.net = make_network(layer_dims, dtype, backend)
        self.engine, self.params = self.net._engine, self.net._params
        self.call()  # the compiled engine sizes its buffers once, before timing

    def call(self):
        raise NotImplementedError
