"""Input checks run once at the public boundary, so that no engine ever sees bad data.

Every error names the argument, what was expected and what was received.
"""
import math
import numbers

import numpy as np

from . import _limits
from . import activations as _activations
from ._losses import LOSS_FOR_OUTPUT

try:  # one compiled pass instead of numpy's temporaries; numpy does it without a build
    from ._kernels import all_within as _all_within
except Exception:  # pragma: no cover - no build, or a stale one (as in _backends)
    def _all_within(values, low=-np.inf, high=np.inf):
        return None

DTYPES = ("float32", "float64")
# The compiled engine keeps layer sizes and batch sizes in C ints, as BLAS takes them.
MAX_SIZE = 2**31 - 1


def check_choice(argument, value, choices):
    """``value`` if it is one of ``choices``, else a ValueError listing them sorted."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{argument}={value!r} is not supported; expected one of {sorted(choices)}"
        )
    return value


def check_dtype(dtype):
    """The numpy dtype for ``dtype``, which must be float32 or float64."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is not supported; expected one of {list(DTYPES)}")
    return resolved


def check_layer_dims(layer_dims):
    """``layer_dims`` as a tuple of positive ints with at least an input and one layer."""
    if isinstance(layer_dims, (str, bytes)) or not hasattr(layer_dims, "__len__"):
        raise TypeError(
            f"layer_dims must be a list of layer sizes [n_x, n_1, ..., n_L]; got {layer_dims!r}"
        )
    dims = list(layer_dims)
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims needs the input size and at least one layer, [n_x, ..., n_L]; got {dims}"
        )
    for position, n in enumerate(dims):
        what = "n_x" if position == 0 else f"n[{position}]"
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(
                f"layer_dims[{position}] ({what}) must be a positive integer; got {n!r}"
            )
        if n > MAX_SIZE:
            raise ValueError(
                f"layer_dims[{position}] ({what}) is {int(n)}, more than the largest layer the "
                f"engines take ({MAX_SIZE}: their sizes are 32-bit)"
            )
    return tuple(int(n) for n in dims)


def check_activation(argument, activation, *, output=False):
    """A built-in activation name or a compiled :class:`fastdl.jit.CustomActivation`."""
    from .jit import CustomActivation

    if isinstance(activation, CustomActivation):
        return activation
    if not output and activation in _activations.OUTPUT_ONLY:
        raise ValueError(f"{argument}={activation!r} is only valid for the output layer; "
                         f"hidden layers take one of {_activations.NAMES}")
    # Hidden layers are offered only the names they accept (no output-only softmax).
    return check_choice(argument, activation,
                        _activations.OUTPUT_NAMES if output else _activations.NAMES)


def check_activations(activations, L, hidden, output):
    """The list of L activations, from an explicit list or from ``hidden``/``output``."""
    if activations is None:
        return _distinct_names([check_activation("hidden", hidden)] * (L - 1)
                               + [check_activation("output", output, output=True)])
    if isinstance(activations, str) or not hasattr(activations, "__len__"):
        raise TypeError(f"activations must be a list of {L} names, one per layer; got {activations!r}")
    names = list(activations)
    if len(names) != L:
        raise ValueError(
            f"activations has {len(names)} names but the network has L = {L} layers; "
            f"give one name per layer"
        )
    return _distinct_names([check_activation(f"activations[{layer - 1}] (layer {layer})", name,
                                             output=layer == L)
                            for layer, name in enumerate(names, start=1)])


def _distinct_names(activations):
    """Model files name each layer's activation: two different custom activations with one
    name could not be told apart when loading, so they are refused."""
    seen = {}
    for activation in activations:
        if isinstance(activation, str):
            continue
        other = seen.setdefault(activation.name, activation)
        if other is not activation:
            raise ValueError(f"two different custom activations are both named "
                             f"{activation.name!r}; give each its own name")
    return activations


def check_leaky_slope(slope):
    """A float in [0, 1): leaky ReLU is max(slope·z, z) only for such slopes."""
    if isinstance(slope, bool) or not isinstance(slope, numbers.Real) or not 0 <= slope < 1:
        raise ValueError(f"leaky_slope must be a number in [0, 1); got {slope!r}")
    return float(slope)


