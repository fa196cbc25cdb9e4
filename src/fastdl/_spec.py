"""The fixed description of a network that every engine is built from."""
from dataclasses import dataclass

import numpy as np

from ._limits import check_network
from ._losses import LOSS_FOR_OUTPUT


@dataclass(frozen=True)
class NetworkSpec:
    """What an engine needs to know: sizes, activations, dtype; never the parameters.

    Attributes
    ----------
    layer_dims : tuple of int
        ``(n_x, n[1], ..., n[L])``.
    activations : tuple
        One per layer, ``activations[l - 1]`` for layer l: a built-in name or a
        :class:`fastdl.jit.CustomActivation`.
    leaky_slope : float
        The slope of leaky ReLU for z < 0.
    dtype : numpy.dtype
        float32 or float64, for parameters, activations and gradients alike.

    A spec whose parameters would not fit in memory is refused as it is made
    (fastdl._limits), so no network ever starts allocating them.
    """

    layer_dims: tuple
    activations: tuple
    leaky_slope: float
    dtype: np.dtype

    def __post_init__(self):
        check_network(self)

    @property
    def L(self):
        return len(self.layer_dims) - 1

    @property
    def output(self):
        return self.activations[-1]

    @property
    def loss(self):
        # A custom output activation is trained with the squared error.
        return LOSS_FOR_OUTPUT.get(self.output, "squared_error")
