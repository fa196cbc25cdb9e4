"""fastdl._limits: absurd sizes are refused with the size they would need, before anything is
allocated; FASTDL_MAX_MEMORY and fastdl.set_memory_limit move the limit; normal sizes are
never refused."""
import re
import tracemalloc

import numpy as np
import pytest

import fastdl
from fastdl import _limits

GiB = 2**30


@pytest.fixture(autouse=True)
def default_limit(monkeypatch):
    """Every test starts from the machine's limit and leaves the setting as it found it."""
    monkeypatch.delenv(_limits.ENVIRONMENT_VARIABLE, raising=False)
    previous = fastdl.set_memory_limit(None)
    yield
    fastdl.set_memory_limit(previous)


@pytest.fixture
def no_allocation(monkeypatch):
    """numpy's allocating constructors fail loudly: a refusal must come before any of them."""
    def forbidden(*args, **kwargs):
        raise AssertionError(f"allocated {args!r} before refusing")

    for name in ("empty", "zeros", "ones", "full", "empty_like", "zeros_like"):
        monkeypatch.setattr(np, name, forbidden)
    monkeypatch.setattr(fastdl.network, "initialize_parameters", forbidden)  # draws W
    return forbidden


def _tib(nbytes):
    return re.escape(_limits.format_bytes(nbytes))


# -- the sizes ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, nbytes", [
    (4096, 4096), ("4096", 4096), ("512M", 512 * 2**20), ("8G", 8 * GiB), ("8g", 8 * GiB),
    ("1.5T", 3 * 2**39), ("2 GiB", 2 * GiB), (" 64K ", 64 * 1024), ("3GB", 3 * GiB),
    (np.int64(100), 100), (2**70, 2**70),
], ids=lambda value: repr(value))
def test_sizes_are_parsed(text, nbytes):
    assert _limits.parse_size(text) == nbytes


@pytest.mark.parametrize("text", ["", "abc", "8X", "-1G", "0", 0, -5, 1.5, True, "1e9", "G"],
                         ids=repr)
def test_bad_sizes_are_refused_naming_the_setting(text):
    with pytest.raises(ValueError, match=r"^limit=.* (is not a size|must be a positive number)"):
        fastdl.set_memory_limit(text)


@pytest.mark.parametrize("nbytes, text", [
    (0, "0 bytes"), (1023, "1023 bytes"), (1024, "1.00 KiB"), (3 * 2**20 + 2**19, "3.50 MiB"),
    (GiB, "1.00 GiB"), (2**40 * 14.55, "14.55 TiB"), (2**50 * 3, "3.00 PiB"),
    (2**60, "1,024 PiB"), (10**400, None),
], ids=lambda value: repr(value)[:12])
def test_sizes_read_for_people(nbytes, text):
    shown = _limits.format_bytes(int(nbytes))
    assert shown == text if text else shown.endswith(" PiB")  # no float overflow past 1e308


# -- the limit -------------------------------------------------------------------------------
def test_the_default_is_the_physical_memory():
    physical = _limits.physical_memory()
    assert physical is not None and physical > 0
    assert fastdl.memory_limit() == physical


def test_without_sysconf_the_fallback_applies(monkeypatch):
    def unavailable(name):
        raise ValueError(f"unrecognized configuration name {name}")

    _limits.physical_memory.cache_clear()
    monkeypatch.setattr(_limits.os, "sysconf", unavailable)
    try:
        assert fastdl.memory_limit() == _limits.FALLBACK_LIMIT
        with pytest.raises(ValueError, match=r"the default where the machine's memory cannot be read"):
            fastdl.Network([10**6, 10**6, 1])
    finally:
        _limits.physical_memory.cache_clear()


