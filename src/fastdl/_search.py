"""``fastdl.search``: the Idea → Code → Experiment loop over a space of settings, one
trial per setting, in parallel through joblib (and so on Dask) when asked."""
import math
import numbers
import sys
from types import MappingProxyType

import numpy as np

from . import _space
from ._search_result import SearchResult, rank_key
from ._trials import Target, Task, restore, run_trial
from ._validation import as_matrix, check_choice, check_positive

METHODS = ("grid", "halving", "random")
HALVING_FACTOR = 3  # halving keeps the best third and triples the budget
PARALLEL_HINT = "parallel trials need joblib and threadpoolctl: pip install 'fastdl[parallel]'"


def _check_data(X_train, Y_train, X_dev, Y_dev):
    def matrix(name, array):
        dtype = getattr(array, "dtype", None)
        return as_matrix(name, array, np.float32 if dtype == np.float32 else np.float64)

    X, Y, X_dev, Y_dev = (matrix(name, array) for name, array in (
        ("X_train", X_train), ("Y_train", Y_train), ("X_dev", X_dev), ("Y_dev", Y_dev)))
    for name, (A, B) in {"train": (X, Y), "dev": (X_dev, Y_dev)}.items():
        if A.shape[1] != B.shape[1]:
            raise ValueError(f"X_{name} has m = {A.shape[1]} examples (columns) but Y_{name} has {B.shape[1]}")
    if X_dev.shape[0] != X.shape[0] or Y_dev.shape[0] != Y.shape[0]:
        raise ValueError(f"the dev set has {X_dev.shape[0]} features and {Y_dev.shape[0]} target rows; "
                         f"the training set {X.shape[0]} and {Y.shape[0]}")
    return X, Y, X_dev, Y_dev


def infer_target(Y, Y_dev):
    """sigmoid for 0/1 labels, softmax for one-hot columns, else a linear output (regression)."""
    values = np.concatenate([Y, Y_dev], axis=1)
    n_y = values.shape[0]
    binary = bool(np.isin(values, (0, 1)).all())
    labels = n_y == 1 and bool((values == np.round(values)).all()) and values.min() >= 0
    classes = int(values.max()) + 1 if labels else None
    if binary and n_y > 1 and bool((values.sum(axis=0) == 1).all()):
        return Target("softmax", n_y, classes)
    return Target("sigmoid" if binary else "linear", n_y, classes)


def _root_seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer; got {seed!r}")
    return int(seed)


def _settings(space, configs, n_trials, method, seed):
    """The settings to try, one per trial, in trial order."""
    halving = method == "halving"
    if configs is not None:
        if space is not None:
            raise ValueError("give either space (to sample or grid) or configs (settings to run as "
                             "given), not both")
        if method == "grid":
            raise ValueError("method='grid' expands a space; configs run as given: use "
                             "method='random' (each config once) or 'halving'")
        configs = list(configs)
        if not configs:
            raise ValueError("configs is empty: give at least one setting to try")
        for i, config in enumerate(configs):
            _space.check_keys(f"configs[{i}]", config, halving=halving)
        return [dict(config) for config in configs]
    if space is None:
        if method == "grid":
            raise ValueError("method='grid' needs a space of lists to combine; the default space "
                             "draws from distributions (use method='random' or give space=)")
        space = _space.DEFAULT_SPACE
    space = _space.check_space(space, halving=halving)
    if method == "grid":
        return _space.grid(space)
    return [_space.sample(space, seed, i) for i in range(n_trials)]


def _metric(settings, target):
    """Classifiers rank by dev error, regressions by dev cost; one search is one or the other."""
    classifier = {setting.get("output", target.output) in ("sigmoid", "softmax") for setting in settings}
    if len(classifier) > 1:
        raise ValueError("the settings mix classifier outputs (sigmoid, softmax) with regression "
                         "outputs, whose dev scores cannot be ranked together; search them apart")
    return "dev_error" if classifier.pop() else "dev_cost"


def _uses_joblib(n_jobs):
    """n_jobs=1 runs in this process without importing joblib; None follows joblib's context."""
    if n_jobs == 1:
        return False
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral)
                               or n_jobs == 0):
        raise ValueError(f"n_jobs must be a non-zero integer (-1: every core) or None; got {n_jobs!r}")
    try:
        import joblib  # noqa: F401
    except ImportError:
        if n_jobs is None:
            return False
        raise ImportError(f"search(n_jobs={n_jobs}): {PARALLEL_HINT}") from None
    return True


