"""Input checks for the course-style helpers: each error names the argument (and the layer),
what was expected and what was received, before any numpy arithmetic can fail or go NaN."""
import numbers

import numpy as np

from .. import _limits
from .._validation import MAX_SIZE, check_choice, check_positive  # noqa: F401 (used as _checks.*)


def array(name, value, *, ndim=2, finite=True):
    """``value`` as an ndarray of ``ndim`` dimensions holding real numbers.

    Floating arrays keep their dtype (the course's numpy code does not cast); booleans and
    integers become float64, so that ``1 - Y`` and ``Y / AL`` mean what they say. With
    ``finite`` (the default), NaN and ±inf are refused; without it, only NaN is.
    """
    values = np.asarray(value)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got {type(value).__name__} "
                        f"of dtype {values.dtype}")
    if ndim is not None and values.ndim != ndim:
        hint = ""
        if values.ndim == 1 and ndim == 2:  # inputs hold examples in columns, labels in a row
            column = name.startswith("X") or name in ("A", "A_prev")
            hint = (f" (one example: {name}.reshape(-1, 1))" if column
                    else f" (for one row use {name}.reshape(1, -1))")
        raise ValueError(f"{name} must be a {ndim}-D array; got {values.ndim}-D shape "
                         f"{values.shape}{hint}")
    if values.ndim == 2 and values.size == 0:  # 1/m and the course's means are undefined
        raise ValueError(f"{name} is empty: it has shape {values.shape}")
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    bad = ~np.isfinite(values) if finite else np.isnan(values)
    if bad.any():
        what = "NaN or infinite values" if finite else "NaN"
        if values.ndim == 0:  # a number: no position to name
            expected = "a finite number" if finite else "a number, not NaN"
            raise ValueError(f"{name} is {float(values)!r}; expected {expected}")
        where = ", ".join(str(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} holds {what}, e.g. at [{where}]")
    return values


def layer(W_name, W, b_name, b, A_name, A, where=""):
    """W, b and the layer input A, checked against each other (``where``: " in layer l")."""
    W, b, A = array(W_name, W), array(b_name, b, ndim=None), array(A_name, A)
    if W.shape[1] != A.shape[0]:
        raise ValueError(f"{W_name} has shape {W.shape} but {A_name} has {A.shape[0]} rows{where}: "
                         f"expected {W_name} of shape ({W.shape[0]}, {A.shape[0]})")
    if b.shape != (W.shape[0], 1):
        raise ValueError(f"{b_name} has shape {b.shape} but {W_name} has {W.shape[0]} rows{where}: "
                         f"expected {b_name} of shape ({W.shape[0]}, 1)")
    return W, b, A


def same_shape(name, value, other_name, other):
    """``value`` (already an array) must have the shape of ``other``."""
    if value.shape != other.shape:
        raise ValueError(f"{name} has shape {value.shape} but {other_name} has shape {other.shape}")


def labels(name, Y, AL_name, AL):
    """Y, an array of 0/1 labels (or probabilities in [0, 1]) with the shape of AL."""
    Y = array(name, Y)
    same_shape(name, Y, AL_name, AL)
    outside = (Y < 0) | (Y > 1)
    if outside.any():
        i, j = np.argwhere(outside)[0]
        raise ValueError(f"{name} holds {float(Y[i, j])!r} at [{i}, {j}]; labels must be 0 or 1")
    return Y


def row_labels(name, Y, X_name, X):
    """Y as a (1, m) row of labels, one per column of X."""
    return labels(name, Y, f"the (1, m) row for the columns of {X_name}", np.empty((1, X.shape[1])))


def probabilities(name, AL, *, open_interval=False):
    """AL, the sigmoid output: in [0, 1], or strictly inside (0, 1) where 1/AL and 1/(1 − AL) are taken."""
    AL = array(name, AL)
    outside = (AL <= 0) | (AL >= 1) if open_interval else (AL < 0) | (AL > 1)
    if outside.any():
        i, j = np.argwhere(outside)[0]
        if open_interval and 0 <= AL[i, j] <= 1:
            raise ValueError(
                f"{name} holds exactly {float(AL[i, j])!r} at [{i}, {j}]: the sigmoid saturated, and "
                f"dAL = -(Y/AL - (1-Y)/(1-AL)) divides by zero there; the training functions of "
                f"fastdl.compat use dZ = AL - Y, which stays finite")
        raise ValueError(f"{name} holds {float(AL[i, j])!r} at [{i}, {j}]; a sigmoid output lies in [0, 1]")
    return AL


def parameter_count(parameters, what="parameters"):
    """L for a dict ``{'W1', 'b1', ..., 'WL', 'bL'}``, every key present, no other."""
    if not isinstance(parameters, dict):
        raise TypeError(f"{what} must be a dict like {{'W1': ..., 'b1': ...}}; "
                        f"got {type(parameters).__name__}")
    L = len(parameters) // 2
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    if L == 0 or set(parameters) != expected:
        missing = sorted(expected - set(parameters))
        unexpected = sorted(set(parameters) - expected, key=str)
        raise ValueError(f"{what} must hold W1, b1, ..., WL, bL; with {len(parameters)} entries "
                         f"(L = {L}) missing {missing}, unexpected {unexpected}")
    return L


def gradient_pairs(parameters, grads, L):
    """dW[l] and db[l] from ``grads``, each with the shape of W[l] and b[l]."""
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict like {{'dW1': ..., 'db1': ...}}; got {type(grads).__name__}")
    pairs = []
    for l in range(1, L + 1):
        pair = []
        for p in "Wb":
            key = f"d{p}{l}"
            if key not in grads:
                raise ValueError(f"grads has no {key}; expected dW1, db1, ..., dW{L}, db{L}")
            value = array(key, grads[key])
            same_shape(key, value, f"{p}{l}", np.asarray(parameters[f"{p}{l}"]))
            pair.append(value)
        pairs.append(pair)
    return pairs


def dimension(name, value):
    """A positive integer size (numpy integers too), no larger than the engines take."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if value > MAX_SIZE:
        raise ValueError(f"{name} is {int(value)}, more than the largest layer the engines take "
                         f"({MAX_SIZE}: their sizes are 32-bit)")
    return int(value)


def parameter_memory(dims, what):
    """Refuse, before drawing them, float64 parameters for ``dims`` that would not fit:
    W[l] and b[l] of every layer, and the draw each W[l] is scaled from."""
    entries = sum(n * (n_prev + 1) for n_prev, n in zip(dims, dims[1:]))
    largest = max(n * n_prev for n_prev, n in zip(dims, dims[1:]))
    _limits.check_bytes(8 * (entries + largest), f"{what}({dims})", hint="use smaller layers")


def sizes(name, values, length=None):
    """A list of positive integer layer sizes (exactly ``length`` of them, if given)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a list of layer sizes; got {values!r}")
    values = list(values)
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must have {length} sizes; got {len(values)}: {values}")
    if len(values) < 2:
        raise ValueError(f"{name} needs the input size and at least one layer; got {values}")
    return [dimension(f"{name}[{i}]", n) for i, n in enumerate(values)]


def iterations(num_iterations):
    """The number of gradient-descent iterations, a positive integer."""
    return check_positive("num_iterations", num_iterations, integer=True)
