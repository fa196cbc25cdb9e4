"""The backend registry when the compiled module is missing or stale: a readable
ImportError that says how to rebuild, and "auto" falling back to the numpy reference."""
import os
import sys
import types

import numpy as np
import pytest

import fastdl


@pytest.fixture
def without_compiled_module(monkeypatch, request):
    """fastdl._kernels as a missing build (None in sys.modules makes the import fail) or a
    stale one (a module without the names the engine needs)."""
    broken = None if request.param == "missing" else types.ModuleType("fastdl._kernels")
    monkeypatch.setitem(sys.modules, "fastdl._kernels", broken)
    monkeypatch.delitem(sys.modules, "fastdl._cython_backend", raising=False)
    monkeypatch.delattr(fastdl, "_kernels", raising=False)
    monkeypatch.delattr(fastdl, "_cython_backend", raising=False)
    return request.param


@pytest.mark.parametrize("without_compiled_module", ["missing", "stale"], indirect=True)
def test_explicit_cython_backend_says_how_to_rebuild(without_compiled_module):
    with pytest.raises(ImportError, match=r"backend='cython' is not available here") as info:
        fastdl.Network([2, 3, 1], backend="cython")
    assert "available: ['numpy']" in str(info.value)
    if without_compiled_module == "missing":
        assert "pip install ." in str(info.value)  # the hint of fastdl._cython_backend


@pytest.mark.parametrize("without_compiled_module", ["missing", "stale"], indirect=True)
def test_auto_falls_back_to_numpy(without_compiled_module):
    assert fastdl.available_backends() == ["numpy"]
    net = fastdl.Network([2, 3, 1], seed=0)
    assert net.backend == "numpy"
    X = np.random.default_rng(0).standard_normal((2, 10))
    Y = (X[:1] > 0).astype(float)
    assert np.isfinite(net.step(X, Y, 0.1))


NUMPY_ONLY = os.environ.get("FASTDL_NUMPY_ONLY") == "1"


@pytest.mark.skipif(NUMPY_ONLY, reason="FASTDL_NUMPY_ONLY=1: this build has no compiled engine")
def test_the_installed_package_has_its_compiled_engine():
    """Catches a build without the extension passing CI green: the compiled tests skip
    themselves when fastdl._kernels does not import, so this one must fail instead (set
    FASTDL_NUMPY_ONLY=1 to test a deliberately numpy-only installation)."""
    from fastdl import _kernels  # noqa: F401 - an ImportError here is the failure

    assert fastdl.available_backends() == ["cython", "numpy"]
    assert fastdl.Network([2, 3, 1]).backend == "cython"
