"""asv benchmarks for fastdl (numpy/scipy layout: ``benchmarks/benchmarks/bench_*.py``).

Why ``OPENBLAS_THREAD_TIMEOUT`` is set here: numpy and scipy each bundle their own
OpenBLAS. The numpy backend multiplies through numpy's copy, the compiled backend
through scipy's. After a BLAS call each copy's idle worker threads keep spinning for a
while (OpenBLAS's default timeout is 2**28 cycles, about 0.1 s), and on a 2-core machine
they take the cores that the *other* copy's next GEMM needs (seen here: +40% on a GEMM
that follows the other library's GEMM). Letting idle threads sleep at once keeps the
numbers of interleaved benchmarks from depending on what ran just before. It only
takes effect before either library loads, so it is set in the first module asv
imports; a value already in the environment wins.
"""
import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # 2**4 cycles, the minimum OpenBLAS accepts
