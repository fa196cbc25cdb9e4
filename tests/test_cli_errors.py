"""Every bad input to the command line: one line on standard error naming the file, line,
column or option, exit status 2, never a traceback."""
import numpy as np
import pytest

import fastdl
from cli_helpers import assert_one_line_error, run, two_class_rows, write_csv

GOOD = "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\n"
BAD_FILES = [
    pytest.param("a,b,label\n1,2,0\n3,x,1\n", ["bad.csv line 3, column 'b': 'x' is not a number"], id="text-in-a-number-column"),
    pytest.param("", ["bad.csv is empty: it has no header and no rows"], id="empty-file"),
    pytest.param("\n\n", ["bad.csv is empty"], id="blank-lines-only"),
    pytest.param("a,b,label\n", ["bad.csv has a header line but no rows of data"], id="header-only"),
    pytest.param("a,b,label\n1,2,0\n3,4\n", ["bad.csv line 3 has 2 values but line 1 has 3"], id="ragged-short"),
    pytest.param("1,2,0\n3,4,1,5\n", ["bad.csv line 2 has 4 values but line 1 has 3"], id="ragged-long-no-header"),
    pytest.param("a,b,label\n1,,0\n", ["bad.csv line 2, column 'b': the value is missing"], id="empty-cell"),
    pytest.param("a,b,label\n1,nan,0\n", ["bad.csv line 2, column 'b': 'nan' is not a finite number"], id="nan"),
    pytest.param("a,b,label\n1,inf,0\n", ["column 'b': 'inf' is not a finite number"], id="inf"),
    pytest.param("1,2,0\n3,4,1\n5,x,0\n", ["bad.csv line 3, column 1 (0-based): 'x' is not a number"], id="no-header"),
    pytest.param("a,a,label\n1,2,0\n", ["bad.csv names the columns ['a'] more than once"], id="repeated-names"),
    pytest.param("label\n0\n1\n", ["bad.csv has only the target column"], id="no-features"),
]


@pytest.mark.parametrize("text, fragments", BAD_FILES)
@pytest.mark.parametrize("command", ["train", "search"])
def test_bad_csv_files(tmp_path, capsys, command, text, fragments):
    (tmp_path / "bad.csv").write_text(text)
    status, out, err = run([command, tmp_path / "bad.csv", "--epochs", "1"], capsys)
    assert_one_line_error(status, err, f"fastdl {command}: error: ", *fragments)


def test_a_binary_file_is_not_a_csv(tmp_path, capsys):
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00\x81garbage")
    assert_one_line_error(*run(["train", tmp_path / "bad.csv"], capsys)[::2], "bad.csv is not a UTF-8 text CSV file")


@pytest.mark.parametrize("target, fragments", [
    ("lable", ["has no column 'lable'; its columns are ['a', 'b', 'label']"]),
    ("3", ["column 3 is out of range: ", "has 3 columns (0 to 2)"]),
    ("-4", ["column -4 is out of range"]),
])
def test_a_missing_target_column(tmp_path, capsys, target, fragments):
    data = tmp_path / "good.csv"
    data.write_text(GOOD)
    assert_one_line_error(*run(["train", data, "--target", target], capsys)[::2], *fragments)


def test_a_target_name_on_a_file_without_header(tmp_path, capsys):
    data = tmp_path / "plain.csv"
    data.write_text("1,2,0\n3,4,1\n")
    assert_one_line_error(*run(["train", data, "--target", "label"], capsys)[::2],
                          "plain.csv has no header line, so a column is given by its 0-based index; got 'label'")


