"""fastdl.search: random, grid and successive halving, ranking, determinism and errors."""
import sys
import warnings

import numpy as np
import pytest

import fastdl
from fastdl import datasets
from search_helpers import flower_split, without_seconds

SPACE = {"hidden_sizes": [(4,), (8,), (8, 4)], "hidden": ["tanh", "relu"],
         "learning_rate": fastdl.search.loguniform(1e-3, 1e-1), "optimizer": "adam", "batch_size": [32, 64]}


@pytest.fixture
def flower(seed):
    return flower_split(seed)


def _assert_ranked(result):
    metric = result.metric
    bad = [record["stop_reason"] == "diverged" for record in result.results]
    assert bad == sorted(bad)  # diverged trials last
    good = [record[metric] for record in result.results if record["stop_reason"] != "diverged"]
    if "rung" not in result.results[0]:
        assert good == sorted(good)


# -- random search ------------------------------------------------------------------------------
def test_random_search_records_every_trial_and_keeps_the_best(flower, seed):
    result = fastdl.search(*flower, space=SPACE, n_trials=6, epochs=30, seed=seed)
    assert len(result.results) == 6 and sorted(r["trial"] for r in result.results) == list(range(6))
    _assert_ranked(result)
    keys = {"trial", "params", "seed", "train_error", "dev_error", "train_cost", "dev_cost", "seconds",
            "epochs", "stop_reason"}
    for record in result.results:
        assert record.keys() == keys
        assert record["epochs"] == 30 and record["stop_reason"] == "finished" and record["seconds"] > 0
        assert set(record["params"]) == set(SPACE)
    best = result.results[0]
    assert result.best_params == best["params"] and result.metric == "dev_error"
    net = result.best_network
    assert net.layer_dims == [2, *best["params"]["hidden_sizes"], 1] and net.seed == best["seed"]
    X_train, Y_train, X_dev, Y_dev = flower
    assert 1 - net.accuracy(X_dev, Y_dev) == best["dev_error"]
    assert 1 - net.accuracy(X_train, Y_train) == best["train_error"]
    assert net.cost(X_dev, Y_dev) == best["dev_cost"] and net.cost(X_train, Y_train) == best["train_cost"]


def test_same_seed_same_results_other_seed_other_settings(flower, seed):
    a = fastdl.search(*flower, space=SPACE, n_trials=4, epochs=10, seed=seed)
    b = fastdl.search(*flower, space=SPACE, n_trials=4, epochs=10, seed=seed)
    c = fastdl.search(*flower, space=SPACE, n_trials=4, epochs=10, seed=seed + 1)
    assert without_seconds(a) == without_seconds(b)
    assert [r["params"] for r in a.results] != [r["params"] for r in c.results]


def test_seed_none_draws_one_that_repeats_the_search(flower):
    first = fastdl.search(*flower, space=SPACE, n_trials=3, epochs=5)
    again = fastdl.search(*flower, space=SPACE, n_trials=3, epochs=5, seed=first.seed)
    assert isinstance(first.seed, int) and without_seconds(first) == without_seconds(again)


def test_more_trials_extend_the_same_sequence(flower, seed):
    """Trial i is the same setting whether the search runs 3 trials or 6."""
    few = fastdl.search(*flower, space=SPACE, n_trials=3, epochs=5, seed=seed)
    many = fastdl.search(*flower, space=SPACE, n_trials=6, epochs=5, seed=seed)
    by_trial = {r["trial"]: r for r in many.results}
    for record in few.results:
        assert {k: v for k, v in by_trial[record["trial"]].items() if k != "seconds"} == \
            {k: v for k, v in record.items() if k != "seconds"}


@pytest.mark.parametrize("method", ["random", "halving"])
def test_identical_results_whatever_n_jobs(flower, seed, method):
    kwargs = dict(space=SPACE, n_trials=5, epochs=27, seed=seed, method=method)
    local = fastdl.search(*flower, n_jobs=1, **kwargs)
    parallel = fastdl.search(*flower, n_jobs=2, **kwargs)
    assert without_seconds(local) == without_seconds(parallel)
    for key, value in local.best_network.parameters.items():
        np.testing.assert_array_equal(parallel.best_network.parameters[key], value)


def test_the_default_space(flower, seed):
    result = fastdl.search(*flower, n_trials=2, epochs=3, seed=seed)
    assert set(result.best_params) == set(fastdl.search.DEFAULT_SPACE)


