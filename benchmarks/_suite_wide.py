"""compare.py's ``--suite wide``: wide and sparse inputs, and dropout (issue 11's targets).

* dual: ``fit`` of the notes' cat network ``[12288, 20, 7, 5, 1]``, m = 209, on data of the cat
  images' shape and scale (uniform in [0, 1]), full-batch gradient descent at lr 0.0075,
  2500 iterations: ``first_layer="dual"`` against ``"primal"`` in the same run, and against the
  notes' numpy loop (compare.py's ``notes_*``); all three must end with the same cost (1e-6).
  Targets: dual at least 50x faster than primal, 80x faster than the notes' code.
* sparse: a TF-IDF-like set, m = 20,000, n_x = 50,000, 0.2% non-zeros, ``[50000, 64, 1]``,
  batches of 200. One epoch with Adam, fastdl.sklearn against scikit-learn's MLPClassifier on
  the same sparse input, warm estimators (``partial_fit``; target: 2.5x); one epoch of plain
  gradient descent (``Network.fit``, warm) at n_x and at 2·n_x with the same non-zeros
  (target: under 1.3x); the peak array memory of that fit over the sparse X plus the
  training state (target: under 2x).
* dropout: an epoch of ``fit`` on ``[2, 16, 8, 1]``, planar data, batches of 32, with
  keep_prob 0.8 over the same without (target: at most 1.3x).

Each figure is a median over ``--repeat`` runs (default 3, quick 1), the contenders
alternating.

    python benchmarks/compare.py --suite wide --readme README.md
"""
import datetime
import shlex
import statistics
import warnings

import numpy as np

from benchmarks.array_memory import counting
from benchmarks.common import TIMER, make_images
from _compare_report import environment, fmt_bytes, fmt_time, load_average, markdown_table, \
    text_table, write_outputs
from compare import notes_backward, notes_cost, notes_forward, notes_update

import fastdl
from fastdl.compat import deep

BEGIN, END = "<!-- compare.py wide: begin -->", "<!-- compare.py wide: end -->"
CAT, M_CAT, RATE = [12288, 20, 7, 5, 1], 209, 0.0075


def _median_runs(contenders, repeat):
    """{name: [seconds, ...]}, the contenders alternating; and each one's last result."""
    seconds, results = {name: [] for name in contenders}, {}
    for r in range(repeat):
        for name in (list(contenders) if r % 2 == 0 else list(contenders)[::-1]):
            start = TIMER()
            results[name] = contenders[name]()
            seconds[name].append(TIMER() - start)
    return seconds, results


def _own_timings(contenders, repeat):
    """{name: [seconds, ...]} for contenders that time themselves and return the seconds of
    the part that counts (an epoch after a warm-up and the network's initialisation, which
    grows with n_x and is no epoch's cost), alternating as in :func:`_median_runs`."""
    returned = {name: [] for name in contenders}

    def keeping(name):
        return lambda: returned[name].append(contenders[name]())
    _median_runs({name: keeping(name) for name in contenders}, repeat)
    return returned


# -- the dual form ---------------------------------------------------------------------------
def _cat_fit(first_layer, X, Y, iterations):
    def run():
        params = deep.initialize_parameters_deep(CAT)  # the course's start, both forms
        net = fastdl.Network(CAT, init="small")
        net.set_parameters(params)
        history = net.fit(X, Y, learning_rate=RATE, epochs=iterations, first_layer=first_layer)
        return history.costs[-1]
    return run


def _notes_fit(X, Y, iterations):
    def run():
        parameters = deep.initialize_parameters_deep(CAT)
        L = len(CAT) - 1
        for _ in range(iterations):
            AL, caches = notes_forward(X, parameters, L)
            cost = notes_cost(AL, Y)
            parameters = notes_update(parameters, notes_backward(AL, Y, caches), RATE, L)
        return float(cost)
    return run


def dual_case(iterations, repeat):
    X, Y = make_images(CAT[0], M_CAT)
    contenders = {"fastdl dual": _cat_fit("dual", X, Y, iterations),
                  "fastdl primal": _cat_fit("primal", X, Y, iterations),
                  "numpy notes": _notes_fit(X, Y, iterations)}
    seconds, costs = _median_runs(contenders, repeat)
    median = {name: statistics.median(s) for name, s in seconds.items()}
    spread = max(abs(c - costs["fastdl primal"]) / abs(costs["fastdl primal"]) for c in costs.values())
    return {"iterations": iterations, "seconds": seconds, "median_s": median,
            "last_cost": costs, "cost_agreement": spread,
            "dual_over_primal": median["fastdl primal"] / median["fastdl dual"],
            "dual_over_notes": median["numpy notes"] / median["fastdl dual"]}