@pytest.mark.parametrize("argv, fragments", [
    (["train", "no-such.csv"], ["data 'no-such.csv' is neither a file nor one of the generated sets"]),
    (["train", "planar", "--target", "x"], ["--target picks a CSV column; planar holds X and Y already"]),
    (["train", "planar", "--out", "/no/such/dir/m.npz"], ["cannot write /no/such/dir/m.npz: the directory"]),
    (["train", "planar", "--patience", "3", "--dev", "0"], ["--patience stops early on the dev set, but the split has none"]),
    (["train", "planar", "--output", "linear", "--lr", "-1"], ["argument --lr: expected a finite positive number; got '-1'"]),
    (["train", "planar", "--layers", "20,x"], ["argument --layers: expected hidden layer sizes such as 20,7,5; got '20,x'"]),
    (["train", "planar", "--layers", "0"], ["argument --layers: expected hidden layer sizes"]),
    (["train", "planar", "--epochs", "0"], ["argument --epochs: expected a positive integer; got '0'"]),
    (["train", "planar", "--keep-prob", "0"], ["argument --keep-prob: expected a probability in (0, 1]; got '0'"]),
    (["train", "planar", "--dev", "1"], ["argument --dev: expected a fraction in [0, 1); got '1'"]),
    (["train", "planar", "--activation", "relux"], ["argument --activation: invalid choice: 'relux'"]),
    (["train", "planar", "--dev", "0.5", "--test", "0.5"], ["dev + test must leave examples to train on"]),
    (["train"], ["the following arguments are required: data"]),
    (["fly"], ["argument COMMAND: invalid choice: 'fly'"]),
    (["search", "planar", "--jobs", "0"], ["argument --jobs: expected a non-zero integer (-1: every core); got '0'"]),
    (["search", "planar", "--method", "grid"], ["--method grid combines lists of choices: give them with --space"]),
    (["search", "planar", "--space", "{bad"], ["--space is neither a .json file nor valid JSON"]),
    (["search", "planar", "--space", "[1, 2]"], ["--space must be a JSON object of hyperparameter -> choices"]),
    (["search", "planar", "--space", '{"lr": [0.1]}'], ["space has unknown keys ['lr']"]),
    (["search", "planar", "--space", '{"learning_rate": {"normal": [0, 1]}}'],
     ["--space: 'learning_rate': {\"normal\": [0, 1]} is not a distribution"]),
    (["search", "planar", "--space", '{"learning_rate": {"loguniform": [0, 1]}}'],
     ["--space: 'learning_rate': loguniform needs 0 < low < high"]),
    (["search", "planar", "--dev", "0", "--test", "0.2"], ["search ranks its trials on the dev set, but the split has none"]),
    (["search", "planar", "--method", "halving", "--trials", "20", "--epochs", "10"],
     ["method='halving' with 20 trials runs 4 rounds and needs epochs >= 27"]),
    (["diagnose"], ["give both --train-error and --dev-error, or a model file and its data"]),
    (["diagnose", "--train-error", "0.1"], ["give both --train-error and --dev-error"]),
    (["diagnose", "--train-error", "1.5", "--dev-error", "0.1"], ["argument --train-error: expected an error rate in [0, 1]; got '1.5'"]),
    (["diagnose", "--train-error", "0.1", "--dev-error", "ten"], ["argument --dev-error: expected an error rate in [0, 1]; got 'ten'"]),
    (["info", "-m", "3"], ["-m sets the batch size of a model's dimension table; give a model file"]),
    (["predict", "missing.npz", "planar"], ["model file 'missing.npz' does not exist"]),
    (["info", "missing.npz"], ["model file 'missing.npz' does not exist"]),
    (["diagnose", "missing.npz", "planar"], ["model file 'missing.npz' does not exist"]),
])
def test_bad_arguments(capsys, argv, fragments):
    assert_one_line_error(*run(argv, capsys)[::2], *fragments)


@pytest.mark.parametrize("argv, wrong", [
    (["train", "planar", "--out", "m.npz", "--outp", "x"], "--outp"),
    (["train", "planar", "--epoch", "5"], "--epoch"),
    (["train", "planar", "--l", "0.1"], "--l"),
    (["predict", "m.npz", "planar", "--pro"], "--pro"),
    (["search", "planar", "--trial", "3"], "--trial"),
    (["search", "planar", "--sched", "tcp://x"], "--sched"),
    (["diagnose", "--train", "0.1", "--dev-error", "0.1"], "--train"),
    (["demo", "--epoch", "5"], "--epoch"),
    (["info", "--mod", "x"], "--mod"),
])
def test_abbreviated_options_are_refused(capsys, argv, wrong):
    assert_one_line_error(*run(argv, capsys)[::2], f"unrecognized arguments: {wrong}")


