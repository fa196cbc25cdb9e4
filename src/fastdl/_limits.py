"""Memory limits: what a network or a batch would take, refused before anything is allocated.

Asked for terabytes, numpy fails deep inside with a MemoryError (or, on an overcommitting
system, succeeds and the process is killed later, when the pages are touched). Every size
fastdl is handed is checked here first instead: a request beyond the limit is a ValueError
that says how much it would need, what the limit is and how to raise it. The estimates
are upper bounds, counting every buffer either engine may hold at once, and they are made
with Python integers, so no size can wrap around.

The limit is, in order: what :func:`set_memory_limit` set; the environment variable
``FASTDL_MAX_MEMORY`` (bytes, or a number with a suffix: ``'512M'``, ``'8G'``, ``'1.5T'``);
the machine's physical memory.
"""
import functools
import numbers
import os
import re

ENVIRONMENT_VARIABLE = "FASTDL_MAX_MEMORY"
# Where the physical memory cannot be read: enough for any sane request on a workstation,
# and still far below the absurd ones (a [10**6, 10**6, 1] network needs 14.6 TiB).
FALLBACK_LIMIT = 64 * 2**30
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGTP]?)(?:i?B)?\s*$", re.IGNORECASE)
# How many entries per example the buffers of a call hold, per unit of a layer. Training:
# the compiled engine's W·A_prev/A/dZ buffer, a custom activation's g', dropout's A·mask
# and mask; the numpy engine's Z, A, A·mask, mask, dA, dZ and g'(Z). Inference: Z and A.
TRAINING_COPIES = 7
INFERENCE_COPIES = 2
# And per parameter, in training: the gradients, Adam's two moments, and the numpy engine's
# temporaries of an Adam update (v / c1, s / c2, its square root, their quotient).
TRAINING_STATE = 7

_set_limit = None  # bytes, from set_memory_limit; None: the environment or the machine


def parse_size(text, argument=ENVIRONMENT_VARIABLE):
    """A number of bytes from an int or a string such as ``'8G'`` (binary units:
    K = 1024); a ValueError naming ``argument`` otherwise."""
    if isinstance(text, numbers.Integral) and not isinstance(text, bool):
        nbytes = int(text)
    elif isinstance(text, str) and _SIZE.match(text):
        number, unit = _SIZE.match(text).groups()
        nbytes = int(float(number) * UNITS[unit.upper()])
    else:
        raise ValueError(f"{argument}={text!r} is not a size; expected a number of bytes or a "
                         f"number with a suffix K, M, G, T or P, e.g. '8G'")
    if nbytes < 1:
        raise ValueError(f"{argument}={text!r} must be a positive number of bytes")
    return nbytes


@functools.lru_cache(maxsize=None)
def physical_memory():
    """The machine's total physical memory in bytes, or None where it cannot be read (read
    once: every check asks)."""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
        return None
    if pages is None or page_size is None or pages <= 0 or page_size <= 0:
        return None
    return pages * page_size


@functools.lru_cache(maxsize=8)
def _configured(text):
    return parse_size(text)


def _environment_setting():
    """FASTDL_MAX_MEMORY as os.environ has it now ('' when unset). Every engine call reads
    it; on POSIX, os.environ keeps its values in a dict of encoded strings, and looking
    there costs a tenth of os.environ.get (which encodes the name and decodes the value on
    every call: 1.7 µs, 5% of a small network's step)."""
    data = getattr(os.environ, "_data", None)
    if os.name == "posix" and isinstance(data, dict):
        raw = data.get(_ENVIRONMENT_KEY)
        return "" if raw is None else os.fsdecode(raw)
    return os.environ.get(ENVIRONMENT_VARIABLE, "")


_ENVIRONMENT_KEY = os.fsencode(ENVIRONMENT_VARIABLE)


def _limit_and_source():
    """(the limit in bytes, where it comes from, for messages)."""
    if _set_limit is not None:
        return _set_limit, "set by fastdl.set_memory_limit"
    configured = _environment_setting().strip()
    if configured:
        return _configured(configured), f"set by {ENVIRONMENT_VARIABLE}={configured}"
    physical = physical_memory()
    if physical is None:
        return FALLBACK_LIMIT, "the default where the machine's memory cannot be read"
    return physical, "this machine's physical memory"


