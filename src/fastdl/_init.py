"""Weight initialisation schemes: W[l] = randn(n[l], n[l−1]) · scale, b[l] = 0.

All-zero weights make every unit of a layer compute the same thing forever (the
symmetry problem), so ``"zeros"`` is allowed only for a single-layer network, where
there is no hidden layer to be symmetric.
"""
import numpy as np

from ._validation import check_choice

SCALES = {
    "small": lambda n_prev, n: 0.01,  # the seed's randn * 0.01
    "he": lambda n_prev, n: np.sqrt(2.0 / n_prev),  # for ReLU layers
    "xavier": lambda n_prev, n: np.sqrt(2.0 / (n_prev + n)),  # Glorot, for tanh layers
    "scaled": lambda n_prev, n: 1.0 / np.sqrt(n_prev),
    "zeros": lambda n_prev, n: 0.0,
}

SCHEMES = sorted(SCALES)


def initialize_parameters(layer_dims, init, dtype, seed):
    """A list of L pairs (W, b), W of shape (n[l], n[l−1]) and b of shape (n[l], 1).

    The draws are made in float64 from ``numpy.random.default_rng(seed)`` and then cast,
    so float32 and float64 networks with one seed start from the same weights.
    """
    check_choice("init", init, SCHEMES)
    L = len(layer_dims) - 1
    if init == "zeros" and L > 1:
        raise ValueError(
            f"init='zeros' cannot train a network with hidden layers (L = {L}): every unit of "
            f"a layer would stay identical; use one of {[s for s in SCHEMES if s != 'zeros']}"
        )
    rng = np.random.default_rng(seed)
    params = []
    for l in range(1, L + 1):
        n_prev, n = layer_dims[l - 1], layer_dims[l]
        W = rng.standard_normal((n, n_prev)) * SCALES[init](n_prev, n)
        params.append((W.astype(dtype), np.zeros((n, 1), dtype=dtype)))
    return params
