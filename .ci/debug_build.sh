#!/usr/bin/env bash
# Build the kernels with bounds and initialisation checks on (FASTDL_DEBUG=1) and run the
# kernel and engine tests against that build. The debug build happens in a temporary copy
# of the tree, so the normal optimised build (and anyone importing it) is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r setup.py pyproject.toml README.md src tests "$tmp"/
rm -f "$tmp"/src/fastdl/_kernels.c "$tmp"/src/fastdl/*.so
cd "$tmp"

FASTDL_DEBUG=1 python setup.py -q build_ext --inplace >/dev/null
export FASTDL_DEBUG=1 PYTHONPATH="$tmp/src"
python -c "import fastdl._kernels as k, sys; \
assert k.BOUNDSCHECK and k.__file__.startswith('$tmp'), k.__file__; print('debug build:', k.__file__)"
python -m pytest -p no:cacheprovider tests/test_kernels.py tests/test_cython_backend.py -q