# -- grid ---------------------------------------------------------------------------------------
def test_grid_covers_every_combination(flower, seed):
    space = {"hidden_sizes": [(3,), (5,)], "learning_rate": [0.05, 0.5], "l2": [0.0, 0.1], "hidden": "tanh"}
    result = fastdl.search(*flower, space=space, method="grid", epochs=10, seed=seed, n_trials=1)
    tried = sorted((r["params"]["hidden_sizes"], r["params"]["learning_rate"], r["params"]["l2"])
                   for r in result.results)
    assert tried == sorted([(h, lr, l2) for h in [(3,), (5,)] for lr in [0.05, 0.5] for l2 in [0.0, 0.1]])
    assert all(r["params"]["hidden"] == "tanh" for r in result.results)
    _assert_ranked(result)


# -- successive halving ---------------------------------------------------------------------------
def test_halving_keeps_the_best_third_of_each_round(flower, seed):
    """Round 0 is a random search on a third of a third of the budget: its best third go on."""
    halving = fastdl.search(*flower, space=SPACE, n_trials=9, epochs=27, method="halving", seed=seed)
    first_round = fastdl.search(*flower, space=SPACE, n_trials=9, epochs=3, seed=seed)
    rungs = {r["trial"]: r["rung"] for r in halving.results}
    assert sorted(rungs.values()) == [0] * 6 + [1] * 2 + [2]
    assert {r["trial"] for r in first_round.results[:3]} == {t for t, rung in rungs.items() if rung >= 1}
    epochs = {r["trial"]: r["epochs"] for r in halving.results}
    assert all(epochs[t] == {0: 3, 1: 9, 2: 27}[rung] for t, rung in rungs.items())
    assert [r["rung"] for r in halving.results] == sorted(rungs.values(), reverse=True)
    assert halving.best_params == halving.results[0]["params"] and halving.results[0]["rung"] == 2


def test_halving_continues_training_the_survivors(flower, seed):
    """The winner equals one network fit for 3, then 6, then 18 more epochs: never restarted."""
    halving = fastdl.search(*flower, space=SPACE, n_trials=9, epochs=27, method="halving", seed=seed)
    best = halving.results[0]
    params = best["params"]
    net = fastdl.Network([2, *params["hidden_sizes"], 1], hidden=params["hidden"], seed=best["seed"])
    for more in (3, 6, 18):
        net.fit(*flower[:2], epochs=more, learning_rate=params["learning_rate"], optimizer="adam",
                batch_size=params["batch_size"])
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(halving.best_network.parameters[key], value)
    restarted = fastdl.Network(net.layer_dims, hidden=params["hidden"], seed=best["seed"])
    restarted.fit(*flower[:2], epochs=27, learning_rate=params["learning_rate"], optimizer="adam",
                  batch_size=params["batch_size"])
    assert not np.array_equal(restarted.parameters["W1"], net.parameters["W1"])


@pytest.mark.parametrize("n_trials, epochs, message", [
    (20, 26, r"method='halving' with 20 trials runs 4 rounds and needs epochs >= 27"),
    (3, 2, r"method='halving' with 3 trials runs 2 rounds and needs epochs >= 3"),
])
def test_halving_needs_an_epoch_in_the_first_round(flower, n_trials, epochs, message):
    with pytest.raises(ValueError, match=message):
        fastdl.search(*flower, space=SPACE, n_trials=n_trials, epochs=epochs, method="halving")


# -- divergence ---------------------------------------------------------------------------------
DIVERGING = {"hidden_sizes": (8,), "learning_rate": 1e4, "init": "he"}
CALM = {"hidden_sizes": (8,), "learning_rate": 0.05}


@pytest.mark.parametrize("method", ["random", "halving"])
def test_a_diverging_trial_is_recorded_ranked_last_and_never_stops_the_search(flower, seed, method):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DivergenceWarning may escape the search
        result = fastdl.search(*flower, configs=[DIVERGING, CALM, CALM], epochs=30, method=method, seed=seed)
    assert [r["stop_reason"] for r in result.results] == ["finished", "finished", "diverged"]
    assert result.results[-1]["params"] == DIVERGING and result.results[-1]["epochs"] < 30
    if method == "halving":
        assert result.results[-1]["rung"] == 0  # a diverged trial never goes on
    assert result.best_params == CALM


