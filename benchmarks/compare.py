#!/usr/bin/env python
"""fastdl beside the tools a user would pick instead: one training iteration, same network, same data.

Each contender runs one full-batch gradient-descent iteration (forward, cost, backward,
update; ReLU hidden layers, a sigmoid output, cross-entropy) from the same initial
parameters on the same data:

* fastdl, each available backend, through the engine (what ``fit`` runs per batch) and
  through the public, validating ``Network.step``;
* "numpy notes": the course notebook's code (the seed's formulas, written as the notes
  write them, caches and all) in plain numpy;
* scikit-learn's ``MLPClassifier`` (one ``partial_fit`` epoch with batch_size=m, plain SGD);
* PyTorch on the CPU (forward, BCE loss, backward, SGD step), and JAX where installed;
* the GEMM floor: the network's matrix products alone (forward W·A, backward dZ·Aᵀ and
  Wᵀ·dZ but no dA[0]) through scipy's BLAS on preallocated arrays: no implementation
  that does these products can be faster.

Timing is interleaved: every round runs each contender once (in a rotating order), so a
slow spell of the machine hits all of them alike; the table gives medians over the
rounds (or, with ``--statistic min``, the fastest round). A peer that is not installed
is skipped, and the output says so.

    python benchmarks/compare.py                       # all networks, float64 and float32
    python benchmarks/compare.py --quick               # a few seconds (CI)
    python benchmarks/compare.py --markdown benchmarks/RESULTS.md --json results.json
    python benchmarks/compare.py --markdown benchmarks/RESULTS.md --readme README.md benchmarks/README.md
"""
import os

# Before numpy and scipy load their OpenBLAS copies; why: benchmarks/benchmarks/__init__.py.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmarks.common import (LEARNING_RATE, NETWORKS, SEED, make_data,  # noqa: E402
                               measure_training_memory)
from _compare_peers import PEERS, Unavailable, gemm_floor  # noqa: E402
from _compare_report import (environment, load_average, markdown_report, text_report,  # noqa: E402
                             update_readme)

import fastdl  # noqa: E402
from fastdl._backends import available_backends  # noqa: E402
from fastdl._optimizers import GradientDescent  # noqa: E402

TIMER = timeit.default_timer  # wall clock: BLAS runs on several threads
QUICK_NETWORKS = ["planar", "logistic"]
MIN_ROUNDS = 5
NOTES = "numpy notes"
FLOOR = "GEMM floor"


# -- the course notebook's code, as written there ----------------------------------------

def notes_forward(X, parameters, L):
    caches = []
    A = X
    for l in range(1, L):
        A_prev = A
        Z = np.dot(parameters["W" + str(l)], A_prev) + parameters["b" + str(l)]
        A = np.maximum(0, Z)
        caches.append(((A_prev, parameters["W" + str(l)], parameters["b" + str(l)]), Z))
    Z = np.dot(parameters["W" + str(L)], A) + parameters["b" + str(L)]
    AL = 1 / (1 + np.exp(-Z))
    caches.append(((A, parameters["W" + str(L)], parameters["b" + str(L)]), Z))
    return AL, caches


def notes_cost(AL, Y):
    m = Y.shape[1]
    cost = -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    return np.squeeze(cost)


def notes_linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def notes_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    linear_cache, Z = caches[L - 1]
    s = 1 / (1 + np.exp(-Z))
    dZ = dAL * s * (1 - s)
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = \
        notes_linear_backward(dZ, linear_cache)
    for l in reversed(range(L - 1)):
        linear_cache, Z = caches[l]
        dZ = np.array(grads["dA" + str(l + 1)], copy=True)
        dZ[Z <= 0] = 0
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = \
            notes_linear_backward(dZ, linear_cache)
    return grads


def notes_update(parameters, grads, learning_rate, L):
    for l in range(L):
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
    return parameters


def numpy_notes(params, X, Y, dtype):
    """One iteration of the notebook's L_layer_model loop body."""
    L = len(params)
    parameters = {}
    for l, (W, b) in enumerate(params, start=1):
        parameters["W" + str(l)], parameters["b" + str(l)] = W.copy(), b.copy()

    def iteration():
        AL, caches = notes_forward(X, parameters, L)
        cost = notes_cost(AL, Y)
        grads = notes_backward(AL, Y, caches)
        parameters.update(notes_update(parameters, grads, LEARNING_RATE, L))
        return cost

    return iteration


