#!/usr/bin/env bash
# Build the kernels with bounds and initialisation checks on (FASTDL_DEBUG=1) and run the
# WHOLE test suite (all of tests/, whatever files it holds) against that build: any test
# that reaches the compiled engine can then catch an out-of-range index as an IndexError.
# The debug build happens in a temporary copy of the tree, so the normal optimised build
# (and anyone importing it) is never touched. It runs in the current environment, which
# must have the test extra installed (pip install ".[test]": Cython, setuptools, numpy and
# scipy build the module in place).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# benchmarks/ too: tests import the asv suite from ../benchmarks (tests/benchmark_modules.py).
cp -r setup.py pyproject.toml README.md src tests benchmarks "$tmp"/
rm -rf "$tmp"/src/fastdl/_kernels.c "$tmp"/src/fastdl/*.so "$tmp"/src/*.egg-info "$tmp"/build
find "$tmp" -name __pycache__ -type d -prune -exec rm -rf {} +
cd "$tmp"

FASTDL_DEBUG=1 python setup.py -q build_ext --inplace >build.log 2>&1 || { cat build.log; exit 1; }
export FASTDL_DEBUG=1 PYTHONPATH="$tmp/src"
python -c "import fastdl, fastdl._kernels as k; \
assert k.BOUNDSCHECK and k.__file__.startswith('$tmp') and fastdl.__file__.startswith('$tmp'), \
(fastdl.__file__, k.__file__); print('debug build:', k.__file__)"
echo "debug build took $((SECONDS - start)) s"
python -m pytest -p no:cacheprovider -q --durations=10 tests
echo "debug build and its whole suite took $((SECONDS - start)) s"
