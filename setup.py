"""Builds the one compiled extension, fastdl._kernels; all metadata lives in pyproject.toml."""
import os
import platform
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

# FASTDL_DEBUG=1 turns bounds and initialisation checks back on, for a test run that
# catches an out-of-range index in the kernels as an IndexError instead of a wrong number.
DEBUG = os.environ.get("FASTDL_DEBUG", "0") == "1"

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
}

# The safe part of -ffast-math, at compile time only. Never link with -ffast-math (gcc
# would add crtfastmath.o, which sets flush-to-zero for the whole Python process), and
# never -ffinite-math-only (it deletes NaN/inf tests, and the divergence check relies on
# them). What is kept lets loops vectorise: no errno from exp/log (-fno-math-errno), no
# FP traps (-fno-trapping-math), and reassociation for the row sums
# (-fassociative-math needs -fno-signed-zeros). No fused multiply-adds (-ffp-contract=off):
# gcc fused a loop's vector and scalar versions differently, and which one runs depends
# on how close the arrays lie (the vectoriser's overlap check), so Adam on one seed ended
# 1 ulp apart from run to run as the heap moved (see test_kernels' placement tests);
# unfused, the loops also round as the numpy reference does. The CPU-specific code comes from
# target_clones in _fastmath.h, not from -march=native, so a wheel runs anywhere.
# No OpenMP: with the elementwise loops split over 2 threads (for blocks over 65536
# entries), one step of [784, 256, 128, 1] at m=4096 went from 57 to 131 ms and
# [1024, 1024, 1024, 1] at m=1024 from 150 to 175 ms on the 2-core machine: the OpenMP
# workers spin after each loop on the cores the next BLAS call needs (see
# benchmarks/README.md). BLAS threads alone use both cores for the products.
MATH_FLAGS = ["-fno-math-errno", "-fno-trapping-math", "-fno-signed-zeros",
              "-fassociative-math", "-freciprocal-math", "-ffp-contract=off"]
GCC_LIKE = sys.platform != "win32"

if DEBUG:
    # The checks are Cython's (boundscheck, wraparound, initializedcheck above), written into
    # the C as tests that raise IndexError, so gcc keeps them at any -O level. CI runs the
    # whole test suite against this build (.ci/debug_build.sh): 90 s at -O0, 81 s at -O1 on
    # the 2-core machine (3447 tests), so -O0 stays, for the debugger. FASTDL_DEBUG_OPT=-O1
    # is there should the suite outgrow CI's 15 minutes.
    compile_args = [os.environ.get("FASTDL_DEBUG_OPT", "-O0"), "-g"]
elif GCC_LIKE:
    compile_args = ["-O3"] + MATH_FLAGS
else:
    compile_args = ["/O2"]

macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"), ("FASTDL_DEBUG", "1" if DEBUG else "0")]
# libmvec (glibc's vector exp/log1p/tanh) comes with libm on Linux x86-64.
libraries = ["m"] if sys.platform.startswith("linux") else []
if not (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")):
    macros.append(("FDL_NO_LIBMVEC", "1"))

extensions = [
    Extension(
        "fastdl._kernels",
        ["src/fastdl/_kernels.pyx"],
        depends=["src/fastdl/_fastmath.h", "src/fastdl/_workspace.pxi",
                 "src/fastdl/_kernel_wrappers.pxi", "src/fastdl/_dual.pxi",
                 "src/fastdl/_sparse.pxi"],
        include_dirs=[np.get_include(), "src/fastdl"],
        define_macros=macros,
        libraries=libraries,
        extra_compile_args=compile_args,
    )
]


def _build_kind_changed(kind, path=os.path.join("build", "fastdl-build-kind")):
    """Whether this tree's last build was of another kind (debug or release, other flags).

    cythonize and build_ext redo a step only when a source is newer than its output, but the
    generated _kernels.c has the directives written into it: after a build of the other kind
    in the same tree both would keep the old one, giving a FASTDL_DEBUG=1 build that says
    BOUNDSCHECK = True but checks nothing, or a release build that still checks. A change of
    kind therefore regenerates the C (and so recompiles it).
    """
    try:
        with open(path) as f:
            if f.read() == kind:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(kind)
    return True


_kind = repr((sorted(directives.items()), compile_args, macros))
setup(ext_modules=cythonize(extensions, compiler_directives=directives, force=_build_kind_changed(_kind)))
