"""Smoke tests of benchmarks/: the asv suite and compare.py run, on tiny cases.

Nothing is timed or compared here (speed is measured by the benchmarks themselves,
never asserted in tests). Neither asv, PyTorch nor scikit-learn is needed: each asv
class's ``setup`` and benchmark bodies are called directly, as asv would call them.
"""
import itertools
import json
import subprocess
import sys

import pytest

from benchmark_modules import BENCHMARKS, import_benchmarks

MODULES = ["bench_activations", "bench_propagation", "bench_training", "bench_sklearn", "bench_compat",
           "bench_wide"]
PREFIXES = ("time_", "track_", "peakmem_", "mem_")
# The cheapest value of an axis, where the first one is not.
SMALL = {"network": "planar"}
# Axes whose every value runs.
EVERY = ("backend", "optimizer", "impl", "keep_prob", "first_layer")


def _classes():
    modules = import_benchmarks(*(f"benchmarks.{name}" for name in MODULES))
    return [cls for module in modules for cls in vars(module).values()
            if isinstance(cls, type) and cls.__module__ == module.__name__
            and any(name.startswith(PREFIXES) for name in dir(cls))]


def _small_combinations(cls):
    """Every backend, optimizer and implementation, and the first (or cheapest) value of
    every other axis."""
    axes = []
    for name, values in zip(cls.param_names, cls.params):
        if name in EVERY:
            axes.append(values)
        else:
            axes.append([SMALL[name]] if SMALL.get(name) in values else values[:1])
    return list(itertools.product(*axes))