def memory_limit():
    """The number of bytes fastdl lets one network or one call need (see
    :func:`set_memory_limit`)."""
    return _limit_and_source()[0]


def set_memory_limit(limit):
    """Set the most memory one network or one call may need; returns the previous setting.

    fastdl refuses a network, or a call on a batch, whose arrays would need more than
    this (a ValueError that says how much they need) before allocating anything, instead
    of failing inside numpy or being killed by the operating system later. The default is
    the machine's physical memory: a coarse guard against impossible requests, which a
    lower limit (say, what a container may use) makes tighter.

    Parameters
    ----------
    limit : int, str or None
        Bytes, or a string with a binary suffix (``'512M'``, ``'8G'``, ``'1.5T'``). None
        goes back to the default: the environment variable ``FASTDL_MAX_MEMORY`` when it
        is set (same spelling), else the machine's physical memory.

    Returns
    -------
    int or None
        The setting this replaced (None: there was none), to put back later:
        ``previous = fastdl.set_memory_limit('2G'); ...; fastdl.set_memory_limit(previous)``.
    """
    global _set_limit
    previous = _set_limit
    _set_limit = None if limit is None else parse_size(limit, "limit")
    return previous


def format_bytes(nbytes):
    """``nbytes`` for people: '512 bytes', '3.20 MiB', '14.55 TiB' (binary units)."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    for power, unit in enumerate(("KiB", "MiB", "GiB", "TiB", "PiB"), start=1):
        if nbytes < 1024 ** (power + 1):
            return f"{nbytes / 1024 ** power:.2f} {unit}"
    return f"{nbytes // 1024 ** 5:,} PiB"  # integer division: no float overflows


def check_bytes(nbytes, what, hint=None):
    """Refuse ``what`` (a phrase such as "loading model.npz", or a function that makes it:
    every call of the library passes here, and the phrase is only needed for the error)
    when it would need more than :func:`memory_limit` bytes; returns ``nbytes``. ``hint``,
    when given, says how to need less. Call it before allocating: it allocates nothing."""
    nbytes = int(nbytes)
    limit, source = _limit_and_source()
    if nbytes <= limit:
        return nbytes
    what = what() if callable(what) else what
    hint = f"{hint}, or " if hint else ""
    raise ValueError(
        f"{what} would need {format_bytes(nbytes)}, more than the memory limit of "
        f"{format_bytes(limit)} ({source}); {hint}if that much memory is really there, raise "
        f"the limit with {ENVIRONMENT_VARIABLE}=<size> (e.g. {ENVIRONMENT_VARIABLE}=64G) or "
        f"fastdl.set_memory_limit('64G')"
    )


# -- what the arrays of a network and of a call take -------------------------------------------
def parameter_entries(layer_dims):
    """Σ n[l]·(n[l−1] + 1): the entries of every W[l] and b[l]."""
    return sum(n * (n_prev + 1) for n_prev, n in zip(layer_dims, layer_dims[1:]))


def network_bytes(layer_dims, itemsize):
    """A Network's own arrays: the parameters and their backup, plus the float64 draw of
    the largest W[l] that initialisation casts from."""
    largest = max(n * n_prev for n_prev, n in zip(layer_dims, layer_dims[1:]))
    return 2 * parameter_entries(layer_dims) * itemsize + 8 * largest


def batch_bytes(layer_dims, m, itemsize, *, training, dense_X=True):
    """The network's arrays plus an engine call's buffers for a batch of ``m`` examples:
    activations per layer, the widest dA block and a copy of the batch's X and Y; training
    adds the gradients and an optimizer's state (see TRAINING_STATE)."""
    units = sum(layer_dims[1:])
    data = (layer_dims[0] if dense_X else 0) * m + layer_dims[-1] * m
    entries = data + (TRAINING_COPIES if training else INFERENCE_COPIES) * units * m
    if training:
        entries += max(layer_dims[1:]) * m + TRAINING_STATE * parameter_entries(layer_dims)
    return network_bytes(layer_dims, itemsize) + entries * itemsize


def dual_bytes(layer_dims, M, batch, itemsize):
    """A dual first layer's table (fastdl._dual): G = XᵀX (M, M), the batch's rows of G,
    and nine (n[1], M) arrays (P₀, U, Q, their backups, the velocities, a scratch)."""
    n_x, n1 = layer_dims[0], layer_dims[1]
    return (M * M + batch * M + 9 * n1 * M + n1 * n_x) * itemsize


