"""The course's cat / non-cat files: deep.load_data and logistic.load_dataset (issue 10).

The data is not shipped, so the tests write small files with the course's keys.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from fastdl.compat import deep, logistic

LOADERS = [deep.load_data, logistic.load_dataset]
IDS = ["deep.load_data", "logistic.load_dataset"]


def _write(h5py, path, arrays):
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)


@pytest.fixture
def course_files(tmp_path, rng):
    """A datasets/ folder with both files (5 train and 3 test images of 4 × 4 × 3)."""
    h5py = pytest.importorskip("h5py")
    folder = tmp_path / "datasets"
    folder.mkdir()
    data = {"train_set_x": rng.integers(0, 256, (5, 4, 4, 3), dtype=np.uint8),
            "train_set_y": rng.integers(0, 2, 5), "test_set_x": rng.integers(0, 256, (3, 4, 4, 3),
                                                                                dtype=np.uint8),
            "test_set_y": rng.integers(0, 2, 3), "list_classes": np.array([b"non-cat", b"cat"])}
    _write(h5py, folder / "train_catvnoncat.h5", {k: data[k] for k in ("train_set_x", "train_set_y")})
    _write(h5py, folder / "test_catvnoncat.h5",
           {k: data[k] for k in ("test_set_x", "test_set_y", "list_classes")})
    return folder, data


@pytest.mark.parametrize("load", LOADERS, ids=IDS)
def test_reads_both_files_with_labels_as_rows(course_files, load):
    folder, data = course_files
    train_x, train_y, test_x, test_y, classes = load(folder)
    np.testing.assert_array_equal(train_x, data["train_set_x"])
    np.testing.assert_array_equal(test_x, data["test_set_x"])
    assert train_y.shape == (1, 5) and test_y.shape == (1, 3)
    np.testing.assert_array_equal(train_y[0], data["train_set_y"])
    np.testing.assert_array_equal(test_y[0], data["test_set_y"])
    assert list(classes) == [b"non-cat", b"cat"]


@pytest.mark.parametrize("load", LOADERS, ids=IDS)
def test_the_default_directory_is_datasets(course_files, load, monkeypatch):
    folder, data = course_files
    monkeypatch.chdir(folder.parent)
    np.testing.assert_array_equal(load()[0], data["train_set_x"])


@pytest.mark.parametrize("load", LOADERS, ids=IDS)
def test_a_missing_file_is_named(tmp_path, load):
    (tmp_path / "train_catvnoncat.h5").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"test_catvnoncat\.h5 not found: fastdl does not "
                                                r"ship the course's data"):
        load(tmp_path)


def test_a_missing_dataset_is_named(course_files):
    h5py = pytest.importorskip("h5py")
    folder, data = course_files
    _write(h5py, folder / "test_catvnoncat.h5", {"test_set_x": data["test_set_x"]})
    with pytest.raises(KeyError, match=r"test_catvnoncat\.h5 has no dataset 'test_set_y'"):
        deep.load_data(folder)


@pytest.mark.parametrize("load", LOADERS, ids=IDS)
def test_missing_h5py_names_the_extra(tmp_path, load, monkeypatch):
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` now raises ImportError
    with pytest.raises(ImportError, match=r"needs h5py, fastdl's optional 'course' extra: "
                                          r"pip install \"fastdl\[course\]\""):
        load(tmp_path)


def test_importing_fastdl_compat_does_not_import_h5py():
    """Catches a module-level `import h5py`, which would make h5py a hard dependency."""
    code = ("import sys, fastdl.compat, fastdl.compat.deep, fastdl.compat.logistic; "
            "print('h5py' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
