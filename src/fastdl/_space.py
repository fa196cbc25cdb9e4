"""Search spaces for :func:`fastdl.search`: the distributions, the default space, sampling
and grids.

A space maps a hyperparameter to its choices: a ``list`` (pick one), a distribution
(draw one) or any other value (fixed, e.g. a tuple of hidden sizes). The sample for
trial ``i`` is drawn from a generator seeded with ``(seed, i)`` alone, so it does not
depend on which trials ran before it, on n_jobs or on the machine.
"""
import itertools
import math
import numbers
from dataclasses import dataclass

import numpy as np

# The keywords a setting may hold: Network's, fit's, and hidden_sizes (n_x and the output
# size come from the data). fit's reporting and stopping keywords stay the search's own.
NETWORK_KEYS = ("backend", "dtype", "hidden", "init", "layer_dims", "leaky_slope", "output", "seed")
FIT_KEYS = ("batch_size", "beta", "beta1", "beta2", "decay_every", "epochs", "epsilon",
            "keep_prob", "l2", "learning_rate", "lr_decay", "optimizer", "patience",
            "restore_best", "shuffle")
KEYS = tuple(sorted(NETWORK_KEYS + FIT_KEYS + ("hidden_sizes",)))


def _real(argument, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{argument} must be a finite number; got {value!r}")
    return value


def _bounds(name, low, high, *, positive=False):
    low, high = _real(f"{name}: low", low), _real(f"{name}: high", high)
    if positive and low <= 0:
        raise ValueError(f"{name} needs 0 < low < high (it draws log-uniformly); got low={low!r}")
    if not low < high:
        raise ValueError(f"{name} needs low < high; got low={low!r}, high={high!r}")


@dataclass(frozen=True)
class Distribution:
    """A range to draw a hyperparameter from; subclasses say how."""

    low: float
    high: float

    def __post_init__(self):
        self._check()

    def _check(self):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__.lower()}({self.low!r}, {self.high!r})"


class LogUniform(Distribution):
    """Uniform in log space: every decade of [low, high) is as likely, as learning rates want."""

    def _check(self):
        _bounds("loguniform", self.low, self.high, positive=True)

    def sample(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


class Uniform(Distribution):
    """Uniform on [low, high)."""

    def _check(self):
        _bounds("uniform", self.low, self.high)

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))


class RandInt(Distribution):
    """A whole number in [low, high), high excluded as in numpy and scipy."""

    def _check(self):
        for name, value in (("low", self.low), ("high", self.high)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"randint: {name} must be an integer; got {value!r}")
        _bounds("randint", self.low, self.high)

    def sample(self, rng):
        return int(rng.integers(self.low, self.high))


def loguniform(low, high):
    """Draw from ``low`` to ``high`` uniformly in log space (``low`` > 0), e.g. a learning rate."""
    return LogUniform(low, high)


def uniform(low, high):
    """Draw uniformly from [``low``, ``high``)."""
    return Uniform(low, high)


def randint(low, high):
    """Draw a whole number from [``low``, ``high``) (``high`` excluded)."""
    return RandInt(low, high)


# Suits small tabular data (hundreds to tens of thousands of rows, tens of features):
# one or two narrow hidden layers, Adam on mini-batches, and mild regularisation.
DEFAULT_SPACE = {
    "hidden_sizes": [(8,), (16,), (32,), (64,), (16, 8), (32, 16), (64, 32)],
    "hidden": ["relu", "tanh"],
    "optimizer": "adam",
    "learning_rate": LogUniform(1e-4, 1e-1),
    "batch_size": [32, 64, 128],
    "l2": LogUniform(1e-4, 1.0),
    "keep_prob": [1.0, 0.9, 0.8],
}


def check_keys(where, setting, *, halving=False):
    """Refuse keys that are not Network or fit keywords (or that halving owns)."""
    if not isinstance(setting, dict):
        raise TypeError(f"{where} must be a dict of hyperparameter -> value; got {type(setting).__name__}")
    unknown = sorted(set(setting) - set(KEYS), key=str)
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}; expected keys among {list(KEYS)}")
    if "layer_dims" in setting and "hidden_sizes" in setting:
        raise ValueError(f"{where} gives both layer_dims and hidden_sizes; give one")
    if halving and "epochs" in setting:
        raise ValueError(f"{where} sets epochs, but method='halving' uses epochs as its budget; "
                         f"pass search(epochs=...) instead")


def check_space(space, *, halving=False):
    """The space as a dict, with every list non-empty."""
    check_keys("space", space, halving=halving)
    for key, choices in space.items():
        if isinstance(choices, list) and not choices:
            raise ValueError(f"space[{key!r}] is an empty list; give at least one choice")
    return dict(space)


def trial_rng(seed, index):
    """The generator for trial ``index``: its own stream, whatever else runs."""
    return np.random.default_rng([seed, index, 0])


def trial_seed(seed, index):
    """The network seed of trial ``index``, from a stream apart from the sample's draws."""
    return int(np.random.SeedSequence([seed, index, 1]).generate_state(1)[0])


def sample(space, seed, index):
    """Setting ``index`` of a random search: each key drawn in sorted order, so the order
    of the dict does not change the draws."""
    rng = trial_rng(seed, index)
    setting = {}
    for key in sorted(space):
        choices = space[key]
        if isinstance(choices, list):
            setting[key] = choices[int(rng.integers(len(choices)))]
        elif isinstance(choices, Distribution):
            setting[key] = choices.sample(rng)
        else:
            setting[key] = choices
    return setting


def grid(space):
    """Every combination of the list-valued choices (fixed values stay as they are)."""
    drawn = sorted(key for key, choices in space.items() if isinstance(choices, Distribution))
    if drawn:
        raise ValueError(f"method='grid' needs lists of choices, but {drawn} are distributions "
                         f"({', '.join(repr(space[key]) for key in drawn)}); list the values to "
                         f"try, or use method='random'")
    keys = list(space)
    axes = [choices if isinstance(choices, list) else [choices] for choices in space.values()]
    return [dict(zip(keys, values)) for values in itertools.product(*axes)]
