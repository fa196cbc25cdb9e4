"""The peak of numpy array memory over a block of code, counted by numpy itself.

tracemalloc reports one peak for everything the interpreter allocates: arrays, but also
frames, dicts, the history list and the signal handler of a ``fit`` call. For a network
whose whole training state is a few kilobytes, those objects are most of that peak, and
no engine could make them smaller. The memory target is about what the arrays take (the
parameters, activations and gradients the network needs, against every buffer and
temporary the implementation adds), so this module counts exactly that.

numpy (>= 1.22) lets a program replace the allocator of array data for the current
context (NEP 49, ``PyDataMem_SetHandler``). :func:`counting` installs one that calls the
C library's malloc, calloc, realloc and free, as numpy's default does, and keeps a running
total of the live bytes and its peak. The handler is written with ctypes, so measuring
needs no compiled code of its own. Each array remembers the handler that allocated it and
returns its memory through the same one, so the handler and its callbacks live as long as
the process. Allocations are counted with the GIL held (ctypes callbacks take it), which
makes them slower: fine for measuring memory, never for timing.
"""
import contextlib
import ctypes

try:
    from numpy._core import _multiarray_umath
    from numpy._core.multiarray import get_handler_name
except ImportError:  # numpy 1.x
    from numpy.core import _multiarray_umath
    from numpy.core.multiarray import get_handler_name
# get_handler_name(array): the allocator behind an array's data ("default_allocator" is
# numpy's own); with no argument, the one this context allocates with now.

_NAME = b"fastdl-benchmarks-counting"
NAME = _NAME.decode()  # what get_handler_name(array) says of the arrays counted here
_libc = ctypes.CDLL(None)
_malloc, _calloc, _realloc, _free = _libc.malloc, _libc.calloc, _libc.realloc, _libc.free
_malloc.restype, _malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
_calloc.restype, _calloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t, ctypes.c_size_t]
_realloc.restype, _realloc.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_size_t]
_free.restype, _free.argtypes = None, [ctypes.c_void_p]

_MALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_CALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t)
_REALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


class _Allocator(ctypes.Structure):  # numpy's PyDataMemAllocator
    _fields_ = [("ctx", ctypes.c_void_p), ("malloc", _MALLOC), ("calloc", _CALLOC),
                ("realloc", _REALLOC), ("free", _FREE)]


class _Handler(ctypes.Structure):  # numpy's PyDataMem_Handler, version 1
    _fields_ = [("name", ctypes.c_char * 127), ("version", ctypes.c_uint8),
                ("allocator", _Allocator)]


class _Ledger:
    """Live bytes by address, their total, and the highest total since :meth:`restart`."""

    def __init__(self):
        self.live, self.current, self.peak = {}, 0, 0

    def restart(self):
        self.peak = self.current

    def add(self, address, size):
        if address:
            self.live[address] = size
            self.current += size
            self.peak = max(self.peak, self.current)
        return address

    def remove(self, address):
        self.current -= self.live.pop(address, 0)


_ledger = _Ledger()


@_MALLOC
def _counted_malloc(ctx, size):
    return _ledger.add(_malloc(size), size)


@_CALLOC
def _counted_calloc(ctx, count, size):
    return _ledger.add(_calloc(count, size), count * size)


@_REALLOC
def _counted_realloc(ctx, address, size):
    moved = _realloc(address, size)
    if moved:  # on failure the old block is still there, and still counted
        _ledger.remove(address)
        _ledger.add(moved, size)
    return moved


@_FREE
def _counted_free(ctx, address, size):
    if address:
        _ledger.remove(address)
        _free(address)


_handler = _Handler(_NAME, 1, _Allocator(None, _counted_malloc, _counted_calloc,
                                          _counted_realloc, _counted_free))


def _numpy_api_function(index, restype, *argtypes):
    """Entry ``index`` of numpy's C-API table, callable with the GIL held."""
    capsule = _multiarray_umath._ARRAY_API
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object,
                                                                  ctypes.c_char_p]
    table = ctypes.cast(get_pointer(capsule, get_name(capsule)), ctypes.POINTER(ctypes.c_void_p))
    return ctypes.PYFUNCTYPE(restype, *argtypes)(table[index])


# numpy/__multiarray_api.h: PyDataMem_SetHandler is entry 304 (numpy >= 1.22).
_set_handler = _numpy_api_function(304, ctypes.py_object, ctypes.py_object)
_new_capsule = ctypes.pythonapi.PyCapsule_New
_new_capsule.restype = ctypes.py_object
_new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_CAPSULE_NAME = ctypes.c_char_p(b"mem_handler")  # numpy looks the capsule up by this name
_capsule = _new_capsule(ctypes.addressof(_handler), _CAPSULE_NAME, None)


class Measurement:
    """What :func:`counting` saw: ``peak``, the most bytes of array data live at once
    beyond those live when it began (arrays made before are not counted, nor their
    release), and ``current``, the bytes still live from inside the block."""

    def __init__(self):
        self.peak = self.current = 0


@contextlib.contextmanager
def counting():
    """Count the array memory allocated inside the ``with`` block (this thread's context)."""
    measurement = Measurement()
    start = _ledger.current
    _ledger.restart()
    previous = _set_handler(_capsule)
    if get_handler_name() != NAME:  # numpy's C-API table moved: measure nothing, say so
        _set_handler(previous)
        raise RuntimeError("could not install the counting allocator in this numpy")
    try:
        yield measurement
    finally:
        _set_handler(previous)
        measurement.peak = _ledger.peak - start
        measurement.current = _ledger.current - start
