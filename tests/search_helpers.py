"""Shared by the fastdl.search tests: a small flower split, and results compared without timings."""
import fastdl
from fastdl import datasets


def flower_split(seed, m=200):
    """(X_train, Y_train, X_dev, Y_dev) of the generated flower, 70/30."""
    X, Y = datasets.make_planar(m, seed=seed)
    train, dev, _ = fastdl.train_dev_test_split(X, Y, dev=0.3, test=0, seed=seed)
    return (*train, *dev)


def without_seconds(result):
    """A result's records with the wall-clock times left out: all else must repeat exactly."""
    return [{key: value for key, value in record.items() if key != "seconds"} for record in result.results]
