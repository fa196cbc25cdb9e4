"""Shared by the command-line tests: writing small CSV files and running a command in process."""
import numpy as np

from fastdl import cli


def write_csv(path, rows, header=None):
    """Write ``rows`` (lists of values) to ``path`` as CSV, with ``header`` if given; returns str(path)."""
    lines = [",".join(header)] if header else []
    lines += [",".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def two_class_rows(rng, m=120):
    """Rows a, b, c, label: the label ('yes'/'no') is the side of a plane through a and b."""
    X = rng.standard_normal((m, 3)).round(4)
    labels = np.where(X[:, 0] - X[:, 1] > 0, "yes", "no")
    return [[*x, label] for x, label in zip(X.tolist(), labels)]


def run(argv, capsys):
    """(exit status, stdout, stderr) of ``fastdl argv``."""
    status = cli.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status, err, *fragments):
    """Exit status 2, a single line on standard error holding every fragment, no traceback."""
    assert status == 2
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
