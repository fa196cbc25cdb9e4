"""Forward and backward propagation through an engine, one call each.

Engine-level calls (``net._engine``) leave out the public API's input validation, which
on the tiny networks would cost more than the math; ``bench_training`` times the public
calls too. The engines have no backward-only call (the compiled one keeps the forward
buffers between the passes), so the backward pass is timed as ``gradients``: forward,
cost and backward; subtract ``Forward`` for the backward share.
"""
from .common import ASV_NETWORKS, BACKENDS, DTYPES, TIMER, make_network, network_data


class EngineCall:
    """The shared grid (backend × dtype × network) and set-up: an engine with warm buffers."""

    params = [BACKENDS, DTYPES, ASV_NETWORKS]
    param_names = ["backend", "dtype", "network"]
    timer = TIMER

    def setup(self, backend, dtype, network):
        layer_dims, self.X, self.Y = network_data(network, dtype)
        net = make_network(layer_dims, dtype, backend)
        self.engine, self.params = net._engine, net._params
        self.call()  # the compiled engine sizes its buffers once, before timing

    def call(self):
        raise NotImplementedError


class Forward(EngineCall):
    """A[L] for a batch: every Z[l] = W[l] A[l−1] + b[l] and A[l] = g(Z[l])."""

    def call(self):
        self.engine.forward(self.params, self.X)

    def time_forward(self, backend, dtype, network):
        self.call()


class Gradients(EngineCall):
    """J and every dW[l], db[l]: forward, cost, then backward propagation."""

    def call(self):
        self.engine.gradients(self.params, self.X, self.Y)

    def time_gradients(self, backend, dtype, network):
        self.call()