def _return_as():
    """Results as trials finish where joblib can (1.4), else in order."""
    import joblib

    version = tuple(int(part) for part in joblib.__version__.split(".")[:2] if part.isdigit())
    return "generator_unordered" if version >= (1, 4) else "generator"


class _Progress:
    """verbose=1: a tqdm bar of trials (a line per trial without tqdm); 2: a line per trial."""

    def __init__(self, total, verbose, metric):
        self.total, self.verbose, self.metric, self.done, self.bar = total, verbose, metric, 0, None
        if verbose == 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, unit="trial", desc="search", dynamic_ncols=True)

    def update(self, outcome):
        self.done += 1
        value = outcome.scores[self.metric]
        shown = "-" if value is None else f"{value:.4g}"
        if self.bar is not None:
            self.bar.set_postfix({f"trial {outcome.index} {self.metric}": shown}, refresh=False)
            self.bar.update(1)
        elif self.verbose:
            print(f"trial {outcome.index} ({self.done}/{self.total}): {self.metric} {shown}, "
                  f"{outcome.epochs} epochs, {outcome.stop_reason}, {outcome.seconds:.2f} s",
                  file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _execute(jobs, data, n_jobs, progress):
    """Run (task, state) pairs; their outcomes by trial index."""
    if _uses_joblib(n_jobs):
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, return_as=_return_as())
        outcomes = parallel(delayed(run_trial)(task, data, state) for task, state in jobs)
    else:
        outcomes = (run_trial(task, data, state) for task, state in jobs)
    done = {}
    for outcome in outcomes:
        progress.update(outcome)
        done[outcome.index] = outcome
    return done


def _record(task, outcome, earlier=None):
    """The result dict of a trial; successive rounds add up their epochs and seconds."""
    record = {"trial": task.index, "params": dict(task.params), "seed": task.seed, **outcome.scores,
              "seconds": outcome.seconds, "epochs": outcome.epochs, "stop_reason": outcome.stop_reason}
    if earlier is not None:
        record["seconds"] += earlier["seconds"]
        record["epochs"] += earlier["epochs"]
    return record


