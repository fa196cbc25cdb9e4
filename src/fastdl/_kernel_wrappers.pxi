# Included by _kernels.pyx: each kernel alone, callable from Python, for the tests.
# The training engine does not use these (a call per kernel loses on small networks);
# they run the very same C loops and BLAS calls as Workspace.run. all_within is the
# exception: the validation layer calls it.


def all_within(cnp.ndarray x, double low=-INFINITY, double high=INFINITY):
    """Whether every entry of ``x`` is finite and within [low, high]; None when x is not
    a contiguous float32/float64 array (the caller then checks with numpy)."""
    cdef size_t size = <size_t>cnp.PyArray_SIZE(x)
    cdef int ok
    cdef int typenum = cnp.PyArray_TYPE(x)
    if not (cnp.PyArray_IS_C_CONTIGUOUS(x) or cnp.PyArray_IS_F_CONTIGUOUS(x)):
        return None
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            ok = fdl_all_within_d(<const double*>cnp.PyArray_DATA(x), size, low, high)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            ok = fdl_all_within_f(<const float*>cnp.PyArray_DATA(x), size, <float>low,
                                  <float>high)
    else:
        return None
    return bool(ok)


def all_pairs_finite(list pairs):
    """Whether every array of a list of (W, b) pairs is finite: all_within on each, in one
    call (a training step asks after every update); None when one is not a contiguous
    float32/float64 array."""
    cdef object result
    for pair in pairs:
        for array in pair:
            result = all_within(array)
            if result is None or not result:
                return result
    return True


def gemm(bint trans_a, bint trans_b, double alpha,
         const floating[:, ::1] A,    # IN
         const floating[:, ::1] B,    # IN
         double beta,
         floating[:, ::1] C):         # IN/OUT
    """C := alpha op(A) op(B) + beta C for row-major arrays, through scipy's BLAS."""
    cdef int K = A.shape[0] if trans_a else A.shape[1]
    with nogil:
        _gemm[floating](trans_a, trans_b, C.shape[0], C.shape[1], K, <floating>alpha,
                        &A[0, 0], A.shape[1], &B[0, 0], B.shape[1], <floating>beta,
                        &C[0, 0], C.shape[1])


cdef int _raise_fault(fdl_fault* fault) except -1:
    if fault.status:
        raise ActivationFault(0, fault.status, fault.z)
    return 0


def activation_forward(int act,
                       const floating[:, ::1] lin,  # IN: W A_prev
                       const floating[:, ::1] b,    # IN: (n, 1)
                       floating[:, ::1] A,          # OUT: g(lin + b); may be lin itself
                       double slope=0.01, size_t g=0, size_t gprime=0,
                       floating[:, ::1] G=None):    # OUT: g'(z), custom activations only
    """A = g(lin + b): the bias and the activation in one pass (``g``, ``gprime``: a custom
    activation's C function pointers, for ``act == ACTIVATION_CODES['custom']``, which also
    writes g'(z) into ``G`` when given). A failing custom function raises ActivationFault."""
    cdef fdl_fault fault
    fault.status = 0
    with nogil:
        _forward[floating](act, <floating>slope, A.shape[0], A.shape[1], &lin[0, 0], &b[0, 0],
                           &A[0, 0], &G[0, 0] if G is not None else NULL, NULL, NULL,
                           <void*>g, <void*>gprime, &fault)
    _raise_fault(&fault)


def activation_backward(int act,
                        const floating[:, ::1] dA,  # IN
                        const floating[:, ::1] A,   # IN: g(Z), from which g' is computed
                        floating[:, ::1] dZ,        # OUT: dA * g'(Z); may be dA or A itself
                        floating[:, ::1] db,        # OUT: (1/m) rowsum(dZ), (n, 1)
                        double slope=0.01):
    """dZ = dA * g'(Z) and db = (1/m) Σ_rows dZ in one pass, g' taken from A."""
    cdef int m = dZ.shape[1]
    cdef double[::1] sums = np.empty(dZ.shape[0])
    with nogil:
        _backward[floating](act, <floating>slope, dZ.shape[0], m, m, m, <double>m, True, True,
                            &dA[0, 0], &A[0, 0], NULL, NULL, &dZ[0, 0], &sums[0], &db[0, 0])


