"""Forward and backward propagation through an engine, one call each.

Engine-level calls (``net._engine``) leave out the public API's input validation, which
on the tiny networks would cost more than the math; ``bench_training`` times the public
calls too. The engines have no backward-only call (the compiled one keeps the forward
buffers between the passes), so the backward pass is timed as ``gradients``: forward,
cost and backward; subtract ``Forward`` for the backward share.
"""
from .common import EngineCall


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