def halving_rounds(n_trials, epochs):
    """Trials per round (a third survive each) and the cumulative epoch budget of each round."""
    counts = [n_trials]
    while counts[-1] > 1:
        counts.append(math.ceil(counts[-1] / HALVING_FACTOR))
    smallest = HALVING_FACTOR ** (len(counts) - 1)
    if epochs < smallest:
        raise ValueError(f"method='halving' with {n_trials} trials runs {len(counts)} rounds and "
                         f"needs epochs >= {smallest} (at least one epoch in the first round); "
                         f"got epochs={epochs}")
    return counts, [epochs // HALVING_FACTOR ** (len(counts) - 1 - k) for k in range(len(counts))]


def _run_all(tasks, data, n_jobs, progress):
    outcomes = _execute([(task, None) for task in tasks], data, n_jobs, progress)
    records = [_record(task, outcomes[task.index]) for task in tasks]
    return records, {task.index: outcomes[task.index].state for task in tasks}


def _run_halving(tasks, data, n_jobs, progress, budgets, metric):
    """Successive halving: every trial trains budgets[0] epochs, the best third trains on to
    budgets[1] (continuing, not restarting), and so on until one is left."""
    records, states, alive, trained = {}, {}, list(tasks), 0
    for rung, budget in enumerate(budgets):
        last = rung == len(budgets) - 1
        jobs = [(Task(t.index, t.params, t.seed, budget - trained, t.target, t.threads,
                      resumable=not last), states.get(t.index)) for t in alive]
        outcomes = _execute(jobs, data, n_jobs, progress)
        for task in alive:
            records[task.index] = dict(_record(task, outcomes[task.index], records.get(task.index)),
                                       rung=rung)
            states[task.index] = outcomes[task.index].state
        ranked = sorted(alive, key=lambda t: rank_key(records[t.index], metric))
        alive = [t for t in ranked[:math.ceil(len(ranked) / HALVING_FACTOR)]
                 if not rank_key(records[t.index], metric)[0]]  # a diverged trial never goes on
        trained = budget
        if not alive:
            break
    return list(records.values()), states


def search(X_train, Y_train, X_dev, Y_dev, *, space=None, configs=None, n_trials=20,
           method="random", n_jobs=1, seed=None, epochs=200, threads_per_trial=1, verbose=0):
    """Train one network per setting and rank them on the dev set.

    Parameters
    ----------
    X_train, Y_train, X_dev, Y_dev : arrays of shape (n_x, m) and (n_y, m)
        One example per column. The output layer follows Y: sigmoid for 0/1 labels,
        softmax for one-hot columns, linear (regression) otherwise; a setting's
        ``output`` overrides it (``'softmax'`` also takes integer labels ``(1, m)``).
    space : dict, optional
        Hyperparameter → choices: a ``list`` (one is picked), a distribution
        (``search.loguniform(1e-4, 1)``, ``search.uniform``, ``search.randint``) or any
        other value (fixed). Keys are Network and fit keywords (``learning_rate``,
        ``hidden``, ``init``, ``l2``, ``keep_prob``, ``batch_size``, ``optimizer``,
        ``beta1``, ``patience`` (stops early on the dev set), ``epochs``, ...) and
        ``hidden_sizes``, a tuple of hidden layer sizes (n_x and the output size come
        from the data; an int is one layer). None: ``search.DEFAULT_SPACE``, one or
        two narrow layers trained by Adam on mini-batches, for small tabular data.
    configs : list of dict, optional
        Explicit settings instead of a space, each run once (``n_trials`` is then unused).
    n_trials : int
        How many settings ``'random'`` draws, and ``'halving'`` starts with.
    method : {'random', 'grid', 'halving'}
        ``'grid'`` tries every combination of the space's lists. ``'halving'`` is
        successive halving with epochs as the budget: every setting trains
        ``epochs / 3**(rounds − 1)`` epochs, the best third on dev train on (calling
        ``fit`` again on the same parameters and shuffling stream; note that ``fit``
        restarts the optimizer's state, e.g. Adam's moments, on each call) to three
        times that, and so on until one has trained ``epochs``.
    n_jobs : int or None
        Trials at once, through joblib (``pip install 'fastdl[parallel]'``); 1 runs them
        here without importing joblib; -1 uses every core; None follows joblib's active
        backend. Inside ``with joblib.parallel_backend("dask"):`` any n_jobs other
        than 1 sends the trials to the Dask cluster (which uses all its workers).
    seed : int, optional
        The sample of trial i and its network's seed come from (seed, i) alone, so
        results are the same whatever n_jobs and wherever trials run. None draws one,
        kept in ``result.seed``.
    epochs : int
        Epochs per trial where a setting does not say (halving: the final budget).
    threads_per_trial : int or None
        BLAS threads per trial (threadpoolctl), applied on every path, n_jobs=1
        included, so that a trial's floating-point results do not depend on n_jobs;
        None leaves BLAS as it is. Without threadpoolctl, n_jobs=1 leaves it as it is.
    verbose : {0, 1, 2}
        1 shows a tqdm bar of finished trials (a line per trial without tqdm), 2 a line each.

    Returns
    -------
    SearchResult
        ``.results`` best first (by dev error, or dev cost for regression; diverged
        trials last: a divergence never stops the search), ``.best_params``,
        ``.best_network``, ``str(result)`` and ``result.to_markdown()`` tables.
    """
    data = _check_data(X_train, Y_train, X_dev, Y_dev)
    method = check_choice("method", method, METHODS)
    n_trials = check_positive("n_trials", n_trials, integer=True)
    epochs = check_positive("epochs", epochs, integer=True)
    if threads_per_trial is not None:
        threads_per_trial = check_positive("threads_per_trial", threads_per_trial, integer=True)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
    _uses_joblib(n_jobs)  # a bad n_jobs, or joblib missing, fails before any training
    seed = _root_seed(seed)
    target = infer_target(data[1], data[3])
    settings = _settings(space, configs, n_trials, method, seed)
    tasks = [Task(i, setting, setting.get("seed", _space.trial_seed(seed, i)),
                  setting.get("epochs", epochs), target, threads_per_trial)
             for i, setting in enumerate(settings)]
    metric = _metric(settings, target)
    if method == "halving":
        counts, budgets = halving_rounds(len(tasks), epochs)
        progress = _Progress(sum(counts), verbose, metric)
    else:
        progress = _Progress(len(tasks), verbose, metric)
    try:
        if method == "halving":
            records, states = _run_halving(tasks, data, n_jobs, progress, budgets, metric)
        else:
            records, states = _run_all(tasks, data, n_jobs, progress)
    finally:
        progress.close()
    records.sort(key=lambda record: rank_key(record, metric))
    best = restore(states[records[0]["trial"]])
    return SearchResult(records, best, method=method, seed=seed, metric=metric)


search.loguniform = _space.loguniform
search.uniform = _space.uniform
search.randint = _space.randint
search.DEFAULT_SPACE = MappingProxyType(_space.DEFAULT_SPACE)