def is_finite(number):
    """math.isfinite for any real number: an int too large for a float is not finite
    as a float either (math.isfinite would raise, np.isfinite raise a TypeError)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def check_non_negative(argument, value):
    """A finite number >= 0, as a float (None reads as 0: the option is off)."""
    if value is None:
        return 0.0
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not is_finite(value)
            or value < 0):
        raise ValueError(f"{argument} must be a finite non-negative number; got {value!r}")
    return float(value)


def check_positive(argument, value, *, integer=False):
    """A finite positive number (an int if ``integer``)."""
    if type(value) is float and 0 < value < float("inf") and not integer:
        return value  # the common case, checked first: it runs once per training step
    kind = numbers.Integral if integer else numbers.Real
    if (isinstance(value, bool) or not isinstance(value, kind)
            or not (integer or is_finite(value)) or value <= 0):
        expected = "a positive integer" if integer else "a finite positive number"
        raise ValueError(f"{argument} must be {expected}; got {value!r}")
    return int(value) if integer else float(value)


def check_fraction(argument, value):
    """A number in [0, 1), as a float: a decay rate such as momentum's beta."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{argument} must be in [0, 1); got {value!r}")
    return float(value)


def check_callbacks(callbacks):
    """``callbacks`` as a list of callables (None or () for none)."""
    if callbacks is None:
        return []
    single = callable(callbacks)
    if single or isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        hint = " (one callback: pass [callback])" if single else ""
        raise TypeError(f"callbacks must be a list of callables taking the History; "
                        f"got {callbacks!r}{hint}")
    callbacks = list(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"callbacks must be callables taking the History; got {callback!r}")
    return callbacks


def all_finite(array):
    """Whether every entry of a float array is finite, in one compiled pass when it can."""
    return bool(_all_within(array) or np.isfinite(array).all())


def _has_nan(value):
    if np.ndim(value) == 0:  # a cost
        return math.isnan(value)
    return not _all_within(value) and bool(np.isnan(value).any())


def without_nan(result, what, X, params):
    """``result`` (A[L], a cost, or a list of gradient pairs) if it holds no NaN; else a
    ValueError: NaN comes only from arithmetic that overflowed (inf − inf, 0 · inf), so it
    says how large X and the parameters are instead of returning a NaN prediction."""
    arrays = [a for pair in result for a in pair] if isinstance(result, list) else [result]
    if not any(_has_nan(a) for a in arrays):
        return result
    values = X if isinstance(X, np.ndarray) else X.matrix().data
    largest_x = float(np.max(np.abs(values))) if values.size else 0.0
    largest_p = max(float(np.max(np.abs(a))) for pair in params for a in pair)
    raise ValueError(
        f"{what} gives NaN: the arithmetic overflowed {X.dtype.name} (the largest |x| in X is "
        f"{largest_x:.3g}, the largest parameter {largest_p:.3g}); standardise X (zero mean, "
        f"unit variance per feature) and check the parameters"
    )


def _plain_array(argument, array):
    """``array`` as a plain ndarray: np.matrix (whose ``*`` multiplies matrices) and memmaps
    become views of the same memory; a masked array is refused, as dropping its mask would
    train on the values it hides."""
    if type(array) is np.ndarray:
        return array
    if isinstance(array, np.ma.MaskedArray):
        raise TypeError(f"{argument} is a masked array; fill or drop the masked entries first "
                        f"({argument}.filled(value), or select the unmasked examples)")
    try:
        return np.asarray(array)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{argument} must be a numeric 2-D array; {error}") from None


def _cast(argument, values, dtype):
    """``values`` as ``dtype``; finite values that overflow it (float64 beyond float32's
    range) get their own message rather than one about NaN."""
    if values.dtype == dtype:
        cast = values
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            cast = values.astype(dtype, copy=False)
    if all_finite(cast):
        return cast
    index = tuple(np.argwhere(~np.isfinite(cast))[0])
    where = ", ".join(str(int(i)) for i in index)
    original = values[index]
    if np.isfinite(original):
        limit = float(np.finfo(dtype).max)
        raise ValueError(f"{argument} holds {float(original)!r} at [{where}], beyond the range of "
                         f"{np.dtype(dtype).name} (±{limit:.3g}); rescale {argument} or use "
                         f"dtype='float64'")
    raise ValueError(f"{argument} holds NaN or infinite values, e.g. at [{where}]; "
                     f"clean or impute them first")


