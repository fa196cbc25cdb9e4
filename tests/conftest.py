"""Shared fixtures for the fastdl tests.

The seed contract (as in scikit-learn's ``random_seed`` fixture): every test that
draws random numbers must pass for *any* seed. The default is fixed so runs are
repeatable; set ``FASTDL_TEST_SEED`` to try others, e.g.
``FASTDL_TEST_SEED=7 python -m pytest tests``.
"""
import os
import sys

import numpy as np
import pytest

# ``import naive`` works however pytest imports this directory.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

DEFAULT_SEED = 42


def _configured_seed():
    value = os.environ.get("FASTDL_TEST_SEED", str(DEFAULT_SEED))
    try:
        return int(value)
    except ValueError:
        raise pytest.UsageError(f"FASTDL_TEST_SEED must be an integer; got {value!r}") from None


def pytest_report_header(config):
    return f"fastdl test seed: {_configured_seed()} (set FASTDL_TEST_SEED to change)"


@pytest.fixture
def seed():
    """The seed for this run; tests must pass whatever it is."""
    return _configured_seed()


@pytest.fixture
def rng(seed):
    """A fresh ``numpy.random.Generator`` from :func:`seed`."""
    return np.random.default_rng(seed)
