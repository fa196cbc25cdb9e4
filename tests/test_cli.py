"""The fastdl command line: demo, train, predict, info."""
import subprocess
import sys

import numpy as np
import pytest

from fastdl import cli


def test_demo_prints_costs_and_accuracies(capsys):
    assert cli.main(["demo", "--epochs", "300", "--backend", "numpy"]) == 0
    out = capsys.readouterr().out
    assert "Cost after iteration 0:" in out and "Cost after iteration 299:" in out
    assert "train accuracy" in out and "test accuracy" in out


def test_demo_runs_as_a_console_command():
    result = subprocess.run([sys.executable, "-m", "fastdl.cli", "demo", "--epochs", "50"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout


def test_train_save_predict_round_trip(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    data = tmp_path / "data.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,label", comments="")
    model = tmp_path / "model.npz"
    assert cli.main(["train", str(data), "--layers", "5", "--lr", "0.5", "--epochs", "300",
                     "--optimizer", "adam", "--batch-size", "32", "--save", str(model)]) == 0
    out = capsys.readouterr().out
    assert "train cost" in out and "saved to" in out and model.exists()
    predictions = tmp_path / "predictions.csv"
    assert cli.main(["predict", str(model), str(data), "--out", str(predictions)]) == 0
    predicted = np.loadtxt(predictions, delimiter=",")
    assert predicted.shape == (200,) and np.mean(predicted == y) > 0.9


def test_train_softmax_on_integer_labels(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((150, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5])  # three classes
    data = tmp_path / "three.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",")
    assert cli.main(["train", str(data), "--layers", "8", "--output", "softmax", "--classes", "3",
                     "--lr", "0.05", "--epochs", "200", "--optimizer", "adam"]) == 0
    assert "accuracy" in capsys.readouterr().out


def test_train_generated_regression(capsys):
    assert cli.main(["train", "regression", "--layers", "8", "--hidden", "tanh", "--lr", "0.05",
                     "--epochs", "50"]) == 0
    assert "train cost" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "no-such-file.csv"], "neither a file nor one of the generated sets"),
    (["train", "planar", "--lr", "-1"], "learning_rate must be a finite positive number"),
    (["predict", "missing.npz", "planar"], "No such file"),
])
def test_errors_are_one_line_with_exit_status_2(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_info_lists_backends(capsys):
    assert cli.main(["info"]) == 0
    assert "backends available" in capsys.readouterr().out
