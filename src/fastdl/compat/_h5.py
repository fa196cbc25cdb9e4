"""The course's cat / non-cat images, read from its two HDF5 files with h5py.

The data is not shipped with fastdl, and h5py is an optional extra (``fastdl[course]``),
imported only when a file is read, so ``import fastdl.compat`` never needs it.
"""
import os

import numpy as np

TRAIN_FILE, TEST_FILE = "train_catvnoncat.h5", "test_catvnoncat.h5"
TRAIN_KEYS = ("train_set_x", "train_set_y")
TEST_KEYS = ("test_set_x", "test_set_y", "list_classes")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "reading the course's .h5 files needs h5py, fastdl's optional 'course' extra: "
            "pip install \"fastdl[course]\"") from None
    return h5py


def _path(directory, name):
    path = os.path.join(os.fspath(directory), name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} not found: fastdl does not ship the course's data; put {name} (from the "
            f"course) in {os.fspath(directory)!r} or pass directory= where it is")
    return path


def read_arrays(path, keys):
    """The datasets ``keys`` of the HDF5 file ``path``, as numpy arrays, in that order."""
    h5py = _h5py()
    with h5py.File(path, "r") as f:
        missing = [key for key in keys if key not in f]
        if missing:
            raise KeyError(f"{path} has no dataset {missing[0]!r}; expected {list(keys)}, "
                           f"found {sorted(f.keys())}")
        return [np.array(f[key][:]) for key in keys]


def load_cat_dataset(directory="datasets"):
    """``(train_x_orig, train_y, test_x_orig, test_y, classes)``, labels of shape (1, m).

    Images are ``(m, 64, 64, 3)`` as stored; flatten and scale them as the course does,
    ``train_x_orig.reshape(m, -1).T / 255``, for fastdl's one-example-per-column layout.

    Raises
    ------
    FileNotFoundError
        Naming the missing file (the data is not shipped with fastdl).
    ImportError
        If h5py is missing: ``pip install "fastdl[course]"``.
    """
    train_path, test_path = _path(directory, TRAIN_FILE), _path(directory, TEST_FILE)
    train_x, train_y = read_arrays(train_path, TRAIN_KEYS)
    test_x, test_y, classes = read_arrays(test_path, TEST_KEYS)
    return train_x, train_y.reshape((1, -1)), test_x, test_y.reshape((1, -1)), classes