# -- targets ------------------------------------------------------------------------------------
def test_regression_ranks_by_dev_cost(seed):
    X, Y = datasets.make_regression(150, 3, seed=seed)
    train, dev, _ = fastdl.train_dev_test_split(X, Y, dev=0.3, test=0, seed=seed)
    result = fastdl.search(*train, *dev, space={"hidden_sizes": [(4,), (8,)], "learning_rate": [0.01, 0.1],
                                                "hidden": "tanh"}, method="grid", epochs=20, seed=seed)
    assert result.metric == "dev_cost" and result.best_network.activations[-1] == "linear"
    assert [r["dev_cost"] for r in result.results] == sorted(r["dev_cost"] for r in result.results)
    assert all(r["train_error"] is None and r["dev_error"] is None for r in result.results)
    assert "dev_error" not in str(result).splitlines()[0]


def test_softmax_from_one_hot_columns_and_from_integer_labels(rng, seed):
    X = rng.standard_normal((2, 120))
    labels = np.digitize(X[0], [-0.5, 0.5]).reshape(1, -1).astype(float)
    one_hot = np.eye(3)[labels[0].astype(int)].T
    for Y, space in [(one_hot, {"hidden_sizes": (6,)}), (labels, {"hidden_sizes": (6,), "output": "softmax"})]:
        result = fastdl.search(X[:, :90], Y[:, :90], X[:, 90:], Y[:, 90:], space=space, n_trials=1,
                               epochs=20, seed=seed)
        assert result.best_network.layer_dims == [2, 6, 3] and result.metric == "dev_error"
        assert result.best_network.activations[-1] == "softmax"


# -- configs, the explicit form -----------------------------------------------------------------
def test_configs_run_as_given(flower, seed):
    configs = [{"layer_dims": [2, 1], "init": "zeros", "learning_rate": 0.5, "epochs": 30},
               {"hidden_sizes": (4,), "hidden": "tanh", "init": "small", "seed": 7, "learning_rate": 1.2,
                "epochs": 200}]
    result = fastdl.search(*flower, configs=configs, seed=seed)
    assert sorted(map(repr, (r["params"] for r in result.results))) == sorted(map(repr, configs))
    assert result.best_params == configs[1]  # the hidden layer wins on the flower
    assert result.results[0]["seed"] == 7 and result.results[0]["epochs"] == 200


def test_table_and_markdown(flower, seed):
    result = fastdl.search(*flower, space=SPACE, n_trials=3, epochs=5, seed=seed)
    lines = str(result).splitlines()
    assert len(lines) == 4 and lines[0].split()[:2] == ["rank", "trial"]
    assert lines[0].split()[2:] == sorted(SPACE) + ["train_error", "dev_error", "train_cost", "dev_cost",
                                                    "epochs", "seconds", "stop_reason"]
    assert [line.split()[1] for line in lines[1:]] == [str(r["trial"]) for r in result.results]
    markdown = result.to_markdown().splitlines()
    assert len(markdown) == 5 and markdown[0].startswith("| rank | trial |") and set(markdown[1]) == set("|-:")
    assert f"{result.results[0]['dev_error']:.1%}" in markdown[2]
    assert repr(result).startswith("SearchResult(method='random', 3 trials, best dev_error ")


@pytest.mark.parametrize("verbose, shows", [(0, False), (2, True)])
def test_progress_lines(flower, seed, capsys, verbose, shows):
    fastdl.search(*flower, space=SPACE, n_trials=2, epochs=3, seed=seed, verbose=verbose)
    err = capsys.readouterr().err
    assert ("trial 0 (" in err and "(2/2): dev_error" in err) == shows


def test_progress_bar_of_finished_trials(flower, seed, capsys):
    pytest.importorskip("tqdm")  # the 'test' extra installs it; without it verbose=1 prints lines
    fastdl.search(*flower, space=SPACE, n_trials=2, epochs=3, seed=seed, verbose=1)
    err = capsys.readouterr().err
    assert "search: 100%" in err and "2/2" in err and "trial" in err


def test_progress_without_tqdm_is_a_line_per_trial(flower, seed, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import tqdm.auto now raises ImportError
    fastdl.search(*flower, space=SPACE, n_trials=2, epochs=3, seed=seed, verbose=1)
    err = capsys.readouterr().err
    assert "(1/2): dev_error" in err and "(2/2): dev_error" in err and "100%" not in err


def test_threads_per_trial_limits_every_blas_while_a_trial_runs():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from fastdl._trials import blas_threads

    def threads():
        return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]

    before = threads()
    with blas_threads(1):
        inside = threads()
    with blas_threads(None):
        untouched = threads()
    assert inside and set(inside) == {1}
    assert untouched == before == threads()