# -- fastdl ----------------------------------------------------------------------------------

def fastdl_contenders(layer_dims, dtype, backends):
    """name -> factory(params, X, Y, dtype) for fastdl's engine and Network.step per backend."""
    def make(backend, public):
        def factory(params, X, Y, dtype):
            net = fastdl.Network(layer_dims, dtype=dtype, seed=SEED, backend=backend)
            net.set_parameters({f"{p}{l}": a for l, (W, b) in enumerate(params, 1)
                                for p, a in (("W", W), ("b", b))})
            if public:
                return lambda: net.step(X, Y, LEARNING_RATE)
            engine, optimizer = net._engine, GradientDescent(LEARNING_RATE)
            return lambda: engine.step(net._params, X, Y, optimizer, None)
        return factory

    out = {}
    for backend in backends:
        out[f"fastdl {backend}"] = make(backend, public=False)
        out[f"fastdl {backend} (step)"] = make(backend, public=True)
    return out


# -- timing ----------------------------------------------------------------------------------

def calibrate(fn, target):
    """Calls per sample so that one sample lasts about ``target`` seconds (at least 1)."""
    start = TIMER()
    fn()
    once = TIMER() - start
    return max(1, int(target / max(once, 1e-9)))


def interleaved(callables, repeat, target, budget, warm_up=0.0):
    """Per contender: the seconds per call of each round, in a new random order each round.

    Before each timed sample the contender runs untimed for ``warm_up`` seconds (at least
    one call): the sample then measures it in the steady state of its own training loop,
    after the previous contender's idle threads have stopped spinning. PyTorch's OpenMP
    workers spin for several ms after each call, on the same two cores: measured on
    ``[12288, 20, 7, 5, 1]`` m=209 float32, the engine's call right after PyTorch's took
    8.2 ms, after 20 ms of its own calls 2.9 ms (PyTorch's: 5.4 and 4.2 ms).
    The order is shuffled (with a fixed seed) rather than rotated, so that a slow spell of
    the machine, or what warm-up leaves of another library's threads, hits all alike.

    ``repeat`` rounds, or fewer (but at least :data:`MIN_ROUNDS`) where that many would
    take more than ``budget`` seconds: on the large networks a single round of every
    contender takes seconds on 2 cores, and the medians settle well before 25 rounds.
    """
    numbers, round_time = {}, 0.0
    for name, fn in callables.items():
        start = TIMER()
        numbers[name] = calibrate(fn, target)
        round_time += max(target, TIMER() - start) + warm_up  # a sample lasts about this long
    rounds = max(min(repeat, MIN_ROUNDS), min(repeat, int(budget / round_time)))
    samples = {name: [] for name in callables}
    names, order = list(callables), random.Random(SEED)
    for _ in range(rounds):
        for name in order.sample(names, len(names)):
            fn, number = callables[name], numbers[name]
            start = TIMER()
            fn()
            while TIMER() - start < warm_up:
                fn()
            start = TIMER()
            for _ in range(number):
                fn()
            samples[name].append((TIMER() - start) / number)
    return samples, numbers


def run_case(layer_dims, m, dtype, backends, peers, repeat, target, budget, skipped,
             warm_up=0.0):
    """Time every contender on one (network, dtype); returns the JSON record."""
    X, Y = make_data(layer_dims[0], m, dtype)
    params = fastdl.Network(layer_dims, dtype=dtype, seed=SEED, backend="numpy")._params
    factories = dict(fastdl_contenders(layer_dims, dtype, backends))
    factories[NOTES] = numpy_notes
    factories.update(peers)
    factories[FLOOR] = gemm_floor
    callables, first_costs = {}, {}
    for name, factory in factories.items():
        try:
            fn = factory(params, X, Y, dtype)
        except Unavailable as reason:
            skipped.setdefault(name, str(reason))
            continue
        callables[name] = fn
        if name != FLOOR:
            first_costs[name] = float(fn())  # J before the first update, same start for all
    check_costs(first_costs, dtype, layer_dims, m)
    samples, numbers = interleaved(callables, repeat, target, budget, warm_up)
    return {
        "network": name_of(layer_dims, m), "layer_dims": list(layer_dims), "m": m, "dtype": dtype,
        "median_s": {k: float(np.median(v)) for k, v in samples.items()},
        "min_s": {k: float(np.min(v)) for k, v in samples.items()},
        "samples_s": {k: [float(t) for t in v] for k, v in samples.items()},
        "rounds": len(next(iter(samples.values()))), "calls_per_sample": numbers,
        "first_cost": first_costs,
    }