@pytest.mark.parametrize("cls", _classes(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_asv_benchmark_runs(cls):
    ran = 0
    for params in _small_combinations(cls):
        bench = cls()
        try:
            bench.setup(*params)
        except NotImplementedError:  # asv's skip: e.g. a backend not built here
            continue
        for name in sorted(n for n in dir(cls) if n.startswith(PREFIXES)):
            result = getattr(bench, name)(*params)
            if name.startswith("track_"):
                assert isinstance(result, float)
        ran += 1
    assert ran, f"every combination of {cls.__name__} was skipped"


def test_compare_quick_writes_json_markdown_and_readme(tmp_path):
    out_json, out_md, readme = (tmp_path / name for name in ("c.json", "c.md", "README.md"))
    readme.write_text("# Title\n<!-- compare.py: begin -->\nold table\n<!-- compare.py: end -->\nrest\n")
    # The peers are left out here (importing them alone takes seconds); test_peer_runs
    # covers the installed ones.
    command = [sys.executable, str(BENCHMARKS / "compare.py"), "--quick", "--repeat", "1",
               "--shapes", "3,4,1:16", "2,1:8", "--skip", "scikit-learn", "PyTorch", "JAX",
               "--json", str(out_json), "--markdown", str(out_md), "--readme", str(readme)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out_json.read_text())
    assert [r["layer_dims"] for r in report["results"]][::2] == [[3, 4, 1], [2, 1]]
    assert "numpy notes" in report["results"][0]["median_s"]
    assert "GEMM floor" in out_md.read_text()
    text = readme.read_text()
    assert text.startswith("# Title\n<!-- compare.py: begin -->\n") and text.endswith("rest\n")
    assert "old table" not in text and out_md.read_text() in text


def test_compare_warms_each_contender_up_before_its_timed_sample():
    compare, = import_benchmarks("compare")
    calls = {"a": 0, "b": 0}

    def counter(name):
        def call():
            calls[name] += 1
        return call

    samples, numbers = compare.interleaved({n: counter(n) for n in calls}, repeat=3, target=1e-6,
                                           budget=10.0, warm_up=0.0)
    assert [len(v) for v in samples.values()] == [3, 3]
    # calibrate's call, then per round one untimed warm-up call and the timed ones.
    assert calls == {n: 1 + 3 * (1 + numbers[n]) for n in calls}


def test_the_course_target_compares_the_engine_with_the_fastest_peer():
    report_module, = import_benchmarks("_compare_report")
    medians = {"fastdl cython": 4.0, "GEMM floor": 4.1, "numpy notes": 6.0, "PyTorch": 3.9}
    report = {"results": [{"network": "course", "layer_dims": [12288, 20, 7, 5, 1], "m": 209,
                           "dtype": "float32", "median_s": medians}], "memory": []}
    rows = {row[0]: row for row in report_module.target_rows(report, "median_s")}
    peer = rows["cython engine at or below the fastest peer (1.00x)"]
    assert peer[3] == "NO" and peer[2].startswith("1.03")
    medians["PyTorch"] = 4.0
    rows = {row[0]: row for row in report_module.target_rows(report, "median_s")}
    assert rows["cython engine at or below the fastest peer (1.00x)"][3] == "yes"


def test_compare_course_suite_writes_its_own_readme_section(tmp_path):
    """Catches the course suite writing into (or wiping) the iteration suite's section."""
    out_json, readme = tmp_path / "c.json", tmp_path / "README.md"
    readme.write_text("# T\n<!-- compare.py: begin -->\nA\n<!-- compare.py: end -->\n"
                      "<!-- compare.py course: begin -->\nold\n<!-- compare.py course: end -->\nrest\n")
    command = [sys.executable, str(BENCHMARKS / "compare.py"), "--suite", "course", "--quick",
               "--json", str(out_json), "--readme", str(readme)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out_json.read_text())
    assert sorted(report["results"]) == ["fastdl.compat.deep.L_layer_model", "numpy notes L_layer_model"]
    assert report["agreement"]["costs"] <= 1e-6 and report["settings"]["layer_dims"] == [12288, 20, 7, 5, 1]
    text = readme.read_text()
    assert text.startswith("# T\n<!-- compare.py: begin -->\nA\n<!-- compare.py: end -->\n"
                           "<!-- compare.py course: begin -->\n<!-- Written by benchmarks/compare.py --suite course")
    assert "| numpy notes L_layer_model |" in text and "old" not in text
    assert text.endswith("<!-- compare.py course: end -->\nrest\n")


def test_compare_sklearn_suite_writes_its_own_readme_section(tmp_path):
    """The scikit-learn suite runs every data set and solver, both libraries reach the
    same test score, and its table lands in its own section."""
    pytest.importorskip("sklearn")
    out_json, readme = tmp_path / "s.json", tmp_path / "README.md"
    readme.write_text("# T\n<!-- compare.py: begin -->\nA\n<!-- compare.py: end -->\n"
                      "<!-- compare.py sklearn: begin -->\nold\n<!-- compare.py sklearn: end -->\nrest\n")
    command = [sys.executable, str(BENCHMARKS / "compare.py"), "--suite", "sklearn", "--quick",
               "--json", str(out_json), "--readme", str(readme)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out_json.read_text())
    assert [(r["data"], r["solver"]) for r in report["results"]][:3] == [
        ("breast_cancer", "adam"), ("breast_cancer", "sgd"), ("breast_cancer", "lbfgs")]
    assert len(report["results"]) == 9
    for result in report["results"]:
        scores = result["test_score"]
        assert scores["fastdl"] == pytest.approx(scores["scikit-learn"], abs=0.02), result["data"]
    text = readme.read_text()
    assert "<!-- Written by benchmarks/compare.py --suite sklearn" in text and "old" not in text
    assert text.startswith("# T\n<!-- compare.py: begin -->\nA\n") and text.endswith("rest\n")


def test_compare_wide_suite_runs_and_writes_its_own_section(tmp_path):
    """The wide suite's three parts run (quick sizes) and its table lands in its section."""
    pytest.importorskip("sklearn")
    out_json, readme = tmp_path / "w.json", tmp_path / "README.md"
    readme.write_text("# T\n<!-- compare.py wide: begin -->\nold\n<!-- compare.py wide: end -->\nrest\n")
    command = [sys.executable, str(BENCHMARKS / "compare.py"), "--suite", "wide", "--quick",
               "--json", str(out_json), "--readme", str(readme)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out_json.read_text())
    assert report["dual"]["cost_agreement"] <= 1e-6
    assert set(report["sparse"]["adam_s"]) == {"fastdl adam", "scikit-learn adam"}
    assert report["sparse"]["memory"]["peak_bytes"] > report["sparse"]["memory"]["sparse_bytes"]
    text = readme.read_text()
    assert "--suite wide" in text and "old" not in text and text.endswith("rest\n")


@pytest.mark.parametrize("peer, module", [("scikit-learn", "sklearn"), ("PyTorch", "torch"),
                                          ("JAX", "jax"), ("GEMM floor", "scipy")])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_peer_runs(peer, module, dtype):
    """Each installed peer of compare.py runs an iteration and starts from fastdl's cost."""
    pytest.importorskip(module)
    (peers,) = import_benchmarks("_compare_peers")
    import numpy as np

    import fastdl

    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 10)).astype(dtype)
    Y = (rng.random((1, 10)) > 0.5).astype(dtype)
    net = fastdl.Network([3, 4, 1], dtype=dtype, seed=0, backend="numpy")
    factory = peers.gemm_floor if peer == "GEMM floor" else peers.PEERS[peer]
    iteration = factory(net._params, X, Y, dtype)
    J = iteration()
    if peer != "GEMM floor":
        assert float(J) == pytest.approx(net.cost(X, Y), rel=1e-4)
