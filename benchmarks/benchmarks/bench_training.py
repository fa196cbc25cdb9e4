"""Whole training iterations, prediction, the memory of a training run, and its quality.

``Step`` times one full-batch gradient-descent iteration twice: through the engine (what
``fit`` runs per batch) and through the public ``Network.step`` (validation included),
so the API's overhead shows on its own. ``Epoch`` times a mini-batch epoch of ``fit``
by each optimizer, shuffling and the last, smaller batch included. ``Convergence`` tracks the final
cost and accuracy of fixed training runs, so a change that is faster but learns worse
shows up next to the speed-up.
"""
import numpy as np

from fastdl import datasets
from fastdl._optimizers import GradientDescent

from .common import (BACKENDS, DTYPES, LEARNING_RATE, TIMER, EngineCall,
                     make_network, measure_training_memory, network_data)


class Step(EngineCall):
    """One iteration: forward, cost, backward and the W := W − α dW update."""

    optimizer = GradientDescent(LEARNING_RATE)

    def call(self):
        self.engine.step(self.params, self.X, self.Y, self.optimizer, None)

    def time_engine_step(self, backend, dtype, network):
        self.call()

    def time_network_step(self, backend, dtype, network):
        self.net.step(self.X, self.Y, LEARNING_RATE)


class Epoch:
    """One epoch of mini-batch training through ``fit``: a shuffle, batches of 256 and a
    last smaller one (4096 = 16 · 256, so planar's 400 gives 256 + 144), by each optimizer."""

    params = [BACKENDS, DTYPES, ["planar", "mnist"], ["gd", "momentum", "adam"]]
    param_names = ["backend", "dtype", "network", "optimizer"]
    timer = TIMER
    batch_size = 256

    def setup(self, backend, dtype, network, optimizer):
        layer_dims, self.X, self.Y = network_data(network, dtype)
        self.net = make_network(layer_dims, dtype, backend)
        rate = LEARNING_RATE if optimizer == "gd" else 1e-3
        self.options = dict(learning_rate=rate, epochs=1, batch_size=self.batch_size,
                            optimizer=optimizer)
        self.net.fit(self.X, self.Y, **self.options)  # buffers allocated before timing

    def time_epoch(self, backend, dtype, network, optimizer):
        self.net.fit(self.X, self.Y, **self.options)


class DropoutEpoch:
    """One epoch of ``fit`` with and without inverted dropout ([2, 16, 8, 1], planar, batches
    of 32): the compiled engine draws the masks inside its call, so dropout should cost
    little (issue 11's target: at most 1.3x the epoch without)."""

    params = [BACKENDS, [1.0, 0.8]]
    param_names = ["backend", "keep_prob"]
    timer = TIMER

    def setup(self, backend, keep_prob):
        self.X, self.Y = datasets.make_planar(m=400)
        self.net = make_network([2, 16, 8, 1], "float64", backend)
        self.options = dict(learning_rate=0.05, epochs=1, batch_size=32, keep_prob=keep_prob)
        self.net.fit(self.X, self.Y, **self.options)

    def time_epoch(self, backend, keep_prob):
        self.net.fit(self.X, self.Y, **self.options)


class Predict(EngineCall):
    """0/1 labels through the public ``Network.predict`` (validation, forward, threshold)."""

    def call(self):
        self.net.predict(self.X)

    def time_predict(self, backend, dtype, network):
        self.call()


class TrainingMemory:
    """The memory a short ``fit`` needs: asv's peak RSS of the process, and the peak of
    array memory over the floor the network needs (parameters, gradients, one batch of
    activations; see ``common.measure_training_memory``)."""

    params = [BACKENDS, DTYPES, ["course", "mnist"]]
    param_names = ["backend", "dtype", "network"]
    timer = TIMER
    epochs = 3

    def setup(self, backend, dtype, network):
        self.layer_dims, self.X, self.Y = network_data(network, dtype)
        self.net = make_network(self.layer_dims, dtype, backend)

    def peakmem_fit(self, backend, dtype, network):
        self.net.fit(self.X, self.Y, learning_rate=LEARNING_RATE, epochs=self.epochs)

    def track_peak_over_minimum(self, backend, dtype, network):
        return measure_training_memory(self.layer_dims, self.X, self.Y, dtype, backend,
                                       epochs=self.epochs).ratio

    track_peak_over_minimum.unit = "ratio"


# name -> (data, layer_dims, hidden, learning_rate, epochs): the notes' settings.
PROBLEMS = {
    "planar": (lambda: datasets.make_planar(400, seed=1), [2, 4, 1], "tanh", 1.2, 2000),
    "linear": (lambda: datasets.make_linear(569, 30, seed=0), [30, 1], "relu", 0.5, 300),
}


class Convergence:
    """Final training cost and accuracy of fixed, seeded runs (quality beside speed)."""

    params = [BACKENDS, DTYPES, list(PROBLEMS)]
    param_names = ["backend", "dtype", "problem"]

    def setup(self, backend, dtype, problem):
        data, layer_dims, hidden, learning_rate, epochs = PROBLEMS[problem]
        X, Y = (np.asarray(a, dtype=dtype) for a in data())
        self.net = make_network(layer_dims, dtype, backend, hidden=hidden, seed=3)
        self.net.fit(X, Y, learning_rate=learning_rate, epochs=epochs)
        self.final_cost = float(self.net.cost(X, Y))
        self.accuracy = self.net.accuracy(X, Y)

    def track_final_cost(self, backend, dtype, problem):
        return self.final_cost

    track_final_cost.unit = "cost"

    def track_accuracy(self, backend, dtype, problem):
        return self.accuracy

    track_accuracy.unit = "fraction"