def check_costs(first_costs, dtype, layer_dims, m):
    """Warn if the contenders disagree on J before the first update: then they would not
    be running the same network on the same data, and the comparison would mean nothing."""
    if not first_costs:
        return
    reference = first_costs.get(NOTES, next(iter(first_costs.values())))
    tolerance = 1e-3 if dtype == "float32" else 1e-8
    for name, J in first_costs.items():
        if not abs(J - reference) <= tolerance * max(1.0, abs(reference)):
            print(f"warning: {name} starts at J={J:.8g} on {layer_dims} m={m} {dtype}, "
                  f"the notes code at J={reference:.8g}", file=sys.stderr)


def name_of(layer_dims, m):
    for name, (dims, size) in NETWORKS.items():
        if list(dims) == list(layer_dims) and size == m:
            return name
    return "custom"


def memory_records(cases, backends, epochs=3):
    """Peak memory of a short fit per (network, dtype, backend) against the minimum."""
    records = []
    for layer_dims, m, dtype in cases:
        X, Y = make_data(layer_dims[0], m, dtype)
        for backend in backends:
            use = measure_training_memory(layer_dims, X, Y, dtype, backend, epochs=epochs)
            records.append({"network": name_of(layer_dims, m), "layer_dims": list(layer_dims),
                            "m": m, "dtype": dtype, "backend": backend, "epochs": epochs,
                            "peak_bytes": use.arrays, "everything_bytes": use.everything,
                            "minimum_bytes": use.minimum, "ratio": use.ratio})
    return records


# -- command line ----------------------------------------------------------------------------

