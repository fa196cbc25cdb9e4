"""Memory: the counter the benchmarks use, the compiled engine's block rule, and the
engine's array memory during training against what a network needs.

The target (issue 4) is a training run's peak array memory within 1.5x of the minimum:
parameters, gradients and one batch of activations (benchmarks/README.md). These tests
hold the compiled engine to it on networks small enough for the suite, every dtype,
and check that a warm engine allocates no array memory at all in a training step.
"""
import numpy as np
import pytest

import fastdl
from benchmark_modules import import_benchmarks

pytest.importorskip("fastdl._kernels")
from fastdl import _kernels as K  # noqa: E402

array_memory, common = import_benchmarks("benchmarks.array_memory", "benchmarks.common")
DTYPES = ["float64", "float32"]


def test_counting_sees_array_data_and_its_peak():
    before = np.ones(1000)
    with array_memory.counting() as counted:
        kept = np.empty((100, 10))                   # 8000 bytes, still live at the end
        transient = np.zeros(2000)                    # 16000 more at the peak, then freed
        assert array_memory.get_handler_name(kept) == array_memory.NAME
        del transient
        grown = np.ones(10)
        grown.resize(500, refcheck=False)             # realloc: 80 -> 4000 bytes
        del before                                    # made before: neither counted nor subtracted
    assert counted.peak >= 8000 + 16000 and counted.peak < 8000 + 16000 + 4000 + 100
    assert counted.current == 8000 + 4000
    after = np.ones(3)
    assert array_memory.get_handler_name(after) == "default_allocator"
    assert array_memory.get_handler_name(kept) == array_memory.NAME
    del kept, grown  # freed through the counting handler, after the block: no crash
    with array_memory.counting() as nothing:
        pass
    assert nothing.peak == 0 and nothing.current == 0


@pytest.mark.parametrize("layer_dims, m, limit, expected", [
    ([30, 1], 569, 1024, 569),                 # no hidden layer, nothing to bound
    ([30, 1], 5000, 1024, 1024),               # ... but never over the limit
    ([12288, 20, 7, 5, 1], 209, 1024, 209),    # weights dwarf dA: one block
    ([2, 4, 1], 400, 1024, 200),               # dA over the budget: 0.4 * 5 * 400 / 4
    ([784, 256, 128, 1], 4096, 1024, 1024),    # the budget (2464) is over the limit
    ([2, 16, 8, 1], 64, 1024, 64),             # the budget (40) is under MIN_BLOCK
    ([2, 16, 8, 1], 64, 7, 7),                 # ... which a smaller limit still overrides
    ([2, 16, 8, 1], 3, 1024, 3),               # never wider than the batch
])
def test_block_width(layer_dims, m, limit, expected):
    assert K._block_width(layer_dims, m, limit) == expected


@pytest.mark.parametrize("layer_dims", [[2, 4, 1], [2, 64, 1], [5, 40, 40, 40, 1],
                                        [20, 64, 32, 1], [30, 1], [3, 200, 2, 1]])
@pytest.mark.parametrize("limit", [7, 1024])
def test_the_dA_buffer_holds_the_widest_block_of_any_smaller_batch(layer_dims, limit):
    """Blocks follow the batch alone, so one workspace serves batches of every size up to
    its capacity: the dA buffer must be as wide as the widest block among them (which is
    not always the capacity's: splitting starts at some m and narrows the blocks)."""
    for capacity in (1, 2, 5, 9, 40, 300, 2000):
        widest = max(K._block_width(layer_dims, m, limit) for m in range(1, capacity + 1))
        assert K._largest_block_width(layer_dims, capacity, limit) == widest, capacity


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("network", ["planar", "logistic", "course"])
def test_fit_stays_within_1_5x_of_the_minimum_on_the_benchmark_networks(network, dtype):
    layer_dims, X, Y = common.network_data(network, dtype)
    use = common.measure_training_memory(layer_dims, X, Y, dtype, "cython", epochs=2)
    assert use.minimum == common.minimum_training_bytes(layer_dims, X.shape[1], dtype)
    assert use.arrays >= use.minimum * 0.99, "the minimum would be wrong: nothing fits in it"
    assert use.ratio <= 1.5, use
    assert use.everything >= use.arrays * 0.99  # tracemalloc sees the arrays too


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer_dims, m", [([20, 64, 32, 1], 3000), ([5, 40, 40, 40, 1], 2500)])
def test_large_batches_are_split_into_blocks_within_the_target(layer_dims, m, dtype):
    X, Y = common.make_data(layer_dims[0], m, dtype)
    use = common.measure_training_memory(layer_dims, X, Y, dtype, "cython", epochs=2)
    assert use.ratio <= 1.5, use


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer, state_copies", [("gd", 0), ("momentum", 1), ("adam", 2)])
def test_a_warm_engine_allocates_nothing_but_the_optimizer_state(rng, dtype, optimizer,
                                                                 state_copies):
    """Once its buffers are sized, a fit allocates only what the optimizer keeps (velocity;
    Adam's two moments: copies of W and b): no temporaries, nothing per step."""
    net = fastdl.Network([6, 9, 4, 1], dtype=dtype, seed=0, backend="cython")
    X = rng.standard_normal((6, 2000)).astype(dtype)
    Y = (rng.random((1, 2000)) > 0.5).astype(dtype)
    net.fit(X, Y, epochs=1, optimizer=optimizer)  # sizes every buffer
    with array_memory.counting() as counted:
        net.fit(X, Y, epochs=3, optimizer=optimizer)
    parameter_bytes = sum(p.nbytes for p in net.parameters.values())
    assert counted.peak == counted.current == state_copies * parameter_bytes, counted.__dict__


def test_the_numpy_reference_is_measured_the_same_way():
    """The reference keeps its caches (Z and A of every layer) and makes temporaries:
    more than the engine, counted by the same means, so the comparison is fair."""
    layer_dims, X, Y = common.network_data("planar", "float64")
    reference = common.measure_training_memory(layer_dims, X, Y, "float64", "numpy", epochs=2)
    compiled = common.measure_training_memory(layer_dims, X, Y, "float64", "cython", epochs=2)
    assert reference.minimum == compiled.minimum
    assert reference.arrays > compiled.arrays
