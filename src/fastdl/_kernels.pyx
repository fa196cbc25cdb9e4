# cython: language_level=3
"""Compiled kernels for the "cython" backend (typed memoryviews, nogil, scipy's BLAS)."""
from libc.math cimport exp

ctypedef fused floating:
    float
    double


cdef inline floating _sigmoid(floating z) noexcept nogil:
    # Branch on the sign so exp never overflows.
    cdef floating e
    if z >= 0:
        return 1 / (1 + exp(-z))
    e = exp(z)
    return e / (1 + e)


def sigmoid_forward(const floating[:, ::1] Z,  # IN
                    floating[:, ::1] A):       # OUT
    """A = σ(Z), elementwise."""
    cdef Py_ssize_t i, j
    with nogil:
        for i in range(Z.shape[0]):
            for j in range(Z.shape[1]):
                A[i, j] = _sigmoid(Z[i, j])
