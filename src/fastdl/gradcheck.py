"""Gradient checking: backpropagation against two-sided finite differences."""
import numpy as np


def gradient_check(net, X, Y, epsilon=1e-7, *, l2=0.0, dropout_masks=None):
    """The relative difference between backprop and finite-difference gradients.

    .. math:: \\frac{\\lVert g - g_{approx} \\rVert}{\\lVert g \\rVert + \\lVert g_{approx} \\rVert},
              \\quad g_{approx,i} = \\frac{J(\\theta + \\varepsilon e_i) - J(\\theta - \\varepsilon e_i)}{2\\varepsilon}

    over every entry of every W[l] and b[l]. Values below about 1e−7 mean backprop is
    right. The check runs on a float64 copy of ``net`` with the same backend, whatever
    ``net.dtype`` is, because a difference quotient with ε = 1e−7 means nothing in float32.
    ``net`` itself is not changed. ``l2`` and ``dropout_masks`` (a fixed dropout
    pattern, see :meth:`Network.cost`) check the regularised cost's gradients.
    """
    from .network import Network
    from ._validation import check_non_negative, check_positive

    epsilon = check_positive("epsilon", epsilon)
    probe = Network(net.layer_dims, net.activations, leaky_slope=net.leaky_slope,
                    dtype="float64", backend=net.backend)
    probe.set_parameters(net.parameters)
    X, Y = probe._check_XY(X, Y)
    options = {}
    if l2:
        options["l2"] = check_non_negative("l2", l2)
    if dropout_masks is not None:
        options["masks"] = probe._masks(dropout_masks, X.shape[1])
    _, analytic = probe._engine.gradients(probe._params, X, Y, **options)
    g, g_approx = [], []
    for theta, d_theta in zip(_flat(probe._params), _flat(analytic)):
        g.append(d_theta.ravel())
        g_approx.append(_difference_quotients(probe, theta, X, Y, epsilon, options))
    g, g_approx = np.concatenate(g), np.concatenate(g_approx)
    denominator = np.linalg.norm(g) + np.linalg.norm(g_approx)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(g - g_approx) / denominator)


def _flat(pairs):
    return [array for pair in pairs for array in pair]


def _difference_quotients(probe, theta, X, Y, epsilon, options):
    """(J(θ + ε) − J(θ − ε)) / 2ε for each entry of ``theta``, perturbed in place."""
    def cost(params, X, Y):
        return probe._engine.cost(params, X, Y, **options)

    flat = theta.reshape(-1)
    approx = np.empty(flat.size)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + epsilon
        J_plus = cost(probe._params, X, Y)
        flat[i] = original - epsilon
        J_minus = cost(probe._params, X, Y)
        flat[i] = original
        approx[i] = (J_plus - J_minus) / (2 * epsilon)
    return approx