def test_the_environment_variable_sets_the_limit(monkeypatch):
    monkeypatch.setenv("FASTDL_MAX_MEMORY", "1M")
    assert fastdl.memory_limit() == 2**20
    needed = _limits.network_bytes([1000, 1000, 1], 8)  # 16 MB of parameters, 8 of the draw
    with pytest.raises(ValueError, match=rf"Network\(\[1000, 1000, 1\], dtype='float64'\) would need "
                                         rf"{_tib(needed)}, more than the memory limit of 1.00 MiB "
                                         rf"\(set by FASTDL_MAX_MEMORY=1M\); .*FASTDL_MAX_MEMORY=<size>"):
        fastdl.Network([1000, 1000, 1])
    fastdl.Network([10, 10, 1])  # small networks are untouched


def test_a_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv("FASTDL_MAX_MEMORY", "lots")
    with pytest.raises(ValueError, match=r"FASTDL_MAX_MEMORY='lots' is not a size; expected a number "
                                         r"of bytes or a number with a suffix K, M, G, T or P"):
        fastdl.Network([3, 1])


def test_the_setter_wins_over_the_environment_and_gives_back_the_previous(monkeypatch):
    monkeypatch.setenv("FASTDL_MAX_MEMORY", "1K")
    assert fastdl.set_memory_limit("2G") is None
    assert fastdl.memory_limit() == 2 * GiB
    fastdl.Network([1000, 1000, 1])  # 2 GiB is plenty; the environment's 1K is not used
    assert fastdl.set_memory_limit(4096) == 2 * GiB
    with pytest.raises(ValueError, match=r"\(set by fastdl.set_memory_limit\)"):
        fastdl.Network([100, 100, 1])
    assert fastdl.set_memory_limit(None) == 4096
    assert fastdl.memory_limit() == 1024  # back to the environment


def test_the_limit_is_exact():
    """Catches an off-by-one or a rounding of the estimate: needed bytes pass, one less fails."""
    needed = _limits.network_bytes([20, 30, 4], 4)
    fastdl.set_memory_limit(needed)
    fastdl.Network([20, 30, 4], dtype="float32")
    fastdl.set_memory_limit(needed - 1)
    with pytest.raises(ValueError, match=rf"would need {_tib(needed)}"):
        fastdl.Network([20, 30, 4], dtype="float32")


def test_check_bytes_is_there_for_other_readers():
    assert _limits.check_bytes(100, "loading model.npz") == 100
    with pytest.raises(ValueError, match=r"^loading model.npz would need 909.49 TiB, more than the "
                                         r"memory limit of .* \(this machine's physical memory\); "
                                         r"use a smaller file, or if that much memory is really there"):
        _limits.check_bytes(10**15, "loading model.npz", hint="use a smaller file")


# -- absurd sizes, refused before anything is allocated ----------------------------------------------
@pytest.mark.parametrize("layer_dims, dtype", [
    ([10**6, 10**6, 1], "float64"), ([10**6, 10**6, 1], "float32"),
    ([3, 2**30, 2**30, 1], "float64"), ([2**31 - 1, 2**31 - 1], "float32"),
], ids=["million-squared", "million-squared-f32", "two-giga-layers", "largest-sizes"])
def test_absurd_networks_are_refused_with_their_size(layer_dims, dtype, no_allocation):
    item = np.dtype(dtype).itemsize
    entries = sum(n * (p + 1) for p, n in zip(layer_dims, layer_dims[1:]))
    largest = max(n * p for p, n in zip(layer_dims, layer_dims[1:]))
    needed = 2 * entries * item + 8 * largest  # the parameters, their backup, the float64 draw
    with pytest.raises(ValueError, match=rf"Network\({re.escape(str(layer_dims))}, dtype='{dtype}'\) "
                                         rf"would need {_tib(needed)}, more than the memory limit"):
        fastdl.Network(layer_dims, dtype=dtype)


@pytest.mark.parametrize("size", [2**31, 2**62, 2**64 + 1, 10**30, np.uint64(2**63)],
                         ids=["2**31", "2**62", "2**64+1", "10**30", "uint64-2**63"])
def test_sizes_beyond_32_bits_are_refused_never_wrapped(size, no_allocation):
    with pytest.raises(ValueError, match=rf"layer_dims\[1\] \(n\[1\]\) is {int(size)}, more than the "
                                         rf"largest layer the engines take \(2147483647"):
        fastdl.Network([3, size, 1])


