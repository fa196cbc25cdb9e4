"""Importing from benchmarks/ in tests, as asv and compare.py import it."""
import importlib
import os
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def import_benchmarks(*names):
    """Modules from benchmarks/ (``benchmarks`` is the asv package there, and
    ``_compare_peers`` a module beside compare.py).

    The package sets OPENBLAS_THREAD_TIMEOUT for the benchmark processes; the test
    process's environment is put back as it was.
    """
    saved = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        sys.path.remove(str(BENCHMARKS))
        if saved is None:
            os.environ.pop("OPENBLAS_THREAD_TIMEOUT", None)
        else:
            os.environ["OPENBLAS_THREAD_TIMEOUT"] = saved
