"""Search spaces: the distributions, per-trial sampling, grids and the checks on keys."""
import itertools

import numpy as np
import pytest

import fastdl
from fastdl import _space

SPACE = {
    "learning_rate": fastdl.search.loguniform(1e-4, 1),
    "keep_prob": fastdl.search.uniform(0.5, 1.0),
    "batch_size": fastdl.search.randint(8, 12),
    "hidden_sizes": [(4,), (8, 4), 16],
    "optimizer": "adam",
    "l2": [0.0, 0.1],
}


# -- distributions ------------------------------------------------------------------------------
def test_the_distributions_hang_on_search():
    assert fastdl.search.loguniform(1e-4, 1) == _space.LogUniform(1e-4, 1)
    assert fastdl.search.uniform(0, 1) == _space.Uniform(0, 1)
    assert fastdl.search.randint(1, 5) == _space.RandInt(1, 5)
    assert fastdl.search.DEFAULT_SPACE["optimizer"] == "adam"
    with pytest.raises(TypeError):
        fastdl.search.DEFAULT_SPACE["optimizer"] = "gd"  # read-only: a search never changes it


@pytest.mark.parametrize("distribution, text", [
    (fastdl.search.loguniform(1e-4, 1), "loguniform(0.0001, 1)"),
    (fastdl.search.uniform(0.5, 1.0), "uniform(0.5, 1.0)"),
    (fastdl.search.randint(2, 9), "randint(2, 9)"),
])
def test_repr(distribution, text):
    assert repr(distribution) == text


@pytest.mark.parametrize("make, low, high", [
    (fastdl.search.loguniform, 1e-4, 1.0), (fastdl.search.uniform, -2.0, 3.0), (fastdl.search.randint, 2, 6),
])
def test_samples_stay_in_range(rng, make, low, high):
    values = np.array([make(low, high).sample(rng) for _ in range(2000)])
    assert values.min() >= low and values.max() < high
    if make is fastdl.search.randint:
        assert set(values.tolist()) == set(range(low, high))  # high excluded, every other value drawn
        assert all(isinstance(v, int) for v in values.tolist())


def test_loguniform_is_uniform_in_log_space(rng):
    """Each decade of [1e-4, 1) gets a quarter of the draws (±3 % on 8000 draws)."""
    values = np.array([fastdl.search.loguniform(1e-4, 1).sample(rng) for _ in range(8000)])
    decades = np.floor(np.log10(values)).astype(int)
    shares = np.bincount(decades + 4, minlength=4) / values.size
    np.testing.assert_allclose(shares, 0.25, atol=0.03)


@pytest.mark.parametrize("make, low, high, message", [
    (fastdl.search.loguniform, 0, 1, r"loguniform needs 0 < low < high \(it draws log-uniformly\); got low=0"),
    (fastdl.search.loguniform, -1, 1, r"loguniform needs 0 < low < high"),
    (fastdl.search.loguniform, 1, 0.5, r"loguniform needs low < high; got low=1, high=0\.5"),
    (fastdl.search.uniform, 1, 1, r"uniform needs low < high; got low=1, high=1"),
    (fastdl.search.uniform, 0, float("inf"), r"uniform: high must be a finite number; got inf"),
    (fastdl.search.uniform, "0", 1, r"uniform: low must be a finite number; got '0'"),
    (fastdl.search.randint, 1.5, 3, r"randint: low must be an integer; got 1\.5"),
    (fastdl.search.randint, 3, 3, r"randint needs low < high; got low=3, high=3"),
])
def test_bad_bounds(make, low, high, message):
    with pytest.raises(ValueError, match=message):
        make(low, high)


# -- sampling -----------------------------------------------------------------------------------
def test_a_sample_depends_only_on_seed_and_index(seed):
    alone = _space.sample(SPACE, seed, 7)
    in_order = [_space.sample(SPACE, seed, i) for i in range(10)]
    assert in_order[7] == alone
    reordered = dict(reversed(list(SPACE.items())))
    assert _space.sample(reordered, seed, 7) == alone  # the dict's order does not matter
    assert _space.sample(SPACE, seed + 1, 7) != alone
    assert len({repr(sample) for sample in in_order}) > 1


def test_samples_take_choices_from_lists_draws_from_distributions_and_keep_fixed_values(seed):
    for i in range(50):
        setting = _space.sample(SPACE, seed, i)
        assert setting.keys() == SPACE.keys()
        assert setting["hidden_sizes"] in SPACE["hidden_sizes"] and setting["l2"] in SPACE["l2"]
        assert 1e-4 <= setting["learning_rate"] < 1 and 0.5 <= setting["keep_prob"] < 1
        assert setting["batch_size"] in range(8, 12) and setting["optimizer"] == "adam"


def test_the_network_seed_is_its_own_stream(seed):
    seeds = [_space.trial_seed(seed, i) for i in range(100)]
    assert len(set(seeds)) == 100 and all(0 <= s < 2**32 for s in seeds)
    assert _space.trial_seed(seed, 3) == _space.trial_seed(seed, 3)


def test_the_default_space_samples(seed):
    setting = _space.sample(_space.DEFAULT_SPACE, seed, 0)
    assert set(setting) == {"hidden_sizes", "hidden", "optimizer", "learning_rate", "batch_size",
                            "l2", "keep_prob"}
    assert 1e-4 <= setting["learning_rate"] < 0.1


# -- grids --------------------------------------------------------------------------------------
def test_grid_has_every_combination_once():
    space = {"hidden_sizes": [(4,), (8, 4)], "learning_rate": [0.1, 0.01, 0.001], "l2": [0, 1],
             "optimizer": "adam", "layer": (3, 2)}
    settings = _space.grid(space)
    expected = [{"hidden_sizes": h, "learning_rate": lr, "l2": l2, "optimizer": "adam", "layer": (3, 2)}
                for h, lr, l2 in itertools.product(*(space[k] for k in ("hidden_sizes", "learning_rate", "l2")))]
    assert len(settings) == 12
    assert sorted(map(repr, settings)) == sorted(map(repr, expected))


def test_grid_refuses_distributions():
    with pytest.raises(ValueError, match=r"method='grid' needs lists of choices, but \['learning_rate'\] "
                                         r"are distributions \(loguniform\(0\.0001, 1\)\)"):
        _space.grid({"learning_rate": fastdl.search.loguniform(1e-4, 1), "l2": [0, 1]})


# -- keys ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("space, halving, error, message", [
    ({"learning_rat": [0.1]}, False, ValueError, r"space has unknown keys \['learning_rat'\]; expected keys among \["),
    ({"verbose": 1}, False, ValueError, r"space has unknown keys \['verbose'\]"),
    ({"layer_dims": [2, 1], "hidden_sizes": (3,)}, False, ValueError, r"space gives both layer_dims and hidden_sizes"),
    ({"epochs": [10, 20]}, True, ValueError, r"space sets epochs, but method='halving' uses epochs as its budget"),
    ({"l2": []}, False, ValueError, r"space\['l2'\] is an empty list; give at least one choice"),
    ([("l2", 0.1)], False, TypeError, r"space must be a dict of hyperparameter -> value; got list"),
])
def test_bad_spaces(space, halving, error, message):
    with pytest.raises(error, match=message):
        _space.check_space(space, halving=halving)


def test_every_key_is_a_network_or_fit_keyword():
    import inspect

    accepted = set(inspect.signature(fastdl.Network).parameters) | set(inspect.signature(fastdl.Network.fit).parameters)
    assert set(_space.KEYS) - {"hidden_sizes"} <= accepted
    assert len(_space.KEYS) == len(set(_space.KEYS))