def as_matrix(argument, array, dtype):
    """``array`` as a finite 2-D array of ``dtype``, copying only when it must."""
    if (type(array) is np.ndarray and array.ndim == 2 and array.dtype == dtype
            and array.shape[1] and 0 not in array.strides and _all_within(array)):
        return array  # what every training step passes: nothing to convert or to size
    values = _plain_array(argument, array)
    if values.dtype.kind not in "biuf":
        raise TypeError(
            f"{argument} must hold real numbers; got an array of dtype {values.dtype}"
        )
    if values.ndim != 2:
        hint = ""
        if values.ndim == 1 and argument == "X":
            hint = (" (one example with n_x features: X.reshape(-1, 1); "
                    "m examples of one feature: X.reshape(1, -1))")
        elif values.ndim == 1:
            hint = f" (for a single output row use {argument}.reshape(1, -1))"
        raise ValueError(
            f"{argument} must be 2-D with one example per column; got {values.ndim}-D "
            f"shape {values.shape}{hint}"
        )
    if values.shape[1] == 0:
        raise ValueError(f"{argument} is empty: it has shape {values.shape}, with no examples (m = 0)")
    # Before any pass over the values: a cast copies (a uint8 X as float64 takes 8 times its
    # memory), and a broadcast view can claim far more entries than memory holds. An array
    # of the dtype with memory of its own needs neither (and every call passes here).
    dtype = np.dtype(dtype)
    if values.dtype != dtype or 0 in values.strides:
        _limits.check_bytes(values.size * dtype.itemsize,
                            lambda: f"{argument} of shape {values.shape} as {dtype.name}",
                            hint="pass the examples in smaller parts")
    return _cast(argument, values, dtype)


def check_X(X, n_x, dtype):
    """X as a ``(n_x, m)`` array of ``dtype``; a scipy.sparse X as fastdl._sparse's
    SparseColumns (CSC, never densified)."""
    if type(X) is not np.ndarray:
        from ._sparse import check_sparse_X, is_sparse

        if is_sparse(X):
            return check_sparse_X(X, n_x, dtype)
    X = as_matrix("X", X, dtype)
    if X.shape[0] != n_x:
        hint = ""
        if X.shape[1] == n_x:
            hint = "; fastdl takes one example per column, so pass X.T"
        raise ValueError(
            f"X has shape {X.shape} but the network expects (n_x, m) = ({n_x}, m){hint}"
        )
    return X


# The values each output can produce, and so the labels it can be trained on.
OUTPUT_RANGES = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, np.inf),
    "leaky_relu": (-np.inf, np.inf),
    "linear": (-np.inf, np.inf),
    "softmax": (0.0, 1.0),
    "exp": (0.0, np.inf),
}


def _one_hot(Y, K, dtype):
    """Integer class labels of shape (1, m) as a one-hot (K, m) matrix."""
    labels = Y[0]
    if not np.all(labels == np.round(labels)) or labels.min() < 0 or labels.max() >= K:
        bad = labels[(labels != np.round(labels)) | (labels < 0) | (labels >= K)][0]
        raise ValueError(
            f"Y holds the label {float(bad)!r}, but a softmax output with K = {K} classes takes "
            f"integer labels 0..{K - 1} of shape (1, m), or one-hot columns of shape ({K}, m)"
        )
    _limits.check_bytes(K * labels.size * np.dtype(dtype).itemsize,
                        f"Y's {labels.size} integer labels as one-hot columns of K = {K} classes")
    one_hot = np.zeros((K, labels.size), dtype=dtype)
    one_hot[labels.astype(np.intp), np.arange(labels.size)] = 1
    return one_hot


def _check_distributions(Y):
    """Each column of a softmax target must be a probability distribution (one-hot or soft)."""
    sums = Y.sum(axis=0)
    tolerance = 1e-3 if Y.dtype == np.float32 else 1e-8
    wrong = np.abs(sums - 1) > tolerance
    if wrong.any():
        j = int(np.argmax(wrong))
        raise ValueError(
            f"Y's column {j} sums to {float(sums[j])!r}; a softmax output needs one-hot columns "
            f"(or probabilities summing to 1), or integer labels of shape (1, m)"
        )


def check_Y(Y, n_y, m, output, dtype):
    """Y as a ``(n_y, m)`` array of ``dtype`` whose values the output layer can produce.

    For a softmax output, integer labels of shape (1, m) are converted to one-hot.
    """
    Y = as_matrix("Y", Y, dtype)
    if output == "softmax" and Y.shape == (1, m) and n_y > 1:
        return _one_hot(Y, n_y, dtype)
    if Y.shape != (n_y, m):
        hint = "; fastdl takes one example per column, so pass Y.T" if Y.shape == (m, n_y) else ""
        raise ValueError(f"Y has shape {Y.shape} but expected (n_y, m) = ({n_y}, {m}){hint}")
    low, high = OUTPUT_RANGES.get(output, (-np.inf, np.inf))
    outside = None if _all_within(Y, low, high) else (Y < low) | (Y > high)
    if outside is not None and outside.any():
        bad = np.argwhere(outside)[0]
        raise ValueError(
            f"Y holds {float(Y[bad[0], bad[1]])!r} at [{bad[0]}, {bad[1]}], outside the range "
            f"[{low}, {high}] of the {output!r} output layer"
            + ("; use labels 0 and 1" if output == "sigmoid" else "")
        )
    if output == "softmax":
        _check_distributions(Y)
    elif LOSS_FOR_OUTPUT.get(output if isinstance(output, str) else None) == "squared_error":
        _check_squarable(Y, output)
    return Y


