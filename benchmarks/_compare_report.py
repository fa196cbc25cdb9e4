"""compare.py's output: the machine and versions, and the tables as text and markdown.

The README's table is this module's markdown, written by the script, never by hand:
the figures always come with the machine, the command and the date that produced them.
"""
import importlib.metadata
import os
import platform

COLUMNS = ["fastdl cython", "fastdl cython (step)", "fastdl numpy", "fastdl numpy (step)",
           "numpy notes", "scikit-learn", "PyTorch", "JAX", "GEMM floor"]
NOTES, FLOOR = "numpy notes", "GEMM floor"
PACKAGES = ["fastdl", "numpy", "scipy", "scikit-learn", "torch", "jax", "threadpoolctl"]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib():
    try:
        with open("/proc/meminfo") as f:
            return round(int(f.readline().split()[1]) / 2**20, 1)  # MemTotal, kB
    except (OSError, ValueError, IndexError):
        return None


def blas_libraries():
    """The BLAS libraries loaded in this process and their threads (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return [{"library": os.path.basename(i.get("filepath", "")), "api": i.get("internal_api"),
             "version": i.get("version"), "threads": i.get("num_threads")}
            for i in threadpool_info()]


def load_average():
    """The 1-minute load average: above the core count, other work shared the machine."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def environment():
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "memory_gib": memory_gib(),
            "load_average": load_average(),
            "platform": platform.platform(), "python": platform.python_version(),
            "versions": versions, "blas": blas_libraries()}


# -- tables -----------------------------------------------------------------------------------

def fmt_time(seconds):
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def fmt_bytes(size):
    if size is None:
        return "–"
    if size < 2**20:
        return f"{size / 2**10:.1f} KiB"
    return f"{size / 2**20:.2f} MiB"


def fmt_ratio(value):
    return "–" if value is None else f"{value:.2f}x"


def case_label(result):
    dims = "-".join(str(n) for n in result["layer_dims"])
    return f"{result['network']} [{dims}] m={result['m']} {result['dtype']}"


def columns(report):
    present = {name for r in report["results"] for name in r["median_s"]}
    return [c for c in COLUMNS if c in present] + sorted(present - set(COLUMNS))


# The speed and memory targets of issues 3, 4 and 11, checked on each run's own figures.
FLOOR_TARGET, SPEEDUP_TARGET, MEMORY_TARGET = 1.10, 5.0, 1.5
FLOOR_NETWORKS, TINY_NETWORKS = ("course", "mnist", "wide"), ("planar", "logistic")
PEER_NETWORKS, PEER_COLUMNS = ("course",), ("numpy notes", "scikit-learn", "PyTorch", "JAX")


def target_rows(report, key):
    """``[target, network, measured, met]`` for every case a target applies to."""
    rows = []
    for r in report["results"]:
        med, label = r[key], case_label(r)
        engine, step, floor, numpy_ = (med.get(c) for c in (
            "fastdl cython", "fastdl cython (step)", FLOOR, "fastdl numpy"))
        if r["network"] in FLOOR_NETWORKS and engine and floor:
            ratio = engine / floor
            rows.append([f"cython engine within {FLOOR_TARGET:.2f}x of the GEMM floor", label,
                         fmt_ratio(ratio), "yes" if ratio <= FLOOR_TARGET else "NO"])
        peers = [med[c] for c in PEER_COLUMNS if med.get(c)]
        if r["network"] in PEER_NETWORKS and engine and peers:
            ratio = engine / min(peers)
            rows.append(["cython engine at or below the fastest peer (1.00x)", label,
                         fmt_ratio(ratio), "yes" if ratio <= 1.0 else "NO"])
        if r["network"] in TINY_NETWORKS and engine and numpy_:
            for name, mine, theirs in (("engine", engine, numpy_),
                                       ("Network.step", step, med.get("fastdl numpy (step)"))):
                if mine and theirs:
                    ratio = theirs / mine
                    rows.append([f"cython {name} {SPEEDUP_TARGET:.0f}x faster than numpy's", label,
                                 fmt_ratio(ratio), "yes" if ratio >= SPEEDUP_TARGET else "NO"])
    for m in report["memory"]:
        if m["backend"] == "cython":
            rows.append([f"peak array memory of fit within {MEMORY_TARGET}x of the minimum",
                         case_label(m), fmt_ratio(m["ratio"]),
                         "yes" if m["ratio"] <= MEMORY_TARGET else "NO"])
    return rows