def test_out_is_not_taken_for_output(tmp_path, capsys):
    """The issue's example: --out is the model file, --output the output activation."""
    model = tmp_path / "m.npz"
    status, out, _ = run(["train", "planar", "--out", model, "--epochs", "2", "--verbose", "0"], capsys)
    assert status == 0 and model.exists() and "-> sigmoid output" in out


# -- models that are missing, corrupt, or do not match the data ---------------------------------
@pytest.fixture
def model(tmp_path, capsys, rng):
    data = write_csv(tmp_path / "data.csv", two_class_rows(rng, 60), header=["a", "b", "c", "label"])
    path = tmp_path / "model.npz"
    assert run(["train", data, "--layers", "3", "--epochs", "5", "--verbose", "0", "--out", path], capsys)[0] == 0
    return path


@pytest.mark.parametrize("command", ["predict", "info", "diagnose"])
def test_a_corrupt_model_file(tmp_path, capsys, command):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    argv = [command, bad] + ([] if command == "info" else ["planar"])
    assert_one_line_error(*run(argv, capsys)[::2], "bad.npz is not a valid fastdl model file")


@pytest.mark.parametrize("header, fragments", [
    (["a", "c", "label"], ["lacks the feature columns ['b'] that ", "model.npz was trained on; its columns are ['a', 'c', 'label']"]),
    (["x", "y", "z", "label"], ["lacks the feature columns ['a', 'b', 'c']"]),
])
def test_data_without_the_models_features(tmp_path, capsys, model, header, fragments):
    data = write_csv(tmp_path / "new.csv", [[1.0] * len(header)], header=header)
    assert_one_line_error(*run(["predict", model, data], capsys)[::2], *fragments)


def test_data_of_another_width_without_header(tmp_path, capsys, model):
    data = write_csv(tmp_path / "new.csv", [[1.0, 2.0], [3.0, 4.0]])
    assert_one_line_error(*run(["predict", model, data], capsys)[::2],
                          "model.npz takes n_x = 3 features but ", "new.csv has 2 feature columns",
                          "(it was trained on a file of 4 columns, the target in column 'label')")


def test_generated_data_of_another_width(capsys, model):
    assert_one_line_error(*run(["predict", model, "planar"], capsys)[::2],
                          "planar: X has shape (2, 400), but ", "model.npz takes (n_x, m) = (3, m)")


def test_probabilities_of_a_regression(tmp_path, capsys):
    fastdl.Network([2, 1], output="linear", backend="numpy").save(tmp_path / "reg.npz")
    assert_one_line_error(*run(["predict", tmp_path / "reg.npz", "planar", "--proba"], capsys)[::2],
                          "predict_proba needs a 'sigmoid' or 'softmax' output layer")


def test_a_class_the_model_never_saw(tmp_path, capsys, model):
    data = write_csv(tmp_path / "new.csv", [[1, 2, 3, "maybe"], [1, 2, 3, "yes"]], header=["a", "b", "c", "label"])
    assert_one_line_error(*run(["diagnose", model, data], capsys)[::2],
                          "new.csv column 'label': the target value 'maybe' is not one of the classes ['no', 'yes']")


def test_npz_data_that_is_not_x_and_y(tmp_path, capsys):
    np.savez(tmp_path / "xz.npz", X=np.zeros((2, 5)), Z=np.zeros(3))
    assert_one_line_error(*run(["train", tmp_path / "xz.npz"], capsys)[::2],
                          "xz.npz must hold arrays named 'X' (n_x, m) and 'Y' (n_y, m); found ['X', 'Z']")
    (tmp_path / "junk.npz").write_text("not an archive")
    assert_one_line_error(*run(["train", tmp_path / "junk.npz"], capsys)[::2], "junk.npz cannot be read as an .npz archive")
