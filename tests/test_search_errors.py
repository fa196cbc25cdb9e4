"""fastdl.search refuses bad input with a clear error, and imports joblib only to run in parallel."""
import subprocess
import sys

import numpy as np
import pytest

import fastdl
from fastdl import datasets


@pytest.fixture
def data(seed):
    X, Y = datasets.make_linear(40, 2, seed=seed)
    return X[:, :30], Y[:, :30], X[:, 30:], Y[:, 30:]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"method": "bayes"}, ValueError, r"method='bayes' is not supported; expected one of \['grid', 'halving', 'random'\]"),
    ({"n_trials": 0}, ValueError, r"n_trials must be a positive integer; got 0"),
    ({"epochs": 2.5}, ValueError, r"epochs must be a positive integer; got 2\.5"),
    ({"n_jobs": 0}, ValueError, r"n_jobs must be a non-zero integer \(-1: every core\) or None; got 0"),
    ({"n_jobs": 1.5}, ValueError, r"n_jobs must be a non-zero integer"),
    ({"seed": -1}, ValueError, r"seed must be None or a non-negative integer; got -1"),
    ({"verbose": 3}, ValueError, r"verbose must be 0, 1 or 2; got 3"),
    ({"threads_per_trial": 0}, ValueError, r"threads_per_trial must be a positive integer; got 0"),
    ({"space": {"l2": [0]}, "configs": [{}]}, ValueError, r"give either space \(to sample or grid\) or configs"),
    ({"configs": []}, ValueError, r"configs is empty: give at least one setting to try"),
    ({"configs": [{"learning_rate": 0.1}, {"lr": 0.1}]}, ValueError, r"configs\[1\] has unknown keys \['lr'\]"),
    ({"configs": ["adam"]}, TypeError, r"configs\[0\] must be a dict of hyperparameter -> value; got str"),
    ({"configs": [{"l2": 0}], "method": "grid"}, ValueError, r"method='grid' expands a space; configs run as given"),
    ({"method": "grid"}, ValueError, r"method='grid' needs a space of lists to combine; the default space draws"),
    ({"configs": [{"epochs": 5}], "method": "halving"}, ValueError, r"configs\[0\] sets epochs, but method='halving'"),
    ({"configs": [{"hidden": "relux"}]}, ValueError,
     r"trial 0 with \{'hidden': 'relux'\}: hidden='relux' is not supported; expected one of"),
    ({"configs": [{"hidden_sizes": "8"}]}, ValueError, r"trial 0 with .*hidden_sizes must be a tuple of hidden layer sizes"),
    ({"configs": [{"layer_dims": [3, 4, 1]}]}, ValueError,
     r"layer_dims=\[3, 4, 1\] does not fit the data: it must start with n_x = 2 and end with the 1 output units"),
    ({"configs": [{"output": "sigmoid"}, {"output": "linear"}]}, ValueError,
     r"the settings mix classifier outputs \(sigmoid, softmax\) with regression outputs"),
])
def test_bad_arguments(data, kwargs, error, message):
    with pytest.raises(error, match=message):
        fastdl.search(*data, **{"epochs": 2, **kwargs})


@pytest.mark.parametrize("which, shape, message", [
    (1, (1, 29), r"X_train has m = 30 examples \(columns\) but Y_train has 29"),
    (3, (1, 9), r"X_dev has m = 10 examples \(columns\) but Y_dev has 9"),
    (2, (3, 10), r"the dev set has 3 features and 1 target rows; the training set 2 and 1"),
])
def test_mismatched_data(data, which, shape, message):
    arrays = list(data)
    arrays[which] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        fastdl.search(*arrays, epochs=2)


def test_non_finite_data_is_named(data):
    X_dev = data[2].copy()
    X_dev[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"X_dev holds NaN or infinite values, e.g. at \[1, 3\]"):
        fastdl.search(data[0], data[1], X_dev, data[3], epochs=2)


def test_parallel_without_joblib_says_how_to_install(data, monkeypatch):
    monkeypatch.setitem(sys.modules, "joblib", None)  # import joblib now raises ImportError
    with pytest.raises(ImportError, match=r"search\(n_jobs=2\): parallel trials need joblib and threadpoolctl: "
                                          r"pip install 'fastdl\[parallel\]'"):
        fastdl.search(*data, n_jobs=2, epochs=2)
    assert len(fastdl.search(*data, n_jobs=None, n_trials=2, epochs=2).results) == 2  # None: in process


def test_n_jobs_1_and_import_fastdl_never_import_joblib_or_dask():
    code = ("import sys, fastdl\n"
            "assert not {'joblib', 'dask', 'distributed', 'threadpoolctl'} & set(sys.modules)\n"
            "X, Y = fastdl.datasets.make_linear(30, 2)\n"
            "fastdl.search(X, Y, X, Y, n_trials=2, epochs=2, seed=0)\n"
            "print(sorted({'joblib', 'dask', 'distributed'} & set(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