def _check_squarable(Y, output):
    """Targets whose square overflows the dtype would make the squared-error cost inf (and
    every step a divergence), whatever the network predicts."""
    limit = math.sqrt(float(np.finfo(Y.dtype).max))
    if _all_within(Y, -limit, limit) or not (np.abs(Y) > limit).any():
        return
    i, j = np.argwhere(np.abs(Y) > limit)[0]
    name = output if isinstance(output, str) else output.name
    raise ValueError(
        f"Y holds {str(Y[i, j])} at [{i}, {j}]: beyond ±{limit:.3g} the squared error "
        f"(A − Y)² of the {name!r} output overflows {Y.dtype.name}; rescale Y (standardise "
        f"the targets)"
    )


def check_parameters(params, layer_dims, dtype):
    """Validated copies of ``params`` (W1, b1, ... WL, bL) as a list of (W, b) pairs."""
    if not isinstance(params, dict):
        raise TypeError(f"parameters must be a dict like {{'W1': ..., 'b1': ...}}; got {type(params).__name__}")
    L = len(layer_dims) - 1
    _limits.check_bytes(_limits.parameter_entries(layer_dims) * np.dtype(dtype).itemsize,
                        f"set_parameters' copies of the parameters of a Network({list(layer_dims)})")
    expected = {f"{name}{l}" for l in range(1, L + 1) for name in ("W", "b")}
    missing = sorted(expected - params.keys())
    unknown = sorted(set(params) - expected, key=str)
    if missing or unknown:
        raise ValueError(
            f"parameters do not match a network with L = {L} layers: "
            f"missing {missing}, unexpected {unknown}"
        )
    pairs = []
    for l in range(1, L + 1):
        shapes = {"W": (layer_dims[l], layer_dims[l - 1]), "b": (layer_dims[l], 1)}
        pair = []
        for name, shape in shapes.items():
            key = f"{name}{l}"
            value = _plain_array(key, params[key])
            if value.dtype.kind not in "iuf":
                raise TypeError(f"{key} must hold real numbers; got dtype {value.dtype}")
            if value.shape != shape:
                what = f"(n[{l}], n[{l - 1}])" if name == "W" else f"(n[{l}], 1)"
                raise ValueError(
                    f"{key} has shape {value.shape} but layer {l} expects {shape} = {what}"
                )
            pair.append(np.array(_cast(key, value, dtype), dtype=dtype, order="C", copy=True))
        pairs.append(tuple(pair))
    return pairs


def check_sample_weight(sample_weight, m, dtype):
    """Per-example weights as a C-contiguous ``(1, m)`` array of ``dtype`` (None: none).

    Each must be finite and >= 0 and their sum positive: a weight w counts its example w
    times, 0 leaves it out, so an all-zero set would leave nothing to learn from.
    """
    if sample_weight is None:
        return None
    values = _plain_array("sample_weight", sample_weight)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers; got dtype {values.dtype}")
    if values.ndim == 0:
        values = np.full(m, values)
    if values.shape not in ((m,), (1, m)):
        raise ValueError(f"sample_weight has shape {values.shape} but there are m = {m} "
                         f"examples: give one weight per example, shape ({m},)")
    values = np.ascontiguousarray(_cast("sample_weight", values.reshape(1, m), dtype))
    if (values < 0).any():
        j = int(np.argmax(values[0] < 0))
        raise ValueError(f"sample_weight[{j}] is {float(values[0, j])!r}; weights must be >= 0")
    if not values.any():
        raise ValueError("sample_weight is zero for every example: there is nothing to learn from")
    with np.errstate(over="ignore"):
        total = float(np.sum(values, dtype=np.float64))
    if not math.isfinite(total):
        raise ValueError(f"sample_weight sums to {total!r}, beyond float64's range; rescale the "
                         f"weights (only their ratios matter)")
    return values
