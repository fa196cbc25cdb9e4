"""The fastdl command line: demo, train, predict and info, end to end (search, diagnose and the
errors have their own files)."""
import subprocess
import sys

import numpy as np
import pytest

import fastdl
from cli_helpers import run, two_class_rows, write_csv

COMMANDS = ["demo", "train", "predict", "diagnose", "search", "info"]


# -- every command ----------------------------------------------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    status, out, _ = run([command, "--help"], capsys)
    assert status == 0 and out.startswith(f"usage: fastdl {command}")


def test_the_top_level_help_lists_every_command(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and all(f"    {command} " in out for command in COMMANDS)


# -- demo -------------------------------------------------------------------------------------
def test_demo_prints_costs_and_accuracies(capsys):
    status, out, _ = run(["demo", "--epochs", "300", "--backend", "numpy"], capsys)
    assert status == 0
    assert "Cost after iteration 0:" in out and "Cost after iteration 299:" in out
    assert "train accuracy" in out and "test accuracy" in out


def test_demo_runs_as_a_console_command():
    """As the README's first command runs it (python -m is the same entry point as `fastdl`)."""
    result = subprocess.run([sys.executable, "-m", "fastdl.cli", "demo", "--epochs", "50"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout


# -- train and predict ------------------------------------------------------------------------
@pytest.fixture
def labelled_csv(tmp_path, rng):
    return write_csv(tmp_path / "data.csv", two_class_rows(rng, 200), header=["a", "b", "c", "label"])


def test_train_save_predict_round_trip_with_class_names(tmp_path, capsys, labelled_csv):
    model = tmp_path / "model.npz"
    status, out, _ = run(["train", labelled_csv, "--target", "label", "--layers", "5", "--lr", "0.05",
                          "--epochs", "100", "--optimizer", "adam", "--batch-size", "32", "--out", model], capsys)
    assert status == 0
    assert "target 'label': 2 classes ['no', 'yes'] -> sigmoid output" in out
    assert "train cost" in out and "dev   cost" in out and "test  cost" in out and "error" in out
    assert "train error" in out and "(base error 0.0%)" in out  # the diagnosis
    assert f"saved {model}, features ['a', 'b', 'c'], classes ['no', 'yes']" in out
    net = fastdl.load(model)
    assert net.metadata["feature_names"] == ["a", "b", "c"] and net.metadata["classes"] == ["no", "yes"]
    assert net.metadata["target"] == "label" and net.metadata["split"]["m"] == 200
    predictions = tmp_path / "predictions.csv"
    status, out, _ = run(["predict", model, labelled_csv, "--out", predictions], capsys)
    assert status == 0 and out == f"200 predictions written to {predictions}\n"
    lines = predictions.read_text().splitlines()
    truth = [line.split(",")[-1] for line in open(labelled_csv).read().splitlines()[1:]]
    assert lines[0] == "label" and len(lines) == 201
    assert np.mean(np.array(lines[1:]) == np.array(truth)) > 0.9


def test_predict_reads_the_features_by_name_in_any_order(tmp_path, capsys, labelled_csv):
    model = tmp_path / "model.npz"
    run(["train", labelled_csv, "--layers", "4", "--epochs", "20", "--verbose", "0", "--out", model], capsys)
    rows = [line.split(",") for line in open(labelled_csv).read().splitlines()[1:6]]
    shuffled = write_csv(tmp_path / "new.csv", [[c, "?", a, b] for a, b, c, _ in rows], header=["c", "label", "a", "b"])
    in_order = write_csv(tmp_path / "plain.csv", [[a, b, c] for a, b, c, _ in rows])  # no header: by position
    outputs = [run(["predict", model, path, "--proba"], capsys) for path in (shuffled, in_order)]
    assert [status for status, _, _ in outputs] == [0, 0]
    assert outputs[0][1] == outputs[1][1] and outputs[0][1].splitlines()[0] == "P(yes)"
    net = fastdl.load(model)
    X = np.array([[float(a), float(b), float(c)] for a, b, c, _ in rows]).T
    np.testing.assert_allclose([float(p) for p in outputs[0][1].splitlines()[1:]], net.predict_proba(X)[0], rtol=1e-5)


def test_train_softmax_from_integer_classes_in_the_first_column(tmp_path, capsys, rng):
    X = rng.standard_normal((150, 2)).round(4)
    classes = np.digitize(X[:, 0], [-0.5, 0.5]) + 1  # 1, 2, 3
    data = write_csv(tmp_path / "three.csv", [[k, *x] for k, x in zip(classes.tolist(), X.tolist())])
    model = tmp_path / "three.npz"
    status, out, _ = run(["train", data, "--target", "0", "--layers", "8", "--lr", "0.05", "--epochs", "150",
                          "--optimizer", "adam", "--verbose", "0", "--out", model], capsys)
    assert status == 0 and "target 0: 3 classes [1, 2, 3] -> softmax output" in out
    assert fastdl.load(model).layer_dims == [2, 8, 3]
    status, out, _ = run(["predict", model, data], capsys)  # the training file's layout, by position
    predicted = np.array([int(v) for v in out.splitlines()[1:]])
    assert status == 0 and out.splitlines()[0] == "prediction" and np.mean(predicted == classes) > 0.8
    status, out, _ = run(["predict", model, data, "--proba"], capsys)
    assert out.splitlines()[0] == "P(1),P(2),P(3)"


def test_train_regression_and_predict_values(tmp_path, capsys, rng):
    X = rng.uniform(-1, 1, (120, 2)).round(4)
    y = (X[:, 0] + 0.5 * X[:, 1]).round(4)
    data = write_csv(tmp_path / "reg.csv", [[*x, v] for x, v in zip(X.tolist(), y.tolist())], header=["u", "v", "price"])
    model = tmp_path / "reg.npz"
    status, out, _ = run(["train", data, "--layers", "6", "--activation", "tanh", "--lr", "0.05", "--epochs", "200",
                          "--optimizer", "adam", "--verbose", "0", "--out", model], capsys)
    assert status == 0 and "-> linear output" in out and "a regression has no error rates" in out
    status, out, _ = run(["predict", model, data], capsys)
    values = np.array([float(v) for v in out.splitlines()[1:]])
    assert out.splitlines()[0] == "price" and np.mean(np.abs(values - y)) < 0.2


def test_train_the_generated_sets_with_a_plot(tmp_path, capsys):
    curve = tmp_path / "curve.png"
    status, out, _ = run(["train", "planar", "--layers", "8,4", "--activation", "tanh", "--lr", "0.5",
                          "--epochs", "100", "--plot", curve], capsys)
    assert status == 0 and f"cost curve saved to {curve}" in out
    assert curve.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "epoch 100/100" in out  # progress, a line per tenth off a terminal
    status, out, _ = run(["train", "regression", "--layers", "4", "--lr", "0.05", "--epochs", "10"], capsys)
    assert status == 0 and "-> linear output" in out


def test_train_stops_early_on_the_dev_set(capsys):
    status, out, _ = run(["train", "planar", "--layers", "4", "--lr", "0.5", "--epochs", "5000",
                          "--patience", "3", "--verbose", "0"], capsys)
    assert status == 0 and "stopped: early stopping after" in out


def test_a_diverging_run_warns_on_one_line_and_keeps_the_last_good_parameters(capsys):
    status, out, err = run(["train", "planar", "--layers", "4", "--lr", "1e6", "--epochs", "50",
                            "--verbose", "0"], capsys)
    assert status == 0 and "stopped: diverged after" in out
    assert err.startswith("fastdl train: warning: ") and err.count("\n") == 1


# -- info -------------------------------------------------------------------------------------
def test_info_without_a_model(capsys):
    status, out, _ = run(["info"], capsys)
    assert status == 0
    assert out.startswith(f"fastdl {fastdl.__version__} (Python ")
    assert f"backends available: {', '.join(fastdl.available_backends())}" in out
    assert "compiled vector math: " in out and "\nBLAS: " in out and "optional packages: " in out


def test_info_with_a_model_prints_the_dimension_table(tmp_path, capsys):
    net = fastdl.Network([4, 20, 7, 1], backend="numpy")
    net.save(tmp_path / "m.npz")
    status, out, _ = run(["info", tmp_path / "m.npz", "-m", "209"], capsys)
    lines = out.splitlines()
    assert status == 0 and "L = 3 layers" in lines[0] and "layer_dims [4, 20, 7, 1]" in lines[0]
    assert lines[1].split() == ["layer", "activation", "W[l]", "b[l]", "Z[l],", "A[l]", "parameters"]
    assert lines[2].split() == ["0", "(input)", "-", "-", "A[0]", "=", "X:", "(4,", "209)", "-"]
    assert lines[3].split() == ["1", "relu", "(20,", "4)", "(20,", "1)", "(20,", "209)", "100"]
    assert lines[5].split() == ["3", "sigmoid", "(1,", "7)", "(1,", "1)", "(1,", "209)", "8"]
    assert f"parameters: {4 * 20 + 20 + 20 * 7 + 7 + 7 + 1}" in out


def test_info_without_threadpoolctl_reads_scipys_build(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import threadpoolctl now raises ImportError
    status, out, _ = run(["info"], capsys)
    assert status == 0 and "scipy's build; install threadpoolctl to see the libraries loaded" in out


def test_info_with_a_model_and_a_symbolic_m(tmp_path, capsys):
    fastdl.Network([3, 2, 1], backend="numpy").save(tmp_path / "m.npz")
    status, out, _ = run(["info", tmp_path / "m.npz"], capsys)
    assert status == 0 and "A[0] = X: (3, m)" in out and "(2, 1)  (2, m)" in out
