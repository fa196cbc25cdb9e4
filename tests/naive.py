"""Slow, obviously right reference implementations that the fast paths must equal.

Everything here is written with plain Python loops over units and examples and
Python floats (float64), straight from the formulas of the notes, so it can be read
and checked by eye. It is only fast enough for the tiny networks of the tests.

Conventions are the library's: one example per column, ``X`` is ``(n_x, m)``,
``W[l]`` is ``(n[l], n[l-1])``, ``b[l]`` is ``(n[l], 1)``. Parameters are passed as
the dict that ``Network.parameters`` returns, ``{"W1": ..., "b1": ..., ...}``.
"""
import math

import numpy as np

NAMES = ("leaky_relu", "linear", "relu", "sigmoid", "tanh")

# Y values each output layer can produce (and so be trained on).
LABEL_KINDS = {
    "sigmoid": "binary",
    "tanh": "unit_interval",
    "relu": "non_negative",
    "leaky_relu": "real",
    "linear": "real",
    "exp": "non_negative",  # a count's mean; output layers only
}


# -- activations, one number at a time ------------------------------------------------------
def g(name, z, slope=0.01):
    """The activation ``name`` at the number ``z``."""
    if name == "sigmoid":
        # 1 / (1 + e^-z), written with e^-|z| so that math.exp never overflows.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return z if z > 0 else 0.0
    if name == "leaky_relu":
        return z if z > 0 else slope * z
    if name == "linear":
        return z
    if name == "exp":
        return math.exp(z)
    raise ValueError(f"unknown activation {name!r}")


