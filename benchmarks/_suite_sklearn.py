"""compare.py's ``--suite sklearn``: fastdl.sklearn against scikit-learn's own MLP, fit for fit.

The same estimator settings on both sides: hidden layers (64, 32), batch 64, 200 epochs
(``max_iter=200``, with ``tol=0`` and ``n_iter_no_change`` out of reach, so that both run
every epoch), learning rate 1e-3, ``random_state=0``; solvers adam, sgd and lbfgs (200
iterations), on the data sets scikit-learn ships: breast_cancer and digits
(classifiers), diabetes (regressor, alpha=1), each standardised and split 75/25 with
``random_state=0``. fastdl.sklearn replays scikit-learn's arithmetic (same starting
parameters, shuffles and update rules), so both reach the same test score, which the
table shows beside the times. Fits alternate between the two libraries, ``--repeat``
times (default 3, quick 1); the table gives medians.

Targets: at least 5x faster at an equal test score (within 0.02) with adam and sgd, at
least 2x with lbfgs (whose optimiser itself runs in scipy).

    python benchmarks/compare.py --suite sklearn --readme README.md benchmarks/README.md
"""
import datetime
import shlex
import statistics
import sys
import warnings

from benchmarks.common import TIMER
from _compare_report import environment, fmt_time, load_average, markdown_table, text_table, write_outputs

BEGIN, END = "<!-- compare.py sklearn: begin -->", "<!-- compare.py sklearn: end -->"
SOLVERS = ("adam", "sgd", "lbfgs")
TARGETS = {"adam": 5.0, "sgd": 5.0, "lbfgs": 2.0}
SCORE_TOLERANCE = 0.02


def data_sets():
    """{name: (kind, X_train, X_test, y_train, y_test, extra estimator settings)}."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    sets = {}
    for name, load, kind, extra in (("breast_cancer", load_breast_cancer, "classifier", {}),
                                    ("digits", load_digits, "classifier", {}),
                                    ("diabetes", load_diabetes, "regressor", {"alpha": 1.0})):
        X, y = load(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        scaler = StandardScaler().fit(X_train)
        sets[name] = (kind, scaler.transform(X_train), scaler.transform(X_test), y_train, y_test,
                      extra)
    return sets


def estimators(kind):
    """{library: estimator class} for a classifier or a regressor."""
    from sklearn import neural_network

    import fastdl.sklearn

    name = "MLPClassifier" if kind == "classifier" else "MLPRegressor"
    return {"fastdl": getattr(fastdl.sklearn, name), "scikit-learn": getattr(neural_network, name)}


def settings(solver, epochs, extra):
    return dict(hidden_layer_sizes=(64, 32), solver=solver, batch_size=64, max_iter=epochs,
                learning_rate_init=1e-3, random_state=0, tol=0.0, n_iter_no_change=10**9, **extra)


def time_case(data, solver, epochs, repeat):
    """Seconds per fit (every sample) and the test score of each library."""
    kind, X_train, X_test, y_train, y_test, extra = data
    classes = estimators(kind)
    seconds = {library: [] for library in classes}
    scores = {}
    for round_ in range(repeat):
        order = list(classes) if round_ % 2 == 0 else list(classes)[::-1]
        for library in order:
            estimator = classes[library](**settings(solver, epochs, extra))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = TIMER()
                estimator.fit(X_train, y_train)
                seconds[library].append(TIMER() - start)
            scores[library] = float(estimator.score(X_test, y_test))
    return seconds, scores


def run(args):
    sets = data_sets()
    epochs = 20 if args.quick else 200
    repeat = args.repeat or (1 if args.quick else 3)
    results = []
    for name, data in sets.items():
        for solver in SOLVERS:
            print(f"timing {name} {solver} ...", flush=True)
            seconds, scores = time_case(data, solver, epochs, repeat)
            median = {library: statistics.median(values) for library, values in seconds.items()}
            results.append({"data": name, "kind": data[0], "solver": solver, "epochs": epochs,
                            "seconds": seconds, "median_s": median, "test_score": scores,
                            "speed_up": median["scikit-learn"] / median["fastdl"]})
    return results, epochs, repeat


def rows(results):
    table = []
    for r in results:
        gap = abs(r["test_score"]["fastdl"] - r["test_score"]["scikit-learn"])
        target = TARGETS[r["solver"]]
        met = r["speed_up"] >= target and gap <= SCORE_TOLERANCE
        table.append([r["data"], r["solver"], fmt_time(r["median_s"]["scikit-learn"]),
                      fmt_time(r["median_s"]["fastdl"]), f"{r['speed_up']:.2f}x",
                      f"{r['test_score']['scikit-learn']:.3f}", f"{r['test_score']['fastdl']:.3f}",
                      f"{target:.0f}x", "yes" if met else "no"])
    return table


HEADER = ["data set", "solver", "scikit-learn fit", "fastdl fit", "speed-up",
          "scikit-learn score", "fastdl score", "target", "met"]


def markdown(report):
    env = report["environment"]
    lines = ["<!-- Written by benchmarks/compare.py --suite sklearn; do not edit by hand. -->",
             "### fastdl.sklearn against scikit-learn's MLP: a whole fit",
             "",
             f"- Machine: {env['cpu']}, {env['cores']} cores, {env['memory_gib']:.1f} GiB; "
             f"Python {env['python']}, scikit-learn {env['versions'].get('scikit-learn')}, "
             f"fastdl {env['versions'].get('fastdl')}",
             f"- Command: `{report['command']}`",
             f"- Date: {report['date']}; load average at the start {report['load_at_start']:.2f}",
             f"- Hidden layers (64, 32), batch 64, {report['epochs']} epochs (lbfgs: iterations), "
             f"learning rate 1e-3, random_state=0; test score: accuracy (classifiers), R² "
             f"(diabetes, alpha=1); medians of {report['repeat']} alternating fits",
             "",
             markdown_table(HEADER, rows(report["results"]))]
    return "\n".join(lines) + "\n"


def main(args, argv):
    load_at_start = load_average()
    results, epochs, repeat = run(args)
    report = {"command": "python benchmarks/compare.py " + shlex.join(argv),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "environment": environment(), "load_at_start": load_at_start, "epochs": epochs,
              "repeat": repeat, "results": results}
    print(text_table(HEADER, rows(results)))
    write_outputs(args, report, markdown(report), BEGIN, END)
    return 0


if __name__ == "__main__":  # pragma: no cover - run through compare.py
    sys.exit("run it as: python benchmarks/compare.py --suite sklearn")