def output_layer(int act,
                 const floating[:, ::1] lin,  # IN: W[L] A[L−1]
                 const floating[:, ::1] b,    # IN: (n, 1)
                 const floating[:, :] Y,      # IN: any order
                 floating[:, ::1] dZ,         # OUT: dZ[L]; may be lin itself
                 floating[:, ::1] db,         # OUT: rowsum(dZ[L]) / norm
                 double slope=0.01,
                 const floating[::1] weights=None):  # IN: per-example weights (m,)
    """J, with dZ[L] and db[L], from z = lin + b in one pass (cross-entropy for a
    sigmoid output, categorical cross-entropy for softmax, half the Poisson deviance for
    exp, else (1/2m) Σ (A − Y)²); with ``weights``, each example counts w times and the
    sums are divided by Σw instead of m."""
    cdef double J, norm = dZ.shape[1]
    cdef Py_ssize_t ys0 = Y.strides[0] // sizeof(floating), ys1 = Y.strides[1] // sizeof(floating)
    cdef const floating* w = NULL
    cdef fdl_fault fault
    fault.status = 0
    if weights is not None:
        w = &weights[0]
        norm = _sum[floating](w, weights.shape[0])
    with nogil:
        J = _output[floating](act, <floating>slope, dZ.shape[0], dZ.shape[1], &lin[0, 0],
                              &b[0, 0], &Y[0, 0], ys0, ys1, w, norm, &dZ[0, 0], &db[0, 0],
                              NULL, NULL, &fault)
    return J


def softmax(const floating[:, ::1] lin,  # IN
            const floating[:, ::1] b,    # IN: (n, 1)
            floating[:, ::1] A):         # OUT: column-wise softmax of lin + b
    """A = softmax(lin + b) over each column (the stable form: the maximum subtracted)."""
    with nogil:
        _softmax[floating](A.shape[0], A.shape[1], &lin[0, 0], &b[0, 0], NULL, 0, 0, &A[0, 0], NULL)


def sum_of_squares(const floating[:, ::1] W):  # IN
    """Σ W², accumulated in double (the L2 term of the cost)."""
    return _sumsq[floating](&W[0, 0], W.shape[0] * W.shape[1])


def gd_update(floating[:, ::1] theta,      # IN/OUT
              const floating[:, ::1] d,    # IN
              double learning_rate):
    """theta := theta − α d, in place."""
    with nogil:
        _update[floating](&theta[0, 0], &d[0, 0], <floating>learning_rate,
                          theta.shape[0] * theta.shape[1])


cdef int _same_shape(name, floating[:, ::1] a, const floating[:, ::1] b) except -1:
    if a.shape[0] != b.shape[0] or a.shape[1] != b.shape[1]:
        raise ValueError(f"{name} has shape {(b.shape[0], b.shape[1])}; "
                         f"expected {(a.shape[0], a.shape[1])}")
    return 0


def momentum_update(floating[:, ::1] theta,      # IN/OUT
                    const floating[:, ::1] d,    # IN
                    floating[:, ::1] v,          # IN/OUT: the velocity
                    double beta, double learning_rate, bint nesterov=False):
    """v := βv + (1 − β) d, then theta := theta − α v (Nesterov: theta −= α (βv + (1 − β) d)),
    in one pass."""
    _same_shape("d", theta, d)
    _same_shape("v", theta, v)
    with nogil:
        _momentum[floating](&theta[0, 0], &d[0, 0], &v[0, 0], beta, learning_rate, nesterov,
                            theta.shape[0] * theta.shape[1])


def adam_update(floating[:, ::1] theta,      # IN/OUT
                const floating[:, ::1] d,    # IN
                floating[:, ::1] v,          # IN/OUT: first moment
                floating[:, ::1] s,          # IN/OUT: second moment
                double beta1, double beta2, double epsilon, double learning_rate, int t):
    """Adam's t-th update (t from 1), bias-corrected, in one pass."""
    cdef Call c
    _same_shape("d", theta, d)
    _same_shape("v", theta, v)
    _same_shape("s", theta, s)
    c.beta1, c.beta2, c.eps, c.lr = beta1, beta2, epsilon, learning_rate
    c.c1, c.c2 = 1 - beta1 ** t, 1 - beta2 ** t
    with nogil:
        _adam[floating](&theta[0, 0], &d[0, 0], &v[0, 0], &s[0, 0], &c,
                        theta.shape[0] * theta.shape[1])


def accepts_cost(double J, double limit=INFINITY):
    """Whether the compiled iteration would apply an update after cost ``J``: False for
    NaN, ±inf and anything above ``limit``. Tests that the build kept IEEE semantics."""
    return _accept(J, limit)


def draw_dropout(rng, floating[::1] out, double keep):  # OUT: the units' D/keep, in order
    """The compiled iteration's dropout draw alone (see _draw_mask), from ``rng``'s bit
    generator under its lock: what the tests hold against DropoutMasks."""
    bits = rng.bit_generator
    cdef bitgen_t* gen = <bitgen_t*>PyCapsule_GetPointer(bits.capsule, "BitGenerator")
    with bits.lock, nogil:
        _draw_mask[floating](gen, &out[0], out.shape[0], keep)