def test_a_refusal_allocates_next_to_nothing():
    tracemalloc.start()
    try:
        for dims in ([10**6, 10**6, 1], [5, 2**31 - 1, 2**31 - 1, 1]):
            with pytest.raises(ValueError, match=r"would need"):
                fastdl.Network(dims)
        X = np.broadcast_to(np.ones((3, 1)), (3, 10**12))  # 24 TB that is not there
        net = fastdl.Network([3, 4, 1], seed=0)
        tracemalloc.reset_peak()
        for call in (net.forward, net.predict, lambda X: net.cost(X, X[:1]),
                     lambda X: net.fit(X, X[:1], epochs=1, batch_size=8)):
            with pytest.raises(ValueError, match=r"X of shape \(3, 1000000000000\) as float64 would "
                                                 r"need 21.83 TiB"):
                call(X)
        assert tracemalloc.get_traced_memory()[1] < 2**20
    finally:
        tracemalloc.stop()


@pytest.fixture
def small_limit():
    """A 64 MiB limit, so that 'absurd' is reachable with arrays that exist."""
    fastdl.set_memory_limit("64M")


@pytest.mark.parametrize("backend", fastdl.available_backends())
@pytest.mark.parametrize("entry, message", [
    ("forward", r"forward on m = 200000 examples with Network\(\[2, 64, 1\], dtype='float64'\) "
                r"would need \d+\.\d\d MiB, more than the memory limit of 64.00 MiB.*pass the "
                r"examples in smaller parts"),
    ("predict", r"forward on m = 200000 examples"),
    ("cost", r"cost on m = 200000 examples .*train with fit\(\.\.\., batch_size=\.\.\.\)"),
    ("gradients", r"gradients on m = 200000 examples"),
    ("step", r"step on m = 200000 examples"),
    ("accuracy", r"accuracy on m = 200000 examples"),
    ("fit", r"fit on m = 200000 examples in batches of 200000 with Network\(\[2, 64, 1\], "
            r"dtype='float64'\) would need .*use a smaller batch_size"),
])
def test_a_batch_too_large_for_the_limit_is_refused(backend, entry, message, small_limit,
                                                    monkeypatch):
    m = 200_000  # X itself is 3.2 MB; the activations of 64 units are 100 MB
    X = np.ones((2, m))
    Y = np.ones((1, m))
    net = fastdl.Network([2, 64, 1], seed=0, backend=backend)
    calls = {"forward": lambda: net.forward(X), "predict": lambda: net.predict(X),
             "cost": lambda: net.cost(X, Y), "gradients": lambda: net.gradients(X, Y),
             "step": lambda: net.step(X, Y, 0.1), "accuracy": lambda: net.accuracy(X, Y),
             "fit": lambda: net.fit(X, Y, epochs=1)}
    engine = type(net._engine)
    for method in ("forward", "cost", "gradients", "step"):  # the engine is never reached
        monkeypatch.setattr(engine, method, lambda *a, **k: pytest.fail("reached the engine"))
    before = net.parameters
    with pytest.raises(ValueError, match=message):
        calls[entry]()
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[key])


