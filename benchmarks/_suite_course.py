"""compare.py's ``--suite course``: the course's whole ``L_layer_model`` run, fastdl.compat
against the course's numpy code.

The notes' cat network, ``[12288, 20, 7, 5, 1]`` on m = 209 images, 2500 iterations at
learning rate 0.0075, trained twice from the same initialisation (``np.random.seed(1)``,
randn / √n[l−1]) on data of the cat images' shape and scale: once by
``fastdl.compat.deep.L_layer_model`` (one ``Network.fit`` call in fastdl's engine), once by
the notebook's loop in plain numpy (compare.py's ``notes_*`` functions). Each run is timed
whole, in alternating order, ``--repeat`` times (default 3; about 20-40 s a run on 2
cores); the table gives medians. Both must record the same costs (1e-6), or the script
fails: a speed-up of different arithmetic would mean nothing.

    python benchmarks/compare.py --suite course --readme README.md
"""
import datetime
import json
import shlex
import statistics
import sys

import numpy as np

from benchmarks.common import TIMER, make_images
from _compare_report import environment, fmt_time, load_average, markdown_table, text_table, update_readme
from compare import notes_backward, notes_cost, notes_forward, notes_update

from fastdl import Network
from fastdl.compat import deep

LAYERS_DIMS, M = [12288, 20, 7, 5, 1], 209
ITERATIONS, QUICK_ITERATIONS, LEARNING_RATE = 2500, 10, 0.0075
TOLERANCE = 1e-6
BEGIN, END = "<!-- compare.py course: begin -->", "<!-- compare.py course: end -->"
FASTDL, NOTES = "fastdl.compat.deep.L_layer_model", "numpy notes L_layer_model"


def notes_L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000):
    """The notebook's L_layer_model loop in plain numpy: ``(parameters, costs)``."""
    parameters = deep.initialize_parameters_deep(layers_dims)
    L = len(layers_dims) - 1
    costs = []
    for i in range(num_iterations):
        AL, caches = notes_forward(X, parameters, L)
        cost = notes_cost(AL, Y)
        grads = notes_backward(AL, Y, caches)
        parameters = notes_update(parameters, grads, learning_rate, L)
        if i % 100 == 0:
            costs.append(float(cost))
    return parameters, costs


IMPLEMENTATIONS = {FASTDL: deep.L_layer_model, NOTES: notes_L_layer_model}


def max_relative(a, b):
    """The largest |a − b| / max(|b|, 1e-300) over two equally shaped arrays."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def timed_runs(X, Y, iterations, repeat):
    """Per implementation: the seconds of each run and the (parameters, costs) of the last."""
    seconds, outcome = {name: [] for name in IMPLEMENTATIONS}, {}
    for r in range(repeat):
        order = list(IMPLEMENTATIONS) if r % 2 == 0 else list(IMPLEMENTATIONS)[::-1]
        for name in order:
            print(f"  {name}, run {r + 1} of {repeat} ...", flush=True)
            start = TIMER()
            outcome[name] = IMPLEMENTATIONS[name](X, Y, LAYERS_DIMS, LEARNING_RATE, iterations)
            seconds[name].append(TIMER() - start)
    return seconds, outcome


def agreement(outcome):
    """How far fastdl's costs and parameters are from the numpy code's (max relative)."""
    (params, costs), (ref_params, ref_costs) = outcome[FASTDL], outcome[NOTES]
    if len(costs) != len(ref_costs):
        return {"costs": float("inf"), "parameters": float("inf")}
    return {"costs": max_relative(costs, ref_costs),
            "parameters": max(max_relative(params[k], ref_params[k]) for k in ref_params
                              if k.startswith("W"))}


def report_tables(report):
    """``[(title, header, rows)]``: the timing table of one report."""
    med = {name: r["median_s"] for name, r in report["results"].items()}
    n = report["settings"]["iterations"]
    rows = [[name, fmt_time(t), fmt_time(t / n), f"{med[NOTES] / t:.2f}x",
             f"{report['results'][name]['last_cost']:.10g}"] for name, t in med.items()]
    header = ["implementation", f"median time ({n} iterations)", "per iteration",
              "speed-up over the numpy notes code", "last recorded cost"]
    return [(f"L_layer_model, {LAYERS_DIMS} m={M}, {n} iterations, "
             f"learning_rate={LEARNING_RATE}", header, rows)]


def markdown(report):
    env, agree = report["environment"], report["agreement"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v and k in
                         ("fastdl", "numpy", "scipy"))
    lines = [
        "<!-- Written by benchmarks/compare.py --suite course; do not edit by hand, run it again. -->",
        f"- Machine: {env['cpu']}, {env['cores']} cores; load average (1 min) at the start and "
        f"the end: {report['load_at_start']}, {env['load_average']}",
        f"- Command: `{report['command']}`; date: {report['date']}",
        f"- Versions: Python {env['python']}, {versions}; fastdl's engine: `{report['engine']}`",
        f"- Medians of {report['settings']['repeat']} whole runs each, alternating; the same "
        f"initialisation (seed 1) and data (uniform in [0, 1], labels 0/1) for both",
        f"- Same values: the recorded costs agree to {agree['costs']:.1e} and the weights to "
        f"{agree['parameters']:.1e} (largest relative difference)",
    ]
    for title, header, rows in report_tables(report):
        lines += ["", f"#### {title}", "", markdown_table(header, rows)]
    return "\n".join(lines) + "\n"


def main(args, argv):
    """Run the suite with compare.py's ``args`` (--quick, --repeat, --json, --markdown, --readme)."""
    iterations = QUICK_ITERATIONS if args.quick else ITERATIONS
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    if repeat < 1:
        raise SystemExit("--repeat must be >= 1")
    load_at_start = load_average()
    X, Y = make_images(LAYERS_DIMS[0], M)
    print(f"timing L_layer_model {LAYERS_DIMS} m={M}, {iterations} iterations ...", flush=True)
    seconds, outcome = timed_runs(X, Y, iterations, repeat)
    report = {
        "command": "python benchmarks/compare.py " + shlex.join(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "environment": environment(), "load_at_start": load_at_start,
        "engine": Network(LAYERS_DIMS).backend,
        "settings": {"iterations": iterations, "repeat": repeat, "learning_rate": LEARNING_RATE,
                     "layer_dims": LAYERS_DIMS, "m": M},
        "results": {name: {"seconds": s, "median_s": statistics.median(s),
                           "last_cost": outcome[name][1][-1], "costs": outcome[name][1]}
                    for name, s in seconds.items()},
        "agreement": agreement(outcome),
    }
    for title, header, rows in report_tables(report):
        print(f"\n{title}\n{text_table(header, rows)}")
    print(f"\ncosts agree to {report['agreement']['costs']:.1e}, weights to "
          f"{report['agreement']['parameters']:.1e} (largest relative difference)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if not report["agreement"]["costs"] <= TOLERANCE:  # no table for runs that differ
        print(f"error: the costs differ by {report['agreement']['costs']:.1e} > {TOLERANCE}: "
              f"the two runs did not compute the same thing", file=sys.stderr)
        return 1
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(report))
    for path in args.readme:
        update_readme(path, markdown(report), BEGIN, END)
    return 0
