"""``fastdl search`` and ``fastdl diagnose`` (the Dask scheduler run is in test_search_dask.py)."""
import json

import pytest

import fastdl
from cli_helpers import assert_one_line_error, run, two_class_rows, write_csv

SPACE = {"hidden_sizes": [[4], [8, 4]], "learning_rate": {"loguniform": [0.005, 0.1]}, "optimizer": "adam",
         "batch_size": 32}


@pytest.fixture
def labelled_csv(tmp_path, rng):
    return write_csv(tmp_path / "data.csv", two_class_rows(rng, 150), header=["a", "b", "c", "label"])


def _table_rows(out, n):
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "trial"])
    return lines[start], lines[start + 1:start + 1 + n]


def test_search_prints_the_table_and_saves_the_best(tmp_path, capsys, labelled_csv):
    best = tmp_path / "best.npz"
    status, out, _ = run(["search", labelled_csv, "--target", "label", "--trials", "4", "--epochs", "15",
                          "--space", json.dumps(SPACE), "--verbose", "0", "--out", best], capsys)
    assert status == 0
    header, rows = _table_rows(out, 4)
    assert header.split() == ["rank", "trial", "batch_size", "hidden_sizes", "learning_rate", "optimizer",
                              "train_error", "dev_error", "train_cost", "dev_cost", "epochs", "seconds", "stop_reason"]
    assert [row.split()[0] for row in rows] == ["1", "2", "3", "4"]
    assert "best: trial " in out and "train error" in out  # the best network's figures and diagnosis
    net = fastdl.load(best)
    assert net.metadata["classes"] == ["no", "yes"] and net.metadata["feature_names"] == ["a", "b", "c"]
    assert net.metadata["search"]["method"] == "random" and net.metadata["search"]["seed"] == 0
    status, out, _ = run(["predict", best, labelled_csv], capsys)
    assert status == 0 and out.splitlines()[0] == "label" and set(out.splitlines()[1:]) <= {"yes", "no"}


def test_search_halving_in_parallel_as_markdown_from_a_space_file(tmp_path, capsys, labelled_csv):
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    argv = ["search", labelled_csv, "--trials", "9", "--method", "halving", "--epochs", "27", "--space", space,
            "--verbose", "0", "--markdown"]
    status, out, _ = run(argv + ["--jobs", "2"], capsys)
    assert status == 0
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert len(lines) == 2 + 9 and lines[0].endswith("| stop_reason | rung |")
    assert [line.split("|")[-2].strip() for line in lines[2:]] == ["2", "1", "1"] + ["0"] * 6
    status, local, _ = run(argv + ["--jobs", "1"], capsys)  # the same trials, the same table but the times
    strip_seconds = (lambda text: [line.split("|")[:-4] + line.split("|")[-3:] for line in text.splitlines()])
    assert strip_seconds(local) == strip_seconds(out)


def test_search_on_a_regression(capsys):
    status, out, _ = run(["search", "regression", "--trials", "2", "--epochs", "5", "--verbose", "0"], capsys)
    header, rows = _table_rows(out, 2)
    assert status == 0 and "dev_error" not in header and "dev_cost" in header
    assert "a regression has no error rates" in out


def test_search_progress_on_standard_error(capsys):
    status, _, err = run(["search", "planar", "--trials", "2", "--epochs", "2", "--verbose", "2"], capsys)
    assert status == 0 and "trial 0 (" in err and "(2/2): dev_error" in err


def test_search_on_an_unreachable_scheduler_fails_in_bounded_time(capsys):
    pytest.importorskip("distributed")
    status, _, err = run(["search", "planar", "--trials", "1", "--epochs", "1", "--scheduler", "tcp://127.0.0.1:9",
                          "--connect-timeout", "1"], capsys)
    assert_one_line_error(status, err, "fastdl search: error: ", "tcp://127.0.0.1:9")


# -- diagnose ---------------------------------------------------------------------------------
@pytest.mark.parametrize("train, dev, verdict", [
    ("0.01", "0.11", "high variance (overfitting)"), ("0.15", "0.16", "high bias (underfitting)"),
    ("0.15", "0.30", "high bias and high variance"), ("0.005", "0.01", "low bias and low variance"),
])
def test_diagnose_the_notes_four_cases(capsys, train, dev, verdict):
    status, out, _ = run(["diagnose", "--train-error", train, "--dev-error", dev], capsys)
    assert status == 0 and out.splitlines()[0].endswith(f": {verdict}")


def test_diagnose_with_a_base_error(capsys):
    status, out, _ = run(["diagnose", "--train-error", "0.15", "--dev-error", "0.16", "--base-error", "0.14"], capsys)
    assert status == 0 and "low bias and low variance" in out and "(base error 14.0%)" in out


def test_diagnose_a_model_on_the_split_it_was_trained_on(tmp_path, capsys, labelled_csv):
    model = tmp_path / "m.npz"
    status, trained, _ = run(["train", labelled_csv, "--layers", "4", "--epochs", "50", "--lr", "0.05",
                              "--optimizer", "adam", "--seed", "3", "--verbose", "0", "--out", model], capsys)
    assert status == 0
    status, out, _ = run(["diagnose", model, labelled_csv, "--target", "label"], capsys)
    assert status == 0
    figures = [line for line in trained.splitlines() if line.startswith(("train ", "dev ", "test "))]
    assert figures == [line for line in out.splitlines() if line.startswith(("train ", "dev ", "test "))]
    assert len(figures) == 4  # three splits and the diagnosis line, exactly as train printed them


def test_diagnose_a_model_without_a_recorded_split(tmp_path, capsys):
    fastdl.Network([2, 3, 1], seed=0, backend="numpy").save(tmp_path / "plain.npz")
    status, out, _ = run(["diagnose", tmp_path / "plain.npz", "planar", "--dev", "0.3", "--test", "0"], capsys)
    assert status == 0 and "has no record of its train/dev split" in out and "train error" in out


@pytest.fixture
def model(tmp_path, capsys, labelled_csv):
    path = tmp_path / "m.npz"
    assert run(["train", labelled_csv, "--epochs", "2", "--verbose", "0", "--out", path], capsys)[0] == 0
    return path


def test_diagnose_rates_and_a_model_at_once(capsys, model, labelled_csv):
    assert_one_line_error(*run(["diagnose", model, labelled_csv, "--train-error", "0.1", "--dev-error", "0.2"],
                               capsys)[::2], "give error rates or a model and its data, not both")


def test_diagnose_on_data_of_another_size(tmp_path, capsys, model, labelled_csv):
    rows = [line.split(",") for line in open(labelled_csv).read().splitlines()[1:40]]
    short = write_csv(tmp_path / "short.csv", rows, header=["a", "b", "c", "label"])
    assert_one_line_error(*run(["diagnose", model, short], capsys)[::2],
                          "m.npz was trained on a split of 150 examples, but the data has 39")


def test_diagnose_a_model_needs_its_data_and_a_classifier(tmp_path, capsys):
    fastdl.Network([3, 1], output="linear", backend="numpy").save(tmp_path / "reg.npz")
    assert_one_line_error(*run(["diagnose", tmp_path / "reg.npz"], capsys)[::2], "a model needs its data")
    assert_one_line_error(*run(["diagnose", tmp_path / "reg.npz", "regression"], capsys)[::2],
                          "reg.npz is a regression ('linear' output)")
