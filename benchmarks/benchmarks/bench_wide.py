"""Wide and sparse inputs (the asv side of ``compare.py --suite wide``): the first layer in
dual form against the primal one on the notes' cat shape, and epochs on sparse input."""
import numpy as np

import fastdl

from .common import BACKENDS, TIMER, make_images, require_backend


class DualFit:
    """``fit`` of ``[12288, 20, 7, 5, 1]``, m = 209, 50 full-batch iterations, each form."""

    params = [BACKENDS, ["dual", "primal"]]
    param_names = ["backend", "first_layer"]
    timer = TIMER

    def setup(self, backend, first_layer):
        require_backend(backend)
        self.X, self.Y = make_images(12288, 209)
        self.start = fastdl.Network([12288, 20, 7, 5, 1], init="scaled", seed=1).parameters

    def time_fit(self, backend, first_layer):
        net = fastdl.Network([12288, 20, 7, 5, 1], backend=backend)
        net.set_parameters(self.start)
        net.fit(self.X, self.Y, learning_rate=0.0075, epochs=50, first_layer=first_layer)


class SparseEpoch:
    """One epoch on a TF-IDF-like sparse X (m = 4,000, n_x = 20,000, 0.2% non-zeros),
    ``[20000, 64, 1]``, batches of 200, by optimizer."""

    params = [BACKENDS, ["gd", "adam"]]
    param_names = ["backend", "optimizer"]
    timer = TIMER

    def setup(self, backend, optimizer):
        import scipy.sparse

        require_backend(backend)
        rng = np.random.default_rng(0)
        self.X = scipy.sparse.random(20_000, 4_000, density=0.002, format="csc", random_state=rng)
        self.Y = (rng.random((1, 4_000)) > 0.5).astype(float)
        self.net = fastdl.Network([20_000, 64, 1], seed=0, backend=backend)
        self.options = dict(learning_rate=0.01, epochs=1, batch_size=200, optimizer=optimizer,
                            first_layer="primal")
        self.net.fit(self.X, self.Y, **self.options)

    def time_epoch(self, backend, optimizer):
        self.net.fit(self.X, self.Y, **self.options)
