"""The data a command reads: a CSV, an .npz with X and Y, or a generated set, turned into
(X, Y) one example per column, with the names a model file keeps."""
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from .. import datasets
from ._csv import read_csv

GENERATED = {"planar": datasets.make_planar, "linear": datasets.make_linear,
             "regression": datasets.make_regression}
CLASSIFIER_OUTPUTS = ("sigmoid", "softmax")
MAX_INTEGER_CLASSES = 20  # an integer target with more distinct values is taken for a quantity
MAX_LABEL = 2**53  # whole numbers beyond this (1e300 is one) are quantities, not class labels


@dataclass
class Dataset:
    """Examples as (X, Y), one per column, and what a model trained on them must remember."""

    X: np.ndarray
    Y: np.ndarray  # (1, m) 0/1 for sigmoid, one-hot (K, m) for softmax, values otherwise
    output: str
    source: str
    classes: list = None
    target: str = None
    feature_names: list = None
    feature_columns: list = None
    n_columns: int = None

    @property
    def is_classifier(self):
        return self.output in CLASSIFIER_OUTPUTS

    def describe(self):
        what = (f"{len(self.classes)} classes {self.classes}" if self.classes
                else f"{self.Y.shape[0]} value(s) per example")
        target = f", target {self.target!r}" if self.target is not None else ""
        return (f"{self.source}: {self.X.shape[1]} examples, {self.X.shape[0]} features{target}: "
                f"{what} -> {self.output} output")

    def metadata(self):
        """What a model file keeps, so that predict and diagnose read new data the same way."""
        return {"source": os.path.basename(self.source), "target": self.target, "output": self.output,
                "classes": self.classes, "feature_names": self.feature_names,
                "feature_columns": self.feature_columns, "n_columns": self.n_columns}


def _python(values):
    """numpy scalars as JSON-ready Python values."""
    return [value.item() if hasattr(value, "item") else value for value in values]


def _indices(values, classes, where):
    lookup = {value: index for index, value in enumerate(classes)}
    try:
        return np.array([lookup[value] for value in values], dtype=np.intp)
    except KeyError as error:
        raise ValueError(f"{where}: the target value {error.args[0]!r} is not one of the classes "
                         f"{classes}") from None


def _labels(indices, K, output):
    """0/1 row for two classes under sigmoid; one-hot (K, m) for softmax."""
    if output == "sigmoid":
        return indices.reshape(1, -1).astype(np.float64)
    return np.eye(K)[indices].T


def _decide(values, numeric, output, where):
    """(output, classes) for a target column: text or few integers are classes."""
    distinct = sorted(set(values))
    if output is None:
        if not numeric:
            output = "sigmoid" if len(distinct) <= 2 else "softmax"
        elif set(distinct) <= {0.0, 1.0}:
            output = "sigmoid"
        elif (all(float(v).is_integer() and abs(v) < MAX_LABEL for v in distinct)
              and len(distinct) <= MAX_INTEGER_CLASSES):
            output = "sigmoid" if len(distinct) == 2 else "softmax"
        else:
            return "linear", None
    if output not in CLASSIFIER_OUTPUTS:
        if not numeric:
            raise ValueError(f"{where} holds text, but a {output!r} output predicts numbers; "
                             f"use --output sigmoid or softmax for classes")
        return output, None
    if numeric:
        distinct = [int(v) if float(v).is_integer() else v for v in distinct]
        if output == "sigmoid" and set(distinct) <= {0, 1}:
            distinct = [0, 1]
    if len(distinct) == 1:  # nothing to tell apart, and no name for the other class
        raise ValueError(f"{where} holds one class only ({distinct[0]!r}): a classifier learns "
                         f"from two classes or more")
    if output == "sigmoid" and len(distinct) > 2:
        raise ValueError(f"{where} has {len(distinct)} classes; a sigmoid output takes two "
                         f"(use --output softmax)")
    return output, _python(distinct)


def encode_target(values, numeric, output, where, classes=None):
    """(Y, output, classes) from one target value per example; ``classes`` given: reuse them."""
    if classes is None:
        output, classes = _decide(values, numeric, output, where)
    if classes is None:
        return np.asarray(values, dtype=np.float64).reshape(1, -1), output, None
    if numeric:
        values = [int(v) if float(v).is_integer() else v for v in values]
    return _labels(_indices(_python(values), classes, where), len(classes), output), output, classes


def _target_values(table, j):
    """The target column as numbers when every cell is one, else as text."""
    try:
        return list(table.numeric([j])[0]), True
    except ValueError:
        return table.column(j), False


def from_csv(path, target, output, classes=None):
    table = read_csv(path)
    j = table.n_columns - 1 if target is None else table.find(target)
    features = [k for k in range(table.n_columns) if k != j]
    if not features:
        raise ValueError(f"{path} has only the target column; it needs feature columns too")
    X = table.numeric(features)
    values, numeric = _target_values(table, j)
    Y, output, classes = encode_target(values, numeric, output, f"{path} column {table.name(j)}", classes)
    names = [table.header[k] for k in features] if table.header else None
    return Dataset(X, Y, output, path, classes, table.header[j] if table.header else j, names,
                   features, table.n_columns)


