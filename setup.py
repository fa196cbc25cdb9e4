"""Builds the one compiled extension, fastdl._kernels; all metadata lives in pyproject.toml."""
import os

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

extensions = [
    Extension(
        "fastdl._kernels",
        ["src/fastdl/_kernels.pyx"],
        extra_compile_args=["-O0", "-g"] if DEBUG else ["-O3"],
    )
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
