"""scikit-learn estimators on fastdl's engine: a one-line switch from scikit-learn's MLP.

    from fastdl.sklearn import MLPClassifier   # was: from sklearn.neural_network import ...

:class:`MLPClassifier` and :class:`MLPRegressor` take scikit-learn's hyperparameters with
scikit-learn's meanings and defaults, expose the same fitted attributes, and work in
pipelines, searches, ``clone`` and pickles; each ``fit`` runs in fastdl's compiled engine.
They add what scikit-learn's MLP does not have: leaky ReLU, one activation per hidden
layer, custom activations, dropout (``keep_prob``), float32 end to end, the solver 'gd'
(full-batch gradient descent), a validation-loss history (``history_``) and a progress
bar. Needs scikit-learn: ``pip install "fastdl[sklearn]"``.
"""
try:
    import sklearn  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(f"fastdl.sklearn needs scikit-learn: pip install 'fastdl[sklearn]' "
                      f"(or pip install scikit-learn) ({error})") from None

from ._estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
