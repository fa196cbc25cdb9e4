"""The backend registry: a name → engine-class table, and the choice behind "auto"."""
from ._numpy_backend import NumpyEngine
from ._validation import check_choice


def _cython_engine():
    from ._cython_backend import CythonEngine

    return CythonEngine


_LOADERS = {"numpy": lambda: NumpyEngine, "cython": _cython_engine}

# "auto" takes the first of these that loads.
_PREFERENCE = ("cython", "numpy")

BACKENDS = ("auto",) + tuple(sorted(_LOADERS))


def available_backends():
    """The names of the backends that load on this machine, fastest first."""
    names = []
    for name in _PREFERENCE:
        try:
            _LOADERS[name]()
        except Exception:  # a missing build, or a stale one that fails as it loads
            continue
        names.append(name)
    return names


def engine_class(backend):
    """The engine class for ``backend``; "auto" picks the fastest that loads."""
    check_choice("backend", backend, BACKENDS)
    if backend == "auto":
        return _LOADERS[available_backends()[0]]()
    try:
        return _LOADERS[backend]()
    except Exception as error:  # ImportError, or a stale build failing as it loads
        raise ImportError(
            f"backend={backend!r} is not available here ({error}); "
            f"available: {available_backends()}"
        ) from error
