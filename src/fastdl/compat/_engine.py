"""The course's training loops, run as one ``Network.fit`` call in fastdl's engine.

The course writes ``for i in range(num_iterations)``: forward, cost, backward, update,
recording (and printing) the cost every so often. ``fit`` runs the same full-batch gradient
descent, and a callback sees the History after every epoch, whose last cost is the
full-batch cost *before* that epoch's update: exactly the course's cost at iteration i.
So one ``fit`` call gives the course's parameters and costs, and whatever makes ``fit``
faster (the compiled engine, a dual first layer) speeds these functions up unchanged.
"""
import numpy as np

from ..network import Network
from . import _checks


class CostLog:
    """A ``fit`` callback: the course's cost record, and its "Cost after iteration" lines.

    Parameters
    ----------
    record_every : int
        Costs of iterations 0, ``record_every``, 2·``record_every``, ... go into ``costs``.
    print_every : int or None
        Print every so many iterations; None prints nothing.
    line : str
        The printed line, formatted with ``i`` and ``cost``.
    last : int or None
        Also print at this iteration (the course's deep models print the final one).
    """

    def __init__(self, record_every, print_every, line, last=None):
        self.record_every, self.print_every, self.line, self.last = record_every, print_every, line, last
        self.costs = []

    def __call__(self, history):
        i, cost = len(history.costs) - 1, history.costs[-1]
        if i % self.record_every == 0:
            self.costs.append(cost)
        if self.print_every and (i % self.print_every == 0 or i == self.last):
            print(self.line.format(i=i, cost=cost))


class KeepBefore:
    """A ``fit`` callback that copies the parameters once, when they are those that
    iteration ``iteration`` starts from (its pre-update parameters): one copy per run,
    not one per iteration."""

    def __init__(self, net, iteration):
        self.net, self.iteration = net, iteration
        self.parameters = net.parameters if iteration == 0 else None

    def __call__(self, history):
        # After epoch i the parameters are those iteration i + 1 starts from.
        if len(history.costs) == self.iteration:
            self.parameters = self.net.parameters


def network_for(parameters, hidden, output="sigmoid"):
    """A float64 network shaped by ``parameters`` (W1, b1, ...), holding copies of them.

    ``set_parameters`` checks every shape against the next (``W2 has shape (7, 21) but
    layer 2 expects (7, 20)``) and refuses NaN/inf. float64, because the course's numpy
    code computes in float64: its parameters are float64 and numpy promotes to that.
    """
    L = _checks.parameter_count(parameters)
    weights = [_checks.array(f"W{l}", parameters[f"W{l}"]) for l in range(1, L + 1)]
    layer_dims = [weights[0].shape[1]] + [W.shape[0] for W in weights]
    # init='small' is overwritten at once; it is the cheapest scheme to draw.
    net = Network(layer_dims, hidden=hidden, output=output, init="small", dtype="float64")
    net.set_parameters(parameters)
    return net


def fit(net, X, Y, learning_rate, num_iterations, callbacks):
    """``num_iterations`` full-batch gradient-descent iterations; returns the History.

    Divergence (a non-finite or exploding cost) stops the run early with a
    :class:`fastdl.DivergenceWarning`, keeping the last good parameters.
    """
    return net.fit(X, Y, learning_rate=learning_rate, epochs=_checks.iterations(num_iterations),
                   callbacks=callbacks)


def train(parameters, X, Y, hidden, learning_rate, num_iterations, log):
    """The parameters after training from ``parameters``, with ``log`` watching every iteration."""
    net = network_for(parameters, hidden)
    fit(net, X, Y, learning_rate, num_iterations, [log])
    return net.parameters


def seeded_randn(seed):
    """Seed numpy's legacy global generator, as the course does, and return its ``randn``."""
    np.random.seed(seed)
    return np.random.randn