def g_prime(name, z, slope=0.01):
    """The derivative of the activation ``name`` at the number ``z``."""
    if name == "sigmoid":
        s = g("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        t = math.tanh(z)
        return 1.0 - t * t
    if name == "relu":
        return 1.0 if z > 0 else 0.0
    if name == "leaky_relu":
        return 1.0 if z > 0 else slope
    if name == "linear":
        return 1.0
    if name == "exp":
        return math.exp(z)
    raise ValueError(f"unknown activation {name!r}")


# -- helpers --------------------------------------------------------------------------------
def _rows(array):
    """A 2-D array as a list of rows of Python floats (float32 values convert exactly)."""
    return [[float(x) for x in row] for row in np.asarray(array)]


def _zeros(n, m):
    return [[0.0] * m for _ in range(n)]


def _layers(params):
    L = len(params) // 2
    return [(_rows(params[f"W{l}"]), _rows(params[f"b{l}"])) for l in range(1, L + 1)]


# -- forward, cost, backward ------------------------------------------------------------------
def forward_layers(params, X, activations, slope=0.01):
    """``(Zs, As)``: Z[1..L] and A[0..L] as nested lists, by loops over units and examples.

    Z[l][j][i] = b[l][j] + Σ_k W[l][j][k] · A[l-1][k][i],   A[l][j][i] = g(Z[l][j][i]).
    """
    A = _rows(X)
    Zs, As = [], [A]
    for (W, b), name in zip(_layers(params), activations):
        n, n_prev, m = len(W), len(W[0]), len(A[0])
        Z = _zeros(n, m)
        for j in range(n):
            for i in range(m):
                total = b[j][0]
                for k in range(n_prev):
                    total += W[j][k] * A[k][i]
                Z[j][i] = total
        A = [[g(name, Z[j][i], slope) for i in range(m)] for j in range(n)]
        Zs.append(Z)
        As.append(A)
    return Zs, As


def forward(params, X, activations, slope=0.01):
    """A[L] as a float64 array of shape ``(n[L], m)``."""
    return np.array(forward_layers(params, X, activations, slope)[1][-1])


def _weights(weights, m):
    """Per-example weights as Python floats (all 1 when there are none)."""
    return [1.0] * m if weights is None else [float(w) for w in np.ravel(weights)]


def cost(params, X, Y, activations, slope=0.01, weights=None):
    """J, summed over output units and averaged over the m examples.

    Sigmoid output: cross-entropy  −(1/m) Σ [y log a + (1 − y) log(1 − a)].
    Exp output: half the Poisson deviance  (1/m) Σ [y log(y/a) − y + a].
    Any other output: squared error  (1/2m) Σ (a − y)².
    With per-example weights w: Σ_i w_i (loss of example i) / Σ_i w_i.
    """
    Zs, As = forward_layers(params, X, activations, slope)
    Z, A = Zs[-1], As[-1]
    Y = _rows(Y)
    n, m = len(Y), len(Y[0])
    w = _weights(weights, m)
    total = 0.0
    for j in range(n):
        for i in range(m):
            a, y, z = A[j][i], Y[j][i], Z[j][i]
            if activations[-1] == "sigmoid":
                # log a = −log(1 + e^−z) and log(1 − a) = −log(1 + e^z): the same numbers,
                # but without the cancellation of 1 − a when a rounds to nearly 1.
                loss = y * _softplus(-z) + (1.0 - y) * _softplus(z)
            elif activations[-1] == "exp":
                loss = (y * math.log(y / a) if y > 0 else 0.0) - y + a
            else:
                loss = 0.5 * (a - y) ** 2
            total += w[i] * loss
    return total / sum(w)


def _softplus(t):
    """log(1 + e^t), accurate for every t."""
    return t + math.log1p(math.exp(-t)) if t > 0 else math.log1p(math.exp(t))


def gradients(params, X, Y, activations, slope=0.01, weights=None):
    """``{"dW1", "db1", ..., "dWL", "dbL"}`` of :func:`cost`, by backpropagation in loops.

    dZ[L] = A − Y for a sigmoid (cross-entropy) or exp (Poisson) output, else
    (A − Y) · g'(Z[L]), times the example's weight;
    dW[l][j][k] = (1/m) Σ_i dZ[l][j][i] · A[l-1][k][i];  db[l][j] = (1/m) Σ_i dZ[l][j][i];
    dA[l-1][k][i] = Σ_j W[l][j][k] · dZ[l][j][i];  dZ[l-1] = dA[l-1] · g'(Z[l-1]);
    with weights, Σ_i w_i stands for m.
    """
    layers = _layers(params)
    Zs, As = forward_layers(params, X, activations, slope)
    Y = _rows(Y)
    L = len(layers)
    n_L, m = len(Y), len(Y[0])
    w = _weights(weights, m)
    dZ = _zeros(n_L, m)
    for j in range(n_L):
        for i in range(m):
            a, y, z = As[L][j][i], Y[j][i], Zs[L - 1][j][i]
            if activations[-1] in ("sigmoid", "exp"):
                dZ[j][i] = w[i] * (a - y)
            else:
                dZ[j][i] = w[i] * (a - y) * g_prime(activations[-1], z, slope)
    m = sum(w)  # what the sums below are divided by
    grads = {}
    for l in range(L, 0, -1):
        W = layers[l - 1][0]
        A_prev = As[l - 1]
        n, n_prev = len(W), len(W[0])
        dW, db = _zeros(n, n_prev), _zeros(n, 1)
        examples = range(len(dZ[0]))
        for j in range(n):
            for k in range(n_prev):
                dW[j][k] = sum(dZ[j][i] * A_prev[k][i] for i in examples) / m
            db[j][0] = sum(dZ[j][i] for i in examples) / m
        grads[f"dW{l}"], grads[f"db{l}"] = np.array(dW), np.array(db)
        if l > 1:
            dZ_prev = _zeros(n_prev, len(dZ[0]))
            for k in range(n_prev):
                for i in examples:
                    dA = sum(W[j][k] * dZ[j][i] for j in range(n))
                    dZ_prev[k][i] = dA * g_prime(activations[l - 2], Zs[l - 2][k][i], slope)
            dZ = dZ_prev
    return grads


# -- data for comparing against the reference -------------------------------------------------
def random_labels(rng, output, shape, dtype=np.float64):
    """Y values that the ``output`` layer can produce."""
    kind = LABEL_KINDS[output]
    if kind == "binary":
        Y = rng.integers(0, 2, size=shape)
    elif kind == "unit_interval":
        Y = rng.uniform(-0.9, 0.9, size=shape)
    elif kind == "non_negative":
        Y = rng.uniform(0.0, 2.0, size=shape)
    else:
        Y = rng.normal(size=shape)
    return Y.astype(dtype)


def random_case(rng, layer_dims, activations, m, *, dtype=np.float64, margin=1e-3, slope=0.01):
    """``(params, X, Y)`` with every Z[l] at least ``margin`` away from 0.

    Keeping Z off 0 keeps ReLU and leaky ReLU off their kink, where neither finite
    differences nor a float32/float64 comparison can agree; at least a third of the
    entries of every Z[l] are positive, so ReLU layers pass gradient. Weights are drawn with
    scale 1.5/sqrt(n[l-1]) so that units are neither dead nor saturated.
    """
    for _ in range(1000):
        params = {}
        for l in range(1, len(layer_dims)):
            n_prev, n = layer_dims[l - 1], layer_dims[l]
            params[f"W{l}"] = (rng.standard_normal((n, n_prev)) * 1.5 / math.sqrt(n_prev)).astype(dtype)
            params[f"b{l}"] = (rng.standard_normal((n, 1)) * 0.5).astype(dtype)
        X = rng.standard_normal((layer_dims[0], m)).astype(dtype)
        Zs, _ = forward_layers(params, X, activations, slope)
        away_from_kink = min(abs(z) for Z in Zs for row in Z for z in row) > margin
        # At least a third of each layer's units are on the side of 0 where ReLU and
        # leaky ReLU pass gradient, so gradients are not (nearly) all zero.
        active = all(sum(z > 0 for row in Z for z in row) >= len(Z) * m / 3 for Z in Zs)
        if away_from_kink and active:
            break
    else:  # pragma: no cover - would need an absurdly unlucky generator
        raise RuntimeError("could not draw parameters with every Z away from 0")
    Y = random_labels(rng, activations[-1], (layer_dims[-1], m), dtype)
    return params, X, Y


def min_abs_z(params, X, activations, slope=0.01):
    """The smallest |Z[l]| over every layer, unit and example."""
    Zs, _ = forward_layers(params, X, activations, slope)
    return min(abs(z) for Z in Zs for row in Z for z in row)