def _arrays(spec, seed):
    """(X, Y) of a generated set or an .npz holding X (n_x, m) and Y (n_y, m)."""
    if spec in GENERATED:
        return GENERATED[spec](seed=seed)
    try:
        archive = np.load(spec, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{spec} cannot be read as an .npz archive ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{spec} holds a single array, not an .npz archive of X and Y")
    with archive:
        if "X" not in archive.files or "Y" not in archive.files:
            raise ValueError(f"{spec} must hold arrays named 'X' (n_x, m) and 'Y' (n_y, m); "
                             f"found {sorted(archive.files)}")
        return archive["X"], archive["Y"]


def _from_arrays(spec, seed, output, classes=None):
    X, Y = _arrays(spec, seed)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"{spec}: X must be (n_x, m) and Y (n_y, m), one example per column; got "
                         f"X {X.shape} and Y {Y.shape}")
    if Y.shape[0] == 1:
        Y, output, classes = encode_target(list(Y[0]), True, output, f"{spec} Y", classes)
    elif output is None:
        one_hot = np.isin(Y, (0, 1)).all() and (Y.sum(axis=0) == 1).all()
        output, classes = ("softmax", list(range(Y.shape[0]))) if one_hot else ("linear", None)
    return Dataset(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64), output, spec, classes)


def _check_exists(spec):
    if spec not in GENERATED and not os.path.exists(spec):
        raise ValueError(f"data {spec!r} is neither a file nor one of the generated sets {sorted(GENERATED)}")


def load(spec, *, target=None, output=None, seed=0, classes=None):
    """The :class:`Dataset` in ``spec`` (a CSV, an .npz or a generated set's name)."""
    _check_exists(spec)
    if spec in GENERATED or spec.endswith(".npz"):
        if target is not None:
            raise ValueError(f"--target picks a CSV column; {spec} holds X and Y already")
        return _from_arrays(spec, seed, output, classes)
    return from_csv(spec, target, output, classes)


# -- data for a trained model ---------------------------------------------------------------------
def load_model(path, backend="auto"):
    """The Network saved at ``path``; a missing or corrupt file is a one-line error naming it."""
    from .._io import load as load_network

    if not os.path.isfile(path):
        raise ValueError(f"model file {path!r} does not exist")
    return load_network(path, backend=backend)


def _model_columns(table, net, model_path, exclude=None):
    """The CSV columns holding the model's features: by name when both sides have names,
    else by position (the training file's layout, or exactly n_x columns)."""
    meta, n_x = net.metadata, net.layer_dims[0]
    names = meta.get("feature_names")
    if table.header and names:
        missing = [name for name in names if name not in table.header]
        if missing:
            raise ValueError(f"{table.path} lacks the feature columns {missing} that {model_path} was "
                             f"trained on; its columns are {table.header}")
        return [table.header.index(name) for name in names]
    if meta.get("feature_columns") and table.n_columns == meta.get("n_columns"):
        return list(meta["feature_columns"])
    candidates = [k for k in range(table.n_columns) if k != exclude]
    if len(candidates) == n_x:
        return candidates
    layout = (f" (it was trained on a file of {meta['n_columns']} columns, the target in column "
              f"{meta.get('target')!r})" if meta.get("n_columns") else "")
    raise ValueError(f"{model_path} takes n_x = {n_x} features but {table.path} has {len(candidates)} "
                     f"feature columns{layout}; give a header naming the features, or exactly "
                     f"{n_x} feature columns")


def _check_rows(X, net, spec, model_path):
    if X.ndim != 2 or X.shape[0] != net.layer_dims[0]:
        raise ValueError(f"{spec}: X has shape {X.shape}, but {model_path} takes (n_x, m) = "
                         f"({net.layer_dims[0]}, m), one example per column")
    return np.asarray(X, dtype=np.float64)


def features_for(net, model_path, spec, seed=0):
    """X ``(n_x, m)`` for ``net`` from ``spec``; extra columns (a target) are left out."""
    _check_exists(spec)
    if spec in GENERATED or spec.endswith(".npz"):
        return _check_rows(_arrays(spec, seed)[0], net, spec, model_path)
    table = read_csv(spec)
    return table.numeric(_model_columns(table, net, model_path))


def labelled_for(net, model_path, spec, target=None, seed=0):
    """(X, Y) for ``net`` from ``spec``, the target encoded with the model's classes."""
    meta = net.metadata
    output, classes = net.activations[-1], meta.get("classes")
    _check_exists(spec)
    if spec in GENERATED or spec.endswith(".npz"):
        ds = _from_arrays(spec, seed, output, classes)
        return _check_rows(ds.X, net, spec, model_path), ds.Y
    table = read_csv(spec)
    target = target if target is not None else meta.get("target")
    j = table.n_columns - 1 if target is None else table.find(str(target))
    values, numeric = _target_values(table, j)
    Y, _, _ = encode_target(values, numeric, output, f"{spec} column {table.name(j)}", classes)
    return table.numeric(_model_columns(table, net, model_path, exclude=j)), Y