def test_mini_batches_make_a_large_fit_fit(small_limit):
    """The batch actually used counts, not m: the same data trains in batches of 1000."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 200_000))
    Y = (X[:1] > 0).astype(float)
    net = fastdl.Network([2, 64, 1], seed=0)
    with pytest.raises(ValueError, match=r"batches of 200000"):
        net.fit(X, Y, epochs=1)
    assert net.fit(X, Y, epochs=1, batch_size=1000, shuffle=False).stop_reason == "finished"


def test_the_shuffled_copy_and_the_dual_table_are_counted(small_limit):
    X = np.broadcast_to(np.ones((3, 1)), (3, 2_000_000))  # 48 MB as float64: under the limit
    Y = np.broadcast_to(np.ones((1, 1)), (1, 2_000_000))
    net = fastdl.Network([3, 2, 1], seed=0)
    with pytest.raises(ValueError, match=r"fit\(\.\.\., shuffle=False\) trains without each epoch's "
                                         r"reordered copy of X"):
        net.fit(X, Y, epochs=1, batch_size=10)
    X, Y = np.ones((4, 5000)), np.ones((1, 5000))  # G = XᵀX: 5000 × 5000 float64 = 200 MB
    with pytest.raises(ValueError, match=r"and a dual first layer would need .*first_layer='primal' "
                                         r"trains without G = XᵀX \(m × m\)"):
        fastdl.Network([4, 2, 1], seed=0).fit(X, Y, epochs=1, first_layer="dual")


def test_conversions_and_one_hot_labels_are_counted(small_limit):
    X = np.ones((100, 100_000), dtype=np.uint8)  # 10 MB here, 80 MB as float64
    net = fastdl.Network([100, 1], seed=0)
    with pytest.raises(ValueError, match=r"X of shape \(100, 100000\) as float64 would need 76.29 MiB"):
        net.forward(X)
    net.forward(X[:, :1000])
    softmax = fastdl.Network([1, 2000], output="softmax", seed=0)
    labels = np.zeros((1, 5000))  # one-hot: 2000 × 5000 float64 = 80 MB
    with pytest.raises(ValueError, match=r"Y's 5000 integer labels as one-hot columns of K = 2000 "
                                         r"classes would need 76.29 MiB"):
        softmax.cost(np.ones((1, 5000)), labels)


def test_set_parameters_is_checked(small_limit):
    net = fastdl.Network([1000, 1000, 1], seed=0)  # 16 MB of parameters with their backup
    fastdl.set_memory_limit("4M")
    with pytest.raises(ValueError, match=r"set_parameters' copies of the parameters of a "
                                         r"Network\(\[1000, 1000, 1\]\) would need 7.64 MiB"):
        net.set_parameters(net.parameters)


def test_the_other_front_doors_are_checked(small_limit):
    from fastdl.compat import deep, logistic
    from fastdl.sklearn import MLPClassifier

    with pytest.raises(ValueError, match=r"initialize_parameters_deep\(\[3000, 3000, 1\]\) would need"):
        deep.initialize_parameters_deep([3000, 3000, 1])
    with pytest.raises(ValueError, match=r"dim is 3000000000, more than the largest layer"):
        logistic.initialize_with_zeros(3 * 10**9)
    X, y = np.ones((100_000, 2)), np.arange(100_000) % 2
    with pytest.raises(ValueError, match=r"MLPClassifier.fit on m = 100000 examples in batches of "
                                         r"100000 .*would need"):
        MLPClassifier(hidden_layer_sizes=(64,), solver="gd", max_iter=1).fit(X, y)


# -- normal sizes ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", fastdl.available_backends())
def test_normal_sizes_are_untouched(backend, rng):
    X = rng.standard_normal((5, 300))
    Y = (X[:1] > 0).astype(float)
    net = fastdl.Network([5, 16, 8, 1], seed=0, backend=backend)
    history = net.fit(X, Y, learning_rate=0.1, epochs=5, batch_size=32, optimizer="adam",
                      keep_prob=0.9, dev=(X, Y))
    assert history.stop_reason == "finished" and len(history.costs) == 5
    assert net.predict(X).shape == (1, 300)
    assert np.isfinite(net.cost(X, Y)) and 0 <= net.accuracy(X, Y) <= 1


def test_an_estimate_bounds_what_a_fit_really_allocates(rng):
    """The estimate is an upper bound: a real fit's peak array memory stays under it."""
    X = rng.standard_normal((20, 2000))
    Y = (X[:1] > 0).astype(float)
    net = fastdl.Network([20, 64, 32, 1], seed=0, backend="numpy")  # allocates most freely
    spec = net._spec
    parts = _limits.fit_bytes(spec, X, 500, shuffle=True)
    tracemalloc.start()
    try:
        net.fit(X, Y, epochs=2, batch_size=500, optimizer="adam", keep_prob=0.8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < sum(parts.values())
