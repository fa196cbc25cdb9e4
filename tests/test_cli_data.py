"""The command line's data reading: CSV headers and cells, the target column, and how the
target's values decide binary / softmax / regression."""
import numpy as np
import pytest

from fastdl.cli import _csv, _data


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- CSV tables ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, header", [
    ("a,b,label\n1,2,0\n", ["a", "b", "label"]),
    ("x1,x2,y\n1,2,cat\n", ["x1", "x2", "y"]),
    ("a,2020,label\n1,2,0\n", ["a", "2020", "label"]),  # a number among the names, text above numbers
    ("1,2,0\n3,4,1\n", None),
    ("1.5,2,cat\n3,4,dog\n", None),  # text only in the target: still no header
    ("1,2,0\n", None),
], ids=["names", "names-text-target", "a-numeric-name", "numbers", "text-target", "one-row"])
def test_header_detection(tmp_path, text, header):
    assert _csv.read_csv(_write(tmp_path, text)).header == header


def test_quotes_spaces_bom_and_blank_lines(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes('\ufeff"a", b ,"the label"\n\n 1, 2 ,"yes, really"\n\n3,4,no\n\n'.encode("utf-8"))
    table = _csv.read_csv(str(path))
    assert table.header == ["a", "b", "the label"]
    assert table.rows == [["1", "2", "yes, really"], ["3", "4", "no"]]
    assert table.lines == [3, 5]  # lines as an editor numbers them
    np.testing.assert_array_equal(table.numeric([0, 1]), [[1, 3], [2, 4]])


def test_numeric_columns_are_features_by_row(tmp_path):
    table = _csv.read_csv(_write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n"))
    values = table.numeric([2, 0])
    assert values.shape == (2, 2) and values.dtype == np.float64
    np.testing.assert_array_equal(values, [[3, 6], [1, 4]])


def test_python_spellings_numpy_does_not_read(tmp_path):
    table = _csv.read_csv(_write(tmp_path, "a,b\n1_000,2\n3,4\n"))
    np.testing.assert_array_equal(table.numeric([0]), [[1000, 3]])


@pytest.mark.parametrize("column, index", [("label", 2), ("0", 0), ("2", 2), ("-1", 2), ("-3", 0)])
def test_find_a_column_by_name_or_index(tmp_path, column, index):
    assert _csv.read_csv(_write(tmp_path, "a,b,label\n1,2,0\n")).find(column) == index


# -- the target decides the output --------------------------------------------------------------
@pytest.mark.parametrize("labels, output, classes", [
    (["0", "1", "1", "0"], "sigmoid", [0, 1]),
    (["1", "1", "1", "1"], "sigmoid", [0, 1]),
    (["0.0", "1.0", "1.0", "0.0"], "sigmoid", [0, 1]),
    (["yes", "no", "yes", "no"], "sigmoid", ["no", "yes"]),
    (["cat", "dog", "fish", "cat"], "softmax", ["cat", "dog", "fish"]),
    (["1", "2", "3", "2"], "softmax", [1, 2, 3]),
    (["-1", "1", "1", "-1"], "sigmoid", [-1, 1]),
    (["0.5", "1.5", "2.5", "3.5"], "linear", None),
    ([str(k) for k in range(25)], "linear", None),  # more than 20 integers: a quantity
], ids=["0-1", "all-ones", "0.0-1.0", "two-words", "three-words", "few-integers", "two-integers",
        "fractions", "many-integers"])
def test_the_target_decides(tmp_path, labels, output, classes):
    rows = "\n".join(f"{i},{label}" for i, label in enumerate(labels))
    data = _data.load(_write(tmp_path, "x,y\n" + rows + "\n"))
    assert (data.output, data.classes) == (output, classes)
    if output == "sigmoid":
        assert data.Y.shape == (1, len(labels)) and set(np.unique(data.Y)) <= {0.0, 1.0}
    elif output == "softmax":
        assert data.Y.shape == (len(classes), len(labels))
        np.testing.assert_array_equal(data.Y.argmax(axis=0), [classes.index(
            int(v) if isinstance(classes[0], int) else v) for v in labels])
    else:
        np.testing.assert_array_equal(data.Y, [[float(v) for v in labels]])


@pytest.mark.parametrize("labels, output, classes", [
    (["1", "2", "3", "2"], "linear", None),
    (["0", "1", "1", "0"], "softmax", [0, 1]),
    (["3", "7", "7", "3"], "sigmoid", [3, 7]),
    (["0", "1", "2", "1"], "relu", None),
])
def test_output_overrides_the_guess(tmp_path, labels, output, classes):
    rows = "\n".join(f"{i},{label}" for i, label in enumerate(labels))
    data = _data.load(_write(tmp_path, "x,y\n" + rows + "\n"), output=output)
    assert (data.output, data.classes) == (output, classes)


@pytest.mark.parametrize("labels, output, message", [
    (["a", "b", "c"], "sigmoid", r"column 'y' has 3 classes; a sigmoid output takes two \(use --output softmax\)"),
    (["a", "b", "c"], "linear", r"column 'y' holds text, but a 'linear' output predicts numbers"),
])
def test_impossible_overrides(tmp_path, labels, output, message):
    rows = "\n".join(f"{i},{label}" for i, label in enumerate(labels))
    with pytest.raises(ValueError, match=message):
        _data.load(_write(tmp_path, "x,y\n" + rows + "\n"), output=output)


def test_the_metadata_a_model_keeps(tmp_path):
    data = _data.load(_write(tmp_path, "a,label,b\n1,yes,2\n3,no,4\n"), target="label")
    assert data.metadata() == {"source": "data.csv", "target": "label", "output": "sigmoid",
                               "classes": ["no", "yes"], "feature_names": ["a", "b"],
                               "feature_columns": [0, 2], "n_columns": 3}
    np.testing.assert_array_equal(data.X, [[1, 3], [2, 4]])


def test_npz_and_generated_sets(tmp_path, rng):
    X = rng.standard_normal((3, 10))
    one_hot = np.eye(4)[rng.integers(0, 4, 10)].T
    np.savez(tmp_path / "d.npz", X=X, Y=one_hot)
    data = _data.load(str(tmp_path / "d.npz"))
    assert (data.output, data.classes, data.Y.shape) == ("softmax", [0, 1, 2, 3], (4, 10))
    np.savez(tmp_path / "r.npz", X=X, Y=rng.standard_normal((2, 10)))
    assert _data.load(str(tmp_path / "r.npz")).output == "linear"
    assert _data.load("planar").output == "sigmoid" and _data.load("regression").output == "linear"
