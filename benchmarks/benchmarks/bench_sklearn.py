"""fastdl.sklearn against scikit-learn's MLP: a fit with the same settings, on the data
sets scikit-learn ships (the asv side of ``compare.py --suite sklearn``).

``impl`` is the library; ``track_test_score`` keeps the quality next to the speed (both
must reach the same score: fastdl.sklearn replays scikit-learn's arithmetic). Fewer epochs
than compare.py's 200, so that one sample stays short.
"""
import warnings

from .common import TIMER

EPOCHS = 20


def _case(data_set, solver, impl):
    try:
        import _suite_sklearn as suite
    except ImportError:  # asv imports this package from benchmarks/, compare.py's folder
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import _suite_sklearn as suite
    try:
        data = suite.data_sets()[data_set]
    except ImportError as error:
        raise NotImplementedError(f"scikit-learn is not installed ({error})") from None
    kind, X_train, X_test, y_train, y_test, extra = data
    estimator = suite.estimators(kind)[impl](**suite.settings(solver, EPOCHS, extra))
    return estimator, X_train, X_test, y_train, y_test


class SklearnFit:
    params = [["breast_cancer", "digits", "diabetes"], ["adam", "sgd", "lbfgs"],
              ["fastdl", "scikit-learn"]]
    param_names = ["data_set", "solver", "impl"]
    timer = TIMER

    def setup(self, data_set, solver, impl):
        self.estimator, self.X, self.X_test, self.y, self.y_test = _case(data_set, solver, impl)
        warnings.simplefilter("ignore")

    def time_fit(self, data_set, solver, impl):
        self.estimator.fit(self.X, self.y)

    def track_test_score(self, data_set, solver, impl):
        return self.estimator.fit(self.X, self.y).score(self.X_test, self.y_test)