def parse_shape(text):
    """A network name from NETWORKS, or ``n0,n1,...,nL:m`` (e.g. ``2,4,1:400``)."""
    if text in NETWORKS:
        dims, m = NETWORKS[text]
        return list(dims), m
    try:
        dims, m = text.split(":")
        layer_dims = [int(n) for n in dims.split(",")]
        m = int(m)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a network name ({sorted(NETWORKS)}) nor 'n0,n1,...,nL:m'") from None
    if len(layer_dims) < 2 or min(layer_dims + [m]) < 1 or layer_dims[-1] != 1:
        raise argparse.ArgumentTypeError(f"{text!r}: need at least two positive sizes ending in 1, and m >= 1")
    return layer_dims, m


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"a few seconds: {QUICK_NETWORKS}, 3 rounds, short samples")
    parser.add_argument("--shapes", nargs="+", type=parse_shape, metavar="SHAPE",
                        help=f"network names {list(NETWORKS)} or 'n0,...,nL:m' (default: all)")
    parser.add_argument("--dtypes", nargs="+", choices=["float64", "float32"],
                        default=["float64", "float32"])
    parser.add_argument("--repeat", type=int, help="rounds per case (default 25, quick 3)")
    parser.add_argument("--sample-time", type=float,
                        help="seconds one sample aims at (default and quick 0.002): short "
                             "samples keep a stall of the machine in few of them")
    parser.add_argument("--warm-up", type=float, metavar="SECONDS",
                        help="untimed calls before each sample, for at least this long "
                             "(default 0.02, quick 0.002): each contender is timed in its "
                             "own steady state, after the last one's idle threads have "
                             "stopped spinning (PyTorch's OpenMP workers spin for ms)")
    parser.add_argument("--statistic", choices=["median", "min"], default="median",
                        help="what the tables show (JSON has both): the median of the rounds, "
                             "or the fastest, for machines whose stalls hit most rounds")
    parser.add_argument("--case-time", type=float, default=30.0, metavar="SECONDS",
                        help=f"fewer rounds (not under {MIN_ROUNDS}) where --repeat would take "
                             "longer than this per network and dtype (default 30)")
    parser.add_argument("--json", metavar="PATH", help="write every sample and the settings")
    parser.add_argument("--markdown", metavar="PATH", help="write the tables as markdown")
    parser.add_argument("--readme", metavar="PATH", nargs="+", default=[],
                        help="write the markdown into each PATH between its "
                             "'<!-- compare.py: begin/end -->' markers (README.md, "
                             "benchmarks/README.md)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME",
                        help=f"leave out these peers (of {list(PEERS)})")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--suite", choices=["iteration", "course", "sklearn", "wide"],
                        default="iteration",
                        help="'iteration' (default): one training iteration, as above; 'course': "
                             "the course's whole L_layer_model run, fastdl.compat against the "
                             "numpy notes code (benchmarks/_suite_course.py; it takes --quick, "
                             "--repeat, --json, --markdown and --readme, whose section there is "
                             "'<!-- compare.py course: begin/end -->'); 'sklearn': "
                             "fastdl.sklearn against scikit-learn's MLP, whole fits "
                             "(benchmarks/_suite_sklearn.py; the same options, section "
                             "'<!-- compare.py sklearn: begin/end -->'); 'wide': the dual "
                             "form, sparse input and dropout (benchmarks/_suite_wide.py, "
                             "section '<!-- compare.py wide: begin/end -->')")
    args = parser.parse_args(argv)
    if args.suite in ("course", "sklearn", "wide"):
        return args  # the suites have their own defaults
    if args.shapes is None:
        args.shapes = [parse_shape(n) for n in (QUICK_NETWORKS if args.quick else NETWORKS)]
    if args.repeat is None:
        args.repeat = 3 if args.quick else 25
    if args.sample_time is None:
        args.sample_time = 0.002
    if args.warm_up is None:
        args.warm_up = 0.002 if args.quick else 0.02
    unknown = sorted(set(args.skip) - set(PEERS))
    if unknown:
        parser.error(f"--skip: {unknown} are not peers; expected names from {sorted(PEERS)}")
    if args.repeat < 1 or args.sample_time <= 0 or args.warm_up < 0:
        parser.error("--repeat must be >= 1, --sample-time > 0 and --warm-up >= 0")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.suite == "course":
        from _suite_course import main as course_main

        return course_main(args, argv)
    if args.suite == "sklearn":
        from _suite_sklearn import main as sklearn_main

        return sklearn_main(args, argv)
    if args.suite == "wide":
        from _suite_wide import main as wide_main

        return wide_main(args, argv)
    load_at_start = load_average()
    backends = sorted(available_backends(), key=["cython", "numpy"].index)
    for missing in sorted({"cython", "numpy"} - set(backends)):
        print(f"skipped: fastdl {missing} (backend not available here)")
    skipped = {f"fastdl {b}": "backend not available here" for b in {"cython", "numpy"} - set(backends)}
    peers = {name: factory for name, factory in PEERS.items() if name not in args.skip}
    skipped.update({name: "left out (--skip)" for name in args.skip})
    cases = [(dims, m, dtype) for dims, m in args.shapes for dtype in args.dtypes]
    results = []
    for layer_dims, m, dtype in cases:
        print(f"timing {layer_dims} m={m} {dtype} ...", flush=True)
        results.append(run_case(layer_dims, m, dtype, backends, peers, args.repeat,
                                args.sample_time, args.case_time, skipped, args.warm_up))
    memory = [] if args.no_memory else memory_records(cases, backends)
    report = {
        "command": "python benchmarks/compare.py " + shlex.join(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "environment": environment(), "load_at_start": load_at_start,
        "settings": {"repeat": args.repeat, "sample_time_s": args.sample_time,
                     "warm_up_s": args.warm_up,
                     "statistic": args.statistic,
                     "case_time_s": args.case_time,
                     "learning_rate": LEARNING_RATE, "hidden": "relu", "output": "sigmoid",
                     "OPENBLAS_THREAD_TIMEOUT": os.environ.get("OPENBLAS_THREAD_TIMEOUT")},
        "skipped": skipped, "results": results, "memory": memory,
    }
    print(text_report(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown_report(report))
    for path in args.readme:
        update_readme(path, markdown_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