def _dims(spec):
    return list(spec.layer_dims)


def check_network(spec):
    """Refuse a network whose parameters alone would not fit (at construction)."""
    dims = _dims(spec)
    check_bytes(network_bytes(dims, spec.dtype.itemsize),
                lambda: f"Network({dims}, dtype='{spec.dtype.name}')",
                hint="use fewer or smaller layers")


def _is_dense(X):
    return not hasattr(X, "indptr")  # fastdl._sparse.SparseColumns is never copied dense


@functools.lru_cache(maxsize=256)
def _call_bytes(layer_dims, m, itemsize, training, dense_X):
    """batch_bytes, remembered: predict and cost are called again and again on one shape."""
    return batch_bytes(list(layer_dims), m, itemsize, training=training, dense_X=dense_X)


def check_batch(spec, X, what, *, training):
    """Refuse an engine call on all of X's examples at once (forward, cost, gradients,
    step) whose buffers would not fit; returns X."""
    m = X.shape[1]
    dims = _dims(spec)
    check_bytes(_call_bytes(tuple(spec.layer_dims), m, spec.dtype.itemsize, training, _is_dense(X)),
                lambda: f"{what} on m = {m} examples with Network({dims}, dtype='{spec.dtype.name}')",
                hint="pass the examples in smaller parts"
                + (", or train with fit(..., batch_size=...)" if training else ""))
    return X


def fit_bytes(spec, X, batch_size, *, shuffle=True, dev_m=0, dual=False):
    """What a fit on X needs, by part: ``{'buffers': ..., 'shuffle': ..., 'dual': ...}``,
    a batch's training buffers (or the dev set's forward pass, when larger), each epoch's
    reordered copy of X and Y when batches are shuffled, and a dual first layer's table."""
    dims, item = _dims(spec), spec.dtype.itemsize
    m = X.shape[1]
    batch = m if batch_size is None else min(batch_size, m)
    dense = _is_dense(X)
    parts = {"buffers": batch_bytes(dims, max(batch, dev_m), item, training=True, dense_X=dense),
             "shuffle": 0, "dual": 0}
    if shuffle and batch < m:
        parts["shuffle"] = ((dims[0] if dense else 0) + dims[-1] + 1) * m * item
    if dual:
        parts["dual"] = dual_bytes(dims, m, batch, item)
    return parts


# What to try when that part of a fit's memory is the largest.
FIT_HINTS = {"buffers": "use a smaller batch_size",
             "shuffle": "fit(..., shuffle=False) trains without each epoch's reordered copy of X",
             "dual": "first_layer='primal' trains without G = XᵀX (m × m)"}


def check_fit(net, X, optimizer, options):
    """Refuse a Network.fit whose buffers would not fit; ``options`` are its validated
    FitOptions (the batch size, the shuffle, the dev set, how the first layer trains)."""
    from ._dual import resolve

    m = X.shape[1]
    nnz = None if _is_dense(X) else len(X.data)
    dev_m = 0 if options.dev is None else options.dev[0].shape[1]
    dual = resolve(options.first_layer, net, optimizer, m, options.epochs, options.dev is not None,
                   nnz)
    check_training(net._spec, X, options.batch_size, shuffle=options.shuffle, dev_m=dev_m,
                   dual=dual)


def check_training(spec, X, batch_size, *, shuffle=True, dev_m=0, dual=False, what="fit"):
    """Refuse training on X in batches of ``batch_size`` (None: all of X) whose buffers
    would not fit: Network.fit's, or a scikit-learn estimator's own loop."""
    m = X.shape[1]
    batch = m if batch_size is None else min(batch_size, m)
    dims = _dims(spec)
    parts = fit_bytes(spec, X, batch_size, shuffle=shuffle, dev_m=dev_m, dual=dual)
    largest = max(parts, key=parts.get)
    check_bytes(sum(parts.values()),
                lambda: f"{what} on m = {m} examples in batches of {batch} with "
                        f"Network({dims}, dtype='{spec.dtype.name}')"
                        + (" and a dual first layer" if dual else ""),
                hint=FIT_HINTS[largest])
