"""User-defined activations compiled by Numba (the optional ``jit`` extra).

Write g and g' as plain Python functions of one float; :func:`custom_activation`
compiles each twice, for float64 and float32, as C callbacks (``numba.cfunc``) that
the compiled engine calls through a function pointer inside its training iteration,
and as numpy ufuncs that the numpy reference engine applies to arrays.
"""
import inspect
import re
import warnings

import numpy as np

from . import activations as _activations

INSTALL_HINT = "custom activations need Numba: pip install 'fastdl[jit]' (or pip install numba)"


def _numba():
    try:
        import numba
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({error})") from None
    return numba


def _headline(error):
    """The first informative lines of a Numba error, without its terminal colour codes."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines()]
    return "; ".join([line for line in lines if line][:2]) or type(error).__name__


class NumbaCacheWarning(UserWarning):
    """Numba's on-disk cache could not be used, so the activation was compiled afresh."""


class CustomActivation:
    """An activation g and its derivative g'(z), compiled for float32 and float64.

    Use it wherever an activation name is accepted: ``Network(..., hidden=act)`` or in
    the ``activations`` list. Build it with :func:`custom_activation`.
    """

    def __init__(self, name, function, derivative, *, cache=True):
        numba = _numba()
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"name must be an identifier-like string; got {name!r}")
        for argument, value in (("function", function), ("derivative", derivative)):
            if not inspect.isfunction(value):
                raise TypeError(f"{argument} must be a Python function of one float (a def or "
                                f"lambda; wrap built-ins as lambda z: math.tanh(z)); got {value!r}")
        if name in _activations.OUTPUT_NAMES or name == "custom":
            raise ValueError(f"name {name!r} is a built-in activation's; give the custom activation "
                             f"a name of its own (model files tell activations apart by name)")
        self.name = name
        self.function = function
        self.derivative = derivative
        self._numba = numba
        self._cache = bool(cache)
        f32, f64 = numba.float32(numba.float32), numba.float64(numba.float64)
        pair = ((function, "function"), (derivative, "derivative"))
        self._ufuncs = tuple(
            self._build(lambda cache: numba.vectorize([f32, f64], cache=cache)(fn), role)
            for fn, role in pair)
        self._cfuncs = {
            np.dtype(dtype): tuple(self._status_cfunc(fn, role, scalar) for fn, role in pair)
            for dtype, scalar in ((np.float32, numba.float32), (np.float64, numba.float64))
        }
        self._check_compiles()

    def _status_cfunc(self, fn, role, scalar):
        """``int f(T z, T *out)``: 0 with f(z) in *out, or 1 when ``fn`` raised.

        An exception cannot cross from Numba into C: a plain cfunc prints it and returns
        0, which would train on made-up values. The compiled engine checks the status and
        raises the user's own exception (see fastdl._cython_backend). The user's function
        is compiled (and cached) once; the small wrapper that catches is compiled afresh.
        """
        numba = self._numba
        inner = self._build(lambda cache: numba.njit(scalar(scalar), cache=cache)(fn), role)

        def call(z, out):
            try:
                out[0] = inner(z)
            except Exception:  # noqa: BLE001 - any failure of user code stops the engine
                return 1
            return 0

        signature = numba.int32(scalar, numba.types.CPointer(scalar))
        return self._build(lambda cache: numba.cfunc(signature)(call), role)

    def _build(self, make, role):
        """Compile with Numba's on-disk cache, or without it when the cache cannot be used.

        The cache lives beside the function's source file (or in a user-wide fallback);
        a read-only tree, or a function typed at an interactive prompt, has none, and
        then compiling afresh is the right answer, not an error. One warning says so.
        """
        errors = self._numba.core.errors
        try:
            if self._cache:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error", errors.NumbaWarning)
                        return make(True)
                except (RuntimeError, OSError, errors.NumbaWarning) as error:
                    self._cache = False
                    warnings.warn(f"custom activation {self.name!r}: Numba's cache is not usable "
                                  f"({error}); compiling without it", NumbaCacheWarning, stacklevel=4)
            return make(False)
        except errors.NumbaError as error:
            raise TypeError(f"custom activation {self.name!r}: Numba cannot compile its {role} "
                            f"as a function of one float: {_headline(error)}") from None

    def _check_compiles(self):
        """Fail now, with the function named, rather than inside a training loop."""
        for dtype in (np.float32, np.float64):
            probe = np.array([-1.0, 0.0, 1.0], dtype=dtype)
            for ufunc, role in zip(self._ufuncs, ("function", "derivative")):
                out = ufunc(probe)
                if out.dtype != dtype:
                    raise TypeError(f"{self.name}.{role} does not keep {np.dtype(dtype).name}")

    def __reduce__(self):
        """Pickled as its recipe, compiled again when unpickled (the functions must be
        picklable: defined at module level)."""
        return (custom_activation, (self.name, self.function, self.derivative))

    def __call__(self, z):
        """g(z) on an array (dtype kept)."""
        return self._ufuncs[0](np.asarray(z))

    def prime(self, z):
        """g'(z) on an array (dtype kept)."""
        return self._ufuncs[1](np.asarray(z))

    def addresses(self, dtype):
        """The C function pointers ``(g, g')`` for ``dtype``: ``int (*)(T z, T *out)`` with T
        float or double, returning non-zero when the Python function raised."""
        g, g_prime = self._cfuncs[np.dtype(dtype)]
        return g.address, g_prime.address

    def __repr__(self):
        return f"custom_activation({self.name!r})"


def custom_activation(name, function, derivative, *, cache=True):
    """Compile ``function`` (g) and ``derivative`` (g'(z)) for use in a :class:`~fastdl.Network`.

    Parameters
    ----------
    name : str
        Shown in ``net.activations`` and stored in model files (which then need the
        same activation passed to :func:`fastdl.load`).
    function, derivative : callable
        Plain Python functions of one float returning a float, in Numba's nopython
        subset (``math`` functions, arithmetic, ``if``).
    cache : bool
        Use Numba's on-disk cache when possible (falls back to compiling when not).

    Examples
    --------
    >>> import math
    >>> softsign = custom_activation("softsign", lambda z: z / (1 + abs(z)),
    ...                              lambda z: 1 / (1 + abs(z)) ** 2)
    >>> net = Network([2, 8, 1], hidden=softsign)  # doctest: +SKIP
    """
    return CustomActivation(name, function, derivative, cache=cache)