def tables(report):
    """``[(title, header, rows)]``: times, speed-up over the notes code, time over the floor."""
    cols = columns(report)
    times, speedups, floors = [], [], []
    key = report["settings"].get("statistic", "median") + "_s"
    for r in report["results"]:
        med = r[key]
        label = case_label(r)
        times.append([label] + [fmt_time(med.get(c)) for c in cols])
        notes, floor = med.get(NOTES), med.get(FLOOR)
        speedups.append([label] + [fmt_ratio(notes / med[c] if notes and c in med else None)
                                   for c in cols if c != NOTES])
        floors.append([label] + [fmt_ratio(med[c] / floor if floor and c in med else None)
                                 for c in cols if c != FLOOR])
    stat = "Median" if key == "median_s" else "Fastest (min)"
    out = [(f"{stat} time of one training iteration", ["network"] + cols, times),
           ("Speed-up over the numpy notes code (its time / this time; higher is faster)",
            ["network"] + [c for c in cols if c != NOTES], speedups),
           ("Time over the GEMM floor (this time / the matrix products alone; 1.00x is the floor)",
            ["network"] + [c for c in cols if c != FLOOR], floors)]
    targets = target_rows(report, key)
    if targets:
        out.insert(0, ("Targets (from this run's figures)",
                       ["target", "network", "measured", "met"], targets))
    if report["memory"]:
        rows = [[case_label(m), m["backend"], fmt_bytes(m["minimum_bytes"]),
                 fmt_bytes(m["peak_bytes"]), fmt_ratio(m["ratio"]),
                 fmt_bytes(m.get("everything_bytes")),
                 fmt_ratio(m["everything_bytes"] / m["minimum_bytes"]
                           if m.get("everything_bytes") else None)] for m in report["memory"]]
        out.append((f"Peak memory of fit ({report['memory'][0]['epochs']} full-batch epochs) "
                    "over the minimum (parameters + gradients + one batch of activations): "
                    "array data, counted by numpy's allocator, and everything, arrays and "
                    "Python objects, counted by tracemalloc",
                    ["network", "backend", "minimum", "arrays", "ratio", "everything", "ratio"],
                    rows))
    return out


def text_table(header, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def skipped_lines(report):
    return [f"{name}: {reason}" for name, reason in sorted(report["skipped"].items())]


def text_report(report):
    parts = [f"\n{title}\n{text_table(header, rows)}" for title, header, rows in tables(report)]
    parts += ["", *("skipped: " + s for s in skipped_lines(report))]
    return "\n".join(parts)


def rounds(report):
    """"15" or "5–15": the rounds per case (fewer where a round takes long)."""
    counts = sorted({r.get("rounds", report["settings"]["repeat"]) for r in report["results"]})
    if not counts:
        return "0"
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


def markdown_report(report):
    env, settings = report["environment"], report["settings"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    blas = env["blas"] if isinstance(env["blas"], str) else "; ".join(
        f"{b['library']} ({b['api']} {b['version']}, {b['threads']} threads)" for b in env["blas"])
    lines = [
        "<!-- Written by benchmarks/compare.py; do not edit by hand, run it again. -->",
        "### fastdl against the alternatives: one training iteration", "",
        f"- Machine: {env['cpu']}, {env['cores']} cores, {env['memory_gib']} GiB; {env['platform']}",
        f"- Command: `{report['command']}`",
        f"- Date: {report['date']}",
        f"- Load average (1 min) at the start and the end: {report.get('load_at_start')}, "
        f"{env.get('load_average')} on {env['cores']} cores (above the core count, other work "
        f"shared the machine and the times are noisy)",
        f"- Versions: Python {env['python']}, {versions}",
        f"- BLAS: {blas or 'none loaded'}",
        f"- One full-batch gradient-descent iteration (forward, cost, backward, update), ReLU hidden "
        f"layers, sigmoid output, cross-entropy, same data and initial parameters for all; "
        f"{'medians' if settings.get('statistic', 'median') == 'median' else 'the fastest'} "
        f"of {rounds(report)} interleaved rounds, each sample after "
        f"{1000 * settings.get('warm_up_s', 0):g} ms of untimed calls; OPENBLAS_THREAD_TIMEOUT="
        f"{settings['OPENBLAS_THREAD_TIMEOUT']}. \"fastdl X\" is the engine call that `fit` makes per "
        f"batch, \"(step)\" the public, validating `Network.step`.",
    ]
    for name in skipped_lines(report):
        lines.append(f"- Skipped: {name}")
    for title, header, rows in tables(report):
        lines += ["", f"#### {title}", "", markdown_table(header, rows)]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- compare.py: begin -->", "<!-- compare.py: end -->"


def update_readme(path, markdown, begin=BEGIN, end=END):
    """Put ``markdown`` between the ``begin`` and ``end`` markers of ``path``, keeping the rest."""
    with open(path) as f:
        text = f.read()
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise SystemExit(f"{path} has no {begin} ... {end} section to write the table into")
    with open(path, "w") as f:
        f.write(text[:start + len(begin)] + "\n" + markdown + text[stop:])


def write_outputs(args, report, markdown, begin, end):
    """A suite's --json (the report), --markdown and --readme (between begin and end)."""
    import json

    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown)
    for path in args.readme:
        update_readme(path, markdown, begin, end)