# -- sparse ----------------------------------------------------------------------------------
def tfidf(m, n_x, density, seed=0):
    """Rows of non-negative, row-normalised weights (one document each), CSR, and labels
    from a sparse hyperplane."""
    import scipy.sparse

    rng = np.random.default_rng(seed)
    X = scipy.sparse.random(m, n_x, density=density, format="csr", random_state=rng,
                            data_rvs=lambda k: rng.exponential(1.0, k))
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    X = scipy.sparse.diags(1 / np.maximum(norms, 1e-12)) @ X
    w = rng.standard_normal(n_x) * (rng.random(n_x) < 0.05)
    y = (X @ w > 0).astype(int)
    return X.tocsr(), y


def _epoch_seconds(estimator, X, y):
    """One epoch of a warm estimator (partial_fit after a first one): initialisation, which
    both libraries do once per fit, is not an epoch's cost."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.partial_fit(X, y, classes=[0, 1])
        start = TIMER()
        estimator.partial_fit(X, y)
        return TIMER() - start


def _network_epoch_seconds(X, y, epochs=3):
    """One epoch of plain mini-batch gradient descent through Network.fit, on a warm network."""
    net = fastdl.Network([X.shape[1], 64, 1], seed=0)
    XT, Y = X.T, y.reshape(1, -1).astype(float)
    options = dict(learning_rate=0.1, batch_size=200, first_layer="primal")
    net.fit(XT, Y, epochs=1, **options)
    start = TIMER()
    net.fit(XT, Y, epochs=epochs, **options)
    return (TIMER() - start) / epochs


def sparse_case(m, n_x, density, repeat):
    from sklearn.neural_network import MLPClassifier as SK

    from fastdl.sklearn import MLPClassifier as FD

    X, y = tfidf(m, n_x, density)
    options = dict(hidden_layer_sizes=(64,), solver="adam", batch_size=200, random_state=0)
    contenders = {"fastdl adam": lambda: _epoch_seconds(FD(**options), X, y),
                  "scikit-learn adam": lambda: _epoch_seconds(SK(**options), X, y)}
    adam = {name: statistics.median(s) for name, s in _own_timings(contenders, repeat).items()}
    # Plain mini-batch gradient descent (sgd without momentum or L2), at n_x and at 2 n_x
    # with the same non-zeros (every feature index doubled: the columns spread out).
    import scipy.sparse

    X_wide = scipy.sparse.csr_matrix((X.data, X.indices * 2, X.indptr), shape=(m, 2 * n_x))
    contenders = {"n_x": lambda: _network_epoch_seconds(X, y),
                  "2 n_x": lambda: _network_epoch_seconds(X_wide, y)}
    gd_median = {name: statistics.median(s) for name, s in _own_timings(contenders, repeat).items()}
    memory = sparse_memory(X, y)
    return {"m": m, "n_x": n_x, "density": density, "nnz": int(X.nnz), "adam_s": adam,
            "adam_speed_up": adam["scikit-learn adam"] / adam["fastdl adam"], "gd_s": gd_median,
            "gd_doubling": gd_median["2 n_x"] / gd_median["n_x"], "memory": memory}


def sparse_memory(X, y):
    """Peak array memory of a plain-gd epoch over the sparse X plus the training state."""
    net = fastdl.Network([X.shape[1], 64, 1], seed=0)
    XT, Y = X.T, y.reshape(1, -1).astype(float)
    sparse = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    state = 2 * sum(p.nbytes for p in net.parameters.values())  # parameters and backup
    state += 64 * 200 * 8 * 2 + Y.nbytes * 2  # a batch's activations, Y and its reordered copy
    with counting() as counted:
        net.fit(XT, Y, learning_rate=0.1, epochs=1, batch_size=200)
    peak = counted.peak + sparse  # X itself was made before the count started
    return {"sparse_bytes": sparse, "state_bytes": state, "peak_bytes": peak,
            "ratio": peak / (sparse + state)}


# -- dropout ---------------------------------------------------------------------------------
def dropout_case(repeat, epochs=300):
    X, Y = fastdl.datasets.make_planar(m=400)

    def fit(keep):
        def run():
            net = fastdl.Network([2, 16, 8, 1], seed=0)
            net.fit(X, Y, learning_rate=0.05, epochs=epochs, batch_size=32, keep_prob=keep)
        return run
    seconds, _ = _median_runs({"keep_prob 1.0": fit(1.0), "keep_prob 0.8": fit(0.8)}, repeat)
    median = {name: statistics.median(s) / epochs for name, s in seconds.items()}
    return {"epoch_s": median, "ratio": median["keep_prob 0.8"] / median["keep_prob 1.0"]}


# -- report ----------------------------------------------------------------------------------
def rows(report):
    d, s, p = report["dual"], report["sparse"], report["dropout"]
    yes = lambda ok: "yes" if ok else "no"  # noqa: E731
    return [
        [f"dual: fit {CAT} m={M_CAT}, {d['iterations']} iterations",
         f"dual {fmt_time(d['median_s']['fastdl dual'])}, primal "
         f"{fmt_time(d['median_s']['fastdl primal'])}, numpy notes {fmt_time(d['median_s']['numpy notes'])}",
         f"{d['dual_over_primal']:.1f}x over primal, {d['dual_over_notes']:.1f}x over the notes",
         ">= 50x, >= 80x", yes(d["dual_over_primal"] >= 50 and d["dual_over_notes"] >= 80)],
        [f"sparse: an Adam epoch, m={s['m']}, n_x={s['n_x']}, {s['density']:.1%} non-zeros",
         f"fastdl {fmt_time(s['adam_s']['fastdl adam'])}, scikit-learn "
         f"{fmt_time(s['adam_s']['scikit-learn adam'])}", f"{s['adam_speed_up']:.2f}x",
         ">= 2.5x", yes(s["adam_speed_up"] >= 2.5)],
        ["sparse: a gd epoch at 2 n_x over n_x, same non-zeros",
         f"{fmt_time(s['gd_s']['2 n_x'])} / {fmt_time(s['gd_s']['n_x'])}",
         f"{s['gd_doubling']:.2f}x", "< 1.3x", yes(s["gd_doubling"] < 1.3)],
        ["sparse: peak array memory over X + training state",
         f"{fmt_bytes(s['memory']['peak_bytes'])} / ({fmt_bytes(s['memory']['sparse_bytes'])} + "
         f"{fmt_bytes(s['memory']['state_bytes'])})", f"{s['memory']['ratio']:.2f}x", "< 2x",
         yes(s["memory"]["ratio"] < 2)],
        ["dropout: a fit epoch, keep_prob 0.8 over 1.0, [2, 16, 8, 1], batches of 32",
         f"{fmt_time(p['epoch_s']['keep_prob 0.8'])} / {fmt_time(p['epoch_s']['keep_prob 1.0'])}",
         f"{p['ratio']:.2f}x", "<= 1.3x", yes(p["ratio"] <= 1.3)],
    ]


HEADER = ["case", "times (medians)", "measured", "target", "met"]


def markdown(report):
    env = report["environment"]
    lines = ["<!-- Written by benchmarks/compare.py --suite wide; do not edit by hand. -->",
             f"- Machine: {env['cpu']}, {env['cores']} cores; load average at the start "
             f"{report['load_at_start']}, at the end {env['load_average']}",
             f"- Command: `{report['command']}`; date: {report['date']}; medians of "
             f"{report['repeat']} alternating runs",
             f"- The three cat-network fits end with the same cost (largest relative difference "
             f"{report['dual']['cost_agreement']:.1e})", "", markdown_table(HEADER, rows(report))]
    return "\n".join(lines) + "\n"


def main(args, argv):
    repeat = args.repeat or (1 if args.quick else 3)
    load_at_start = load_average()
    print("timing the dual form ...", flush=True)
    dual = dual_case(20 if args.quick else 2500, repeat)
    print("timing sparse input ...", flush=True)
    sparse = sparse_case(*((2000, 5000, 0.002) if args.quick else (20_000, 50_000, 0.002)), repeat)
    print("timing dropout ...", flush=True)
    dropout = dropout_case(repeat, epochs=30 if args.quick else 300)
    report = {"command": "python benchmarks/compare.py " + shlex.join(argv),
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "environment": environment(), "load_at_start": load_at_start, "repeat": repeat,
              "dual": dual, "sparse": sparse, "dropout": dropout}
    print(text_table(HEADER, rows(report)))
    if dual["cost_agreement"] > 1e-6:
        raise SystemExit(f"the cat-network fits disagree ({dual['cost_agreement']:.1e}): no table")
    write_outputs(args, report, markdown(report), BEGIN, END)
    return 0
